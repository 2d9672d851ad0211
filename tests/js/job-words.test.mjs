// How the popup says where a job stands (extension/popup/job-words.js): the current job and the
// recent-jobs list use these words, so a job reads the same in both.
// Run with: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { countStates, factsOfJob, jobVerdict } from "../../extension/popup/job-words.js";

test("a running job says how many of its students finished, cancelled ones apart", () => {
  const verdict = jobVerdict({ running: true, counts: { done: 3, not_submitted: 1, failed: 1, working: 2 }, total: 30 });
  assert.deepEqual(verdict, { state: "running", text: "Running: 5 of 30 students finished" });
  assert.match(jobVerdict({ running: true, counts: { cancelled: 2 }, total: 3 }).text, /0 of 3 students finished, 2 cancelled/);
});

test("a job stopped for login is never 'Finished': it says to log in to eTMA", () => {
  const verdict = jobVerdict({ outcome: "needs_login", counts: { done: 4, needs_login: 26 }, total: 30 });
  assert.equal(verdict.state, "needs_login");
  assert.match(verdict.text, /^Stopped: log in to eTMA/);
  assert.doesNotMatch(verdict.text, /Finished/);
});

test("a wrong eTMA address says to check it, from the ledger's outcome or the background's error", () => {
  for (const facts of [{ outcome: "wrong_address", total: 30 }, { error: { text: "…", wrongEtmaAddress: true }, total: 30 }]) {
    const verdict = jobVerdict(facts);
    assert.equal(verdict.state, "wrong_address");
    assert.match(verdict.text, /check the eTMA address in the options/);
  }
});

test("cancelled, disk full, finished and a job whose helper stopped each have their words", () => {
  assert.equal(jobVerdict({ outcome: "cancelled", counts: { done: 12, cancelled: 18 }, total: 30 }).text,
    "Cancelled: 12 of 30 students finished, 18 cancelled");
  assert.equal(jobVerdict({ outcome: "disk_full", counts: { done: 2, failed: 1 }, total: 3 }).state, "disk_full");
  assert.equal(jobVerdict({ outcome: "finished", counts: { done: 1 }, total: 1 }).text, "Finished: 1 student");
  assert.equal(jobVerdict({ outcome: null, counts: { done: 1 }, total: 2 }).text, "Stopped before the end: 1 of 2 students finished");
  assert.equal(jobVerdict({ outcome: "finished", error: { text: "x" }, total: 2 }).state, "stopped");
});

test("the background's job gives the same facts whether read live or from its summary", () => {
  const students = { A1234567: { state: "done" }, B1234567: { state: "needs_login" }, C1234567: { state: "working" } };
  assert.deepEqual(countStates(students), { done: 1, needs_login: 1, working: 1 });
  const live = factsOfJob({ running: true, total: 3, students, summary: null, error: null });
  assert.deepEqual(live, { running: true, outcome: null, counts: { done: 1, needs_login: 1, working: 1 }, total: 3, error: null });
  const ended = factsOfJob({ running: false, total: 3, students,
    summary: { outcome: "needs_login", counts: { done: 1, needs_login: 2 } }, error: null });
  assert.equal(ended.outcome, "needs_login");
  assert.deepEqual(ended.counts, { done: 1, needs_login: 2 });
  assert.equal(jobVerdict(ended).state, "needs_login");
});
