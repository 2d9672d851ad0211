// The background's part of third marking (extension/background/third-marking.js): the tutor's
// saved rule for the `flags` request, and the flagged students kept for the work allocation —
// taken once, kept apart by module and assignment, and dropped when they are hours old.
// The browser's storage is a small in-memory stand-in with the same get/set/remove calls.
import assert from "node:assert/strict";
import { test } from "node:test";

function area() {
  let items = {};
  return {
    get: async (key) => (key in items ? { [key]: structuredClone(items[key]) } : {}),
    set: async (values) => { items = { ...items, ...structuredClone(values) }; },
    remove: async (key) => { delete items[key]; },
  };
}
globalThis.chrome = { storage: { sync: area(), session: area() } };
const { KEEP_FOR_MS, RULE_KEY, exportRequest, keepFlagged, savedRule, takeFlagged, worksheetMarksFields } =
  await import("../../extension/background/third-marking.js");

test("the flagged students are taken once, by module and assignment however the page writes it", async () => {
  assert.deepEqual(await keepFlagged({ module: "tm351", assignment: "TMA 02", pis: ["p1234567", "Q7654321", "P1234567"] }),
    { kept: 2 });
  await keepFlagged({ module: "TM351", assignment: "TMA03", pis: ["R1111111"] });
  assert.deepEqual(await takeFlagged({ module: "TM351", assignment: "TMA01" }), { pis: [] });
  assert.deepEqual(await takeFlagged({ module: "TM351", assignment: "tma02" }), { pis: ["P1234567", "Q7654321"] });
  assert.deepEqual(await takeFlagged({ module: "TM351", assignment: "TMA02" }), { pis: [] });
  assert.deepEqual(await takeFlagged({ module: "TM351", assignment: "TMA03" }), { pis: ["R1111111"] });
});

test("a selection hours old is dropped unused", async (t) => {
  const start = Date.now();
  t.mock.method(Date, "now", () => start);
  await keepFlagged({ module: "M269", assignment: "TMA01", pis: ["P1234567"] });
  Date.now.mock.mockImplementation(() => start + KEEP_FOR_MS + 1);
  assert.deepEqual(await takeFlagged({ module: "M269", assignment: "TMA01" }), { pis: [] });
});

test("what is not a module or a list of PIs is refused, and nothing is kept", async () => {
  assert.ok((await keepFlagged({ module: "not a module", assignment: "TMA01", pis: [] })).error);
  assert.ok((await keepFlagged({ module: "M250", assignment: "TMA01", pis: ["<img>"] })).error);
  assert.ok((await keepFlagged({ module: "M250", assignment: "TMA01", pis: "P1234567" })).error);
  assert.deepEqual(await takeFlagged({ module: "M250", assignment: "TMA01" }), { pis: [] });
});

test("the rule goes with the request only as the tutor saved it", async () => {
  assert.deepEqual(await savedRule(), {});
  await globalThis.chrome.storage.sync.set({ [RULE_KEY]: { threshold: 20, boundaries: [80, 60], bands: ["A", "B", "C"] } });
  assert.deepEqual(await savedRule(), { threshold: 20, boundaries: [80, 60], bands: ["A", "B", "C"] });
  await globalThis.chrome.storage.sync.set({ [RULE_KEY]: { threshold: "20", boundaries: ["x"], bands: [1] } });
  assert.deepEqual(await savedRule(), {});
});

test("an export request carries the page's module, rows and choice, the saved rule, and nothing else", () => {
  const rows = [{ pi: "P1234567", question: "Q1", max: "10", first: "7", second: "4" }];
  assert.deepEqual(exportRequest({ module: "TM351", assignment: "TMA02", rows, students: "flagged",
    rule: { threshold: 20 }, threshold: 99, path: "/etc/passwd", folder: "/tmp" }),
  { module: "TM351", assignment: "TMA02", rows, students: "flagged", threshold: 20 });
  assert.deepEqual(exportRequest({ module: "TM351", rows, students: ["P1234567"] }),
    { module: "TM351", rows, students: ["P1234567"] });
  // Anything else is the default, the flagged students; the helper checks the rest.
  assert.equal(exportRequest({ module: "TM351", rows, students: { all: true } }).students, "flagged");
  assert.equal(exportRequest({ module: "TM351", rows, students: [7] }).students, "flagged");
  assert.deepEqual(exportRequest({}), { module: "", rows: [], students: "flagged" });
});

test("Fill marks passes on the module, assignment and marks rows, and never a path from the page", () => {
  const rows = [{ pi: "P1234567", question: "Q1", max: "10", first: "7", second: "4" }];
  assert.deepEqual(worksheetMarksFields({ module: "TM351", assignment: "TMA 02", rows, path: "/etc/passwd", worksheet: "x" }),
    { module: "TM351", assignment: "TMA 02", rows });
  assert.deepEqual(worksheetMarksFields({ module: 7, rows: "nope" }), { module: "", rows: [] });
  assert.deepEqual(worksheetMarksFields({ module: "TM351", rows, start: 130 }), { module: "TM351", rows, start: 130 });
});
