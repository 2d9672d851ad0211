// What the OSCAR page says, worked out from the students' records (extension/content/words.js):
// row words and detail lines, live counts, progress, headlines, who "Run again" and "Retry
// failed" take, the nothing-submitted list, and names tidied as the helper takes them.
// words.js is a classic script that adds oscar.words to globalThis.etmaOscar; importing it runs it.
import assert from "node:assert/strict";
import { test } from "node:test";

import "../../extension/lib/protocol.js";
import "../../extension/lib/shared.js";

globalThis.etmaOscar = {};
await import("../../extension/content/words.js");
const words = globalThis.etmaOscar.words;

const records = (entries) => new Map(Object.entries(entries).map(([pi, state]) =>
  [pi, typeof state === "string" ? { pi, state } : { pi, ...state }]));

test("a finished download's row gives its folder as text, shortened to what tells students apart", () => {
  const record = { state: "done", action: "download", files: ["a", "b"], code: "K7M2-Q9XD",
    folder: "/home/tutor/Downloads/eTMA/TM351/TMA02/P1234567" };
  assert.equal(words.statusWords(record), "Done – 2 files · Code K7M2-Q9XD");
  assert.equal(words.detailWords(record), "Folder …/TM351/TMA02/P1234567");
  assert.equal(words.shortFolder("TM351/P1"), "TM351/P1");
});

test("a reason the words do not already say is in the detail line; one they say is not repeated", () => {
  assert.equal(words.detailWords({ state: "failed", reason: "HTTP 500 from eTMA." }), "");
  assert.equal(words.detailWords({ state: "cancelled", reason: "Cancelled before it started." }),
    "Cancelled before it started.");
  assert.equal(words.detailWords({ state: "done", reason: "Already downloaded earlier.", folder: "/a/b/c/d" }),
    "Already downloaded earlier. · Folder …/b/c/d");
  assert.equal(words.detailWords({ state: "not_submitted", reason: "Nothing submitted for TMA02 on eTMA." }), "");
  assert.equal(words.detailWords(null), "");
});

test("live counts name every state, 0 included, and only final states count", () => {
  const all = records({ A1: "done", B2: "done", C3: "failed", D4: "not_submitted", E5: "working", F6: "needs_login" });
  const counts = words.jobCounts(new Set(["A1", "B2", "C3", "D4", "E5", "F6"]), all);
  assert.deepEqual(counts, { done: 2, not_submitted: 1, failed: 1, needs_login: 1, cancelled: 0 });
  assert.deepEqual(words.liveCountWords({ done: 2 }).map((part) => part.text),
    ["2 done", "0 failed", "0 not submitted", "0 need login"]);
});

test("no progress words when nothing ran; cancelled students are counted apart", () => {
  assert.equal(words.progressWords({ total: 1, running: false, accepted: false, finished: 0, cancelled: 0 }), "");
  assert.equal(words.progressWords({ total: 300, running: true, accepted: true, finished: 12, cancelled: 0 }), "12 of 300");
  assert.equal(words.progressWords({ total: 300, running: false, accepted: true, finished: 180, cancelled: 120 }),
    "180 of 300 finished, 120 cancelled");
});

test("each ending has its headline", () => {
  const counts = { done: 170, not_submitted: 10, failed: 0, needs_login: 0, cancelled: 120 };
  assert.equal(words.summaryHeadline({ outcome: "cancelled", counts }, 300), "Cancelled: 180 of 300 finished.");
  assert.equal(words.summaryHeadline({ outcome: "finished", counts: { done: 25, not_submitted: 5 } }, 30),
    "Finished: 25 done, 5 with nothing submitted.");
  assert.equal(words.summaryHeadline({ outcome: "needs_login", counts: { done: 8, not_submitted: 1, needs_login: 21 } }, 30),
    "Log in to eTMA again, then press Run again to finish the rest (21 students).");
  assert.match(words.summaryHeadline({ outcome: "disk_full", stopped_because: "The disk is full." }, 3), /^Stopped: The disk is full\./);
  assert.equal(words.jobWords("codes", 1), "Getting confirmation codes for 1 student.");
  assert.equal(words.jobWords("download", 30), "Downloading scripts for 30 students.");
});

test("Run again takes every student that did not end well, Retry failed only the failed, in table order", () => {
  const order = ["A1", "B2", "C3", "D4", "E5", "F6", "G7"];
  const all = records({ A1: "done", B2: "needs_login", C3: "failed", D4: "not_submitted", E5: "cancelled", F6: "needs_login" });
  const job = new Set(["F6", "E5", "D4", "C3", "B2", "A1"]); // G7 was not in the job
  assert.deepEqual(words.unfinishedKeys(order, job, all), ["B2", "C3", "E5", "F6"]);
  assert.deepEqual(words.failedKeys(order, job, all), ["C3"]);
});

test("the nothing-submitted list gives OSCAR's name, the PI, and the date and late flag eTMA showed", () => {
  const order = ["A1", "B2", "C3"];
  const all = records({
    A1: { state: "not_submitted", name: "From eTMA" },
    B2: "done",
    C3: { state: "not_submitted", submitted: "2024-03-11T14:22", late: true },
  });
  const names = { A1: "Ada Lovelace", C3: "" };
  assert.deepEqual(words.notSubmittedLines(order, new Set(order), all, (key) => names[key]),
    ["Ada Lovelace (A1)", "C3 – submitted 11/03/2024 14:22, marked late"]);
  assert.equal(words.submittedWords("2024-03-11"), "11/03/2024");
});

test("a name is tidied as the helper takes it: one line, no controls or bidi overrides, 200 characters", () => {
  assert.equal(words.tidyName("  Ada\n\tLovelace\u202e "), "Ada Lovelace");
  assert.equal(words.tidyName("\u0000\u2028"), "");
  assert.equal([...words.tidyName("é".repeat(250))].length, 200);
});
