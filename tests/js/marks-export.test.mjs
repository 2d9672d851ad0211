// The marks page's Export marks worksheet (extension/content/marks-export.js): what it sends (the
// marks as `flags` takes them, each student's name once) and what it says about what the helper
// wrote. marks-export.js is a classic script that adds oscar.marksExport to globalThis.etmaOscar;
// importing it runs it, after the parts it reads (the real marks reading; the toolbar stubbed).
import assert from "node:assert/strict";
import { test } from "node:test";

import "../../extension/lib/protocol.js";
import "../../extension/lib/shared.js";

globalThis.etmaDom = { element: () => ({}) };
globalThis.etmaOscar = {
  state: { OWN_CELL: "etma-helper-cell", page: {} },
  reading: { findModuleAndAssignment: () => ({ module: "TM351", assignment: "TMA02" }) },
  toolbar: { showMessage: () => {}, showProblem: () => {} },
};
await import("../../extension/content/marks-reading.js");
await import("../../extension/content/marks-export.js");
const { exportRows, writtenWords } = globalThis.etmaOscar.marksExport;

test("the marks go as flags takes them, with each student's name on their first row only", () => {
  const read = {
    questions: [{ name: "Q1", maximum: "10", weight: "" }, { name: "Q2", maximum: "20", weight: "2" }],
    students: [
      { pi: "P1234567", name: "Ada Lovelace", first: ["7", "12"], second: ["4", ""] },
      { pi: "Q7654321", name: "", first: ["9", "18"], second: ["9", "17"] },
      { pi: "R1111111", name: "N".repeat(250), first: ["1", "2"], second: ["1", "2"] },
    ],
  };
  const rows = exportRows(read, read.students);
  assert.deepEqual(rows.slice(0, 4), [
    { pi: "P1234567", question: "Q1", max: "10", weight: "", first: "7", second: "4", name: "Ada Lovelace" },
    { pi: "P1234567", question: "Q2", max: "20", weight: "2", first: "12", second: "" },
    { pi: "Q7654321", question: "Q1", max: "10", weight: "", first: "9", second: "9" },
    { pi: "Q7654321", question: "Q2", max: "20", weight: "2", first: "18", second: "17" },
  ]);
  // A name longer than the helper takes is cut to its 200 characters, not refused.
  assert.equal(rows[4].name.length, 200);
  assert.deepEqual(exportRows(read, read.students.slice(1, 2)).map((row) => row.pi), ["Q7654321", "Q7654321"]);
});

test("the message says where the worksheet went, what was kept, and who has no code yet", () => {
  const path = "/home/tutor/Downloads/eTMA/TM351/third_marking.xlsx";
  assert.equal(writtenWords({ path, rows: 1, kept: 0, without_code: 0, note: "" }),
    `Worksheet for 1 student written to ${path}.`);
  assert.equal(writtenWords({ path, rows: 6, kept: 3, without_code: 2, note: "" }),
    `Worksheet for 6 students written to ${path}; what you typed for 3 students is kept; 2 without a `
    + "confirmation code yet: get their codes on the work allocation page (Select flagged, then Get "
    + "confirmation codes) and export again.");
  assert.equal(writtenWords({ path, rows: 2, kept: 1, without_code: 0, note: "The codes table could not be read." }),
    `Worksheet for 2 students written to ${path}; what you typed for 1 student is kept. The codes table could not be read.`);
});
