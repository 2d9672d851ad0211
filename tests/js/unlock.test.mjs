// Codes into OSCAR for the students who need them (extension/content/unlock.js): who Fill codes
// takes and who it leaves out, what OSCAR's reply to one student's unlock means, and the words
// the panel, the rows and the summary use. unlock.js is a classic script that adds oscar.unlock to
// globalThis.etmaOscar; importing it runs it (its DOM parts are only reached when used).
import assert from "node:assert/strict";
import { test } from "node:test";

import "../../extension/lib/protocol.js";
import "../../extension/lib/shared.js";

globalThis.etmaOscar = {};
await import("../../extension/content/unlock.js");
const unlock = globalThis.etmaOscar.unlock;

const ORDER = ["A1", "B2", "C3", "D4", "E5", "F6"];
const facts = ({ selected = [], codes = ORDER, unlocked = [], noField = [] } = {}) => ({
  order: ORDER,
  selected: new Set(selected),
  hasCode: (key) => codes.includes(key),
  isUnlocked: (key) => unlocked.includes(key),
  hasField: (key) => !noField.includes(key),
});

test("with students selected, only they are taken, in table order, never one already unlocked", () => {
  const choice = unlock.chooseStudents(facts({ selected: ["E5", "A1", "C3", "D4"], codes: ["A1", "C3", "E5"], unlocked: ["C3"] }));
  assert.equal(choice.basis, "selected");
  assert.deepEqual(choice.take, ["A1", "E5"]);
  assert.deepEqual(choice.left, { unlocked: ["C3"], noCode: ["D4"], noField: [] });
  assert.equal(unlock.basisWords(choice), "For the 4 selected students.");
  assert.equal(unlock.leftOutWords(choice),
    "Left out: 1 already unlocked, 1 with no code fetched yet (press Get confirmation codes first).");
});

test("with no one selected, the still-locked students whose code was fetched are taken", () => {
  const choice = unlock.chooseStudents(facts({ codes: ["A1", "B2", "D4", "F6"], unlocked: ["B2", "C3"], noField: ["F6"] }));
  assert.equal(choice.basis, "locked");
  assert.deepEqual(choice.take, ["A1", "D4"]);
  // A student without a fetched code is not one this could take: not counted as left out.
  assert.deepEqual(choice.left, { unlocked: ["B2"], noCode: [], noField: ["F6"] });
  assert.match(unlock.basisWords(choice), /^No one is selected, so this takes every student whose code was fetched and whose third marking is still locked\.$/);
  assert.equal(unlock.leftOutWords(choice), "Left out: 1 already unlocked, 1 with no code field on this page.");
  assert.equal(unlock.leftOutWords(unlock.chooseStudents(facts())), "");
});

test("a reply whose row no longer asks for a code is an unlock; one that still asks is a refusal in OSCAR's words", () => {
  assert.deepEqual(unlock.readAnswer({ status: 200, signIn: false, row: { hasField: false },
    pageTexts: ["Third marking unlocked for A1 (Ada)."] }), { outcome: "unlocked", reason: "Third marking unlocked for A1 (Ada)." });
  assert.deepEqual(unlock.readAnswer({ status: 200, signIn: false, row: { hasField: true },
    pageTexts: ["The confirmation code is not correct for A1."] }),
  { outcome: "refused", reason: "The confirmation code is not correct for A1." });
  // A message in the row itself comes first; the same words twice are said once.
  assert.equal(unlock.readAnswer({ status: 200, signIn: false, row: { hasField: true },
    rowTexts: ["Code  expired"], pageTexts: ["Code expired", "Please try again."] }).reason, "Code expired Please try again.");
  assert.deepEqual(unlock.readAnswer({ status: 200, signIn: false, row: { hasField: true } }),
    { outcome: "refused", reason: "OSCAR did not unlock it and gave no reason." });
});

test("a reply without the table is read by its words: unlocked only when nothing says otherwise", () => {
  assert.equal(unlock.readAnswer({ status: 200, signIn: false, row: null, pageTexts: ["Third marking unlocked for A1"] }).outcome, "unlocked");
  assert.equal(unlock.readAnswer({ status: 200, signIn: false, row: null, pageTexts: ["Third marking is already unlocked for A1."] }).outcome, "unlocked");
  assert.equal(unlock.readAnswer({ status: 200, signIn: false, row: null, pageTexts: ["Third marking not unlocked: code invalid"] }).outcome, "refused");
  assert.equal(unlock.readAnswer({ status: 200, signIn: false, row: null, pageTexts: ["Confirmation"] }).outcome, "refused");
});

test("a sign-in page or an HTTP error is said as such, and a long answer is cut", () => {
  assert.deepEqual(unlock.readAnswer({ status: 200, signIn: true, row: null }),
    { outcome: "sign_in", reason: "OSCAR asked you to sign in again." });
  assert.deepEqual(unlock.readAnswer({ status: 500, signIn: false, row: null, pageTexts: ["Internal error"] }),
    { outcome: "error", reason: "OSCAR answered HTTP 500: Internal error" });
  assert.equal(unlock.readAnswer({ status: 403, signIn: false, row: null }).reason, "OSCAR answered HTTP 403.");
  const long = unlock.readAnswer({ status: 200, signIn: false, row: { hasField: true }, pageTexts: ["x".repeat(1000)] }).reason;
  assert.equal(long.length, 300);
  assert.ok(long.endsWith("…"));
});

test("the row's words and the summary name each student OSCAR did not unlock, with its reason", () => {
  assert.equal(unlock.resultWords({ outcome: "unlocked" }), "Third marking unlocked");
  assert.equal(unlock.resultWords({ outcome: "refused", reason: "Wrong code." }), "Not unlocked: OSCAR said “Wrong code.”");
  assert.equal(unlock.resultWords({ outcome: "error", reason: "OSCAR answered HTTP 500." }), "Not unlocked: OSCAR answered HTTP 500.");
  assert.equal(unlock.resultWords(undefined), "");
  const names = { A1: "Ada Lovelace", B2: "Alan Turing" };
  assert.equal(unlock.unlockSummary([{ key: "A1", result: { outcome: "unlocked" } }], (key) => names[key]),
    "Unlocked 1 of 1 student in OSCAR.");
  assert.equal(unlock.unlockSummary([
    { key: "A1", result: { outcome: "unlocked" } },
    { key: "B2", result: { outcome: "refused", reason: "Wrong code." } },
  ], (key) => names[key]), "Unlocked 1 of 2 students in OSCAR. Not unlocked: Alan Turing (B2): OSCAR said “Wrong code.”");
});

test("once OSCAR asks to sign in again, the rest are counted, not listed", () => {
  const summary = unlock.unlockSummary([
    { key: "A1", result: { outcome: "unlocked" } },
    { key: "B2", result: { outcome: "sign_in", reason: "" } },
    { key: "C3", result: { outcome: "not_sent", reason: "OSCAR asked you to sign in again first." } },
  ], () => "");
  assert.equal(summary, "Unlocked 1 of 3 students in OSCAR. OSCAR asked you to sign in again: sign in, then press Fill codes again to unlock the rest (2 students).");
});
