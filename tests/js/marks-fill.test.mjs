// Fill marks on the marks page (extension/content/marks-fill.js): what it would do for each
// student from the worksheet's marks and what OSCAR holds, how OSCAR's answer to a saved form is
// read, and the words of the panel and the summary. marks-fill.js is a classic script that adds
// oscar.marksFill to globalThis.etmaOscar; importing it runs it (its DOM parts are only reached
// when used).
import assert from "node:assert/strict";
import { test } from "node:test";

import "../../extension/lib/protocol.js";
import "../../extension/lib/shared.js";

globalThis.etmaOscar = {};
await import("../../extension/content/unlock.js");
await import("../../extension/content/marks-fill.js");
const fill = globalThis.etmaOscar.marksFill;

const wanted = (marks, comment = "", code = "ABCD-1234") => ({
  marks: Object.entries(marks).map(([question, mark]) => ({ question, mark })), comment, code,
});
const held = (marks, comment = "") => ({ marks, comment });

test("a locked student needs unlocking with their code, or cannot be filled without one", () => {
  assert.equal(fill.planFor(wanted({ Q1: "7" }), null), "unlock");
  assert.equal(fill.planFor(wanted({ Q1: "7" }, "", ""), null), "no_code");
  assert.equal(fill.planWords("unlock", "ABCD-1234"), "Needs unlocking with code ABCD-1234, then fill");
});

test("an empty form is filled; the same marks are skipped however they are written", () => {
  assert.equal(fill.planFor(wanted({ Q1: "7", Q2: "2.5" }), held({ Q1: "", Q2: "" })), "fill");
  assert.equal(fill.planFor(wanted({ Q1: "7", Q2: "2.5" }, "Good.\nMore."), held({ Q1: "7.0", Q2: "2.50" }, "Good.\r\nMore. ")),
    "same");
});

test("other marks or another comment in OSCAR are a difference the tutor decides", () => {
  assert.equal(fill.planFor(wanted({ Q1: "7", Q2: "3" }), held({ Q1: "7", Q2: "4" })), "differs");
  assert.equal(fill.planFor(wanted({ Q1: "7" }, "mine"), held({ Q1: "7" }, "typed in OSCAR")), "differs");
  assert.equal(fill.planFor(wanted({ Q1: "7" }), held({ Q1: "" }, "only a comment")), "differs");
});

test("marks read in the questions' order, a missing one as a dash", () => {
  assert.equal(fill.marksWords({ Q2: "3", Q1: "7.50" }, ["Q1", "Q2", "Q3"]), "Q1 7.5 · Q2 3 · Q3 –");
});

const sent = { marks: { Q1: "7", Q2: "2.5" }, comment: "Good.\nMore." };

test("saved: OSCAR shows back exactly what was sent, and no field has an error", () => {
  const answer = fill.saveAnswer({ status: 200, signIn: false, sent,
    shownBack: { marks: { Q1: "7", Q2: "2.50" }, comment: "Good. More." }, fieldErrors: [], pageTexts: ["Third marks saved for P1234567"] });
  assert.deepEqual(answer, { outcome: "saved", reason: "Third marks saved for P1234567" });
});

test("refused: OSCAR's errors next to the fields are the reason; marks shown back from before are not a save", () => {
  const errors = fill.saveAnswer({ status: 200, signIn: false, sent, shownBack: null,
    fieldErrors: ["Q2: The mark must be between 0 and 2."], pageTexts: ["The third marks were not saved."] });
  assert.deepEqual(errors, { outcome: "refused", reason: "Q2: The mark must be between 0 and 2." });
  const older = fill.saveAnswer({ status: 200, signIn: false, sent,
    shownBack: { marks: { Q1: "1", Q2: "1" }, comment: "" }, pageTexts: ["This record is being edited by another user."] });
  assert.deepEqual(older, { outcome: "refused", reason: "This record is being edited by another user." });
  assert.equal(fill.saveAnswer({ status: 200, signIn: false, sent, shownBack: null }).reason,
    "OSCAR did not show the marks saved, and gave no reason.");
});

test("a sign-in page or an HTTP error is said as such", () => {
  assert.equal(fill.saveAnswer({ status: 200, signIn: true, sent, shownBack: null }).outcome, "sign_in");
  assert.deepEqual(fill.saveAnswer({ status: 500, signIn: false, sent, shownBack: null, pageTexts: ["Server error"] }),
    { outcome: "error", reason: "OSCAR answered HTTP 500: Server error" });
});

test("the summary counts the saved, names who was not and why, and the marks kept by choice", () => {
  const results = [
    { name: "Ada Lovelace", pi: "P1234567", result: { outcome: "saved", reason: "" } },
    { name: "", pi: "Q7654321", result: { outcome: "refused", reason: "Locked by another user." } },
    { name: "Alan Turing", pi: "R1111111", result: { outcome: "same", reason: "" } },
  ];
  assert.equal(fill.fillSummary(results, 1),
    "Saved third marks for 1 of 3 students in OSCAR. 1 already showed the same marks. Not saved: "
    + "Q7654321 (Q7654321): OSCAR said “Locked by another user.” Kept the marks OSCAR holds for 1 student, as you chose.");
  assert.equal(fill.resultWords({ outcome: "kept", reason: "you did not tick Replace." }), "Not replaced: you did not tick Replace.");
});

test("Replace holds only for the marks the preview showed", () => {
  assert.ok(fill.sameHeld(held({ Q1: "7", Q2: "" }, "a\nb"), held({ Q1: "7.0", Q2: "" }, "a b")));
  assert.ok(!fill.sameHeld(held({ Q1: "7" }), held({ Q1: "8" })));
  assert.ok(!fill.sameHeld(null, held({ Q1: "8" })));
});
