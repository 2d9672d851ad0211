/*
 * eTMA Helper on the OSCAR page — codes for the students who need them, and unlocking several
 * in one go. Who Fill codes takes (the selected students, or with none selected those whose code
 * was fetched and whose third marking is still locked; never one already unlocked), and, on the
 * tutor's real confirmation in the fill panel (content/fill.js), each student's own "Unlock third
 * marking" form sent to OSCAR one after another in the background of the page: the same form,
 * with the page's own fields as they are now, to the page's own origin only, with the browser's
 * own handling of OSCAR's cookies (this script never reads one). OSCAR answers each with a page;
 * its answer for that student is read by meaning (does the student's row still ask for a code?
 * what does the answer say that the page did not?). The page is never reloaded, so every other
 * code typed or filled into it stays where it is.
 *
 * The first half is pure (no DOM: tests/js checks it in Node); the second reads and sends.
 */
"use strict";

(() => {
  const oscar = globalThis.etmaOscar;
  if (Object.isFrozen(oscar)) return; // already running in this world: see content/oscar.js
  const { plural } = globalThis.etmaShared;

  // --- Who, and what OSCAR said: pure ---------------------------------------------------------

  /**
   * Who Fill codes takes. With students selected: those of them that need it; with none: every
   * student whose code was fetched and whose third marking is still locked. A student already
   * unlocked is never taken.
   * @param {{order: string[], selected: Set<string>, hasCode: (key: string) => boolean,
   *   isUnlocked: (key: string) => boolean, hasField: (key: string) => boolean}} facts
   * @returns {{basis: "selected"|"locked", take: string[],
   *   left: {unlocked: string[], noCode: string[], noField: string[]}}}
   */
  function chooseStudents({ order, selected, hasCode, isUnlocked, hasField }) {
    const basis = selected.size ? "selected" : "locked";
    const left = { unlocked: [], noCode: [], noField: [] };
    const take = [];
    for (const key of order) {
      if (basis === "selected" ? !selected.has(key) : !hasCode(key)) continue;
      if (isUnlocked(key)) left.unlocked.push(key);
      else if (!hasCode(key)) left.noCode.push(key);
      else if (!hasField(key)) left.noField.push(key);
      else take.push(key);
    }
    return { basis, take, left };
  }

  /** Whom the choice is for, in a tutor's words. */
  function basisWords({ basis, take, left }) {
    if (basis === "selected") {
      const count = take.length + left.unlocked.length + left.noCode.length + left.noField.length;
      return `For the ${plural(count, "selected student")}.`;
    }
    return "No one is selected, so this takes every student whose code was fetched and whose third marking is still locked.";
  }

  /** Who was left out and why; "" when no one was. */
  function leftOutWords({ left }) {
    const parts = [];
    if (left.unlocked.length) parts.push(`${left.unlocked.length} already unlocked`);
    if (left.noCode.length) parts.push(`${left.noCode.length} with no code fetched yet (press Get confirmation codes first)`);
    if (left.noField.length) parts.push(`${left.noField.length} with no code field on this page`);
    return parts.length ? `Left out: ${parts.join(", ")}.` : "";
  }

  /** Words that say OSCAR took the code, and words that say it did not. */
  const UNLOCKED_WORDS = /\bunlocked\b/i;
  const REFUSAL_WORDS = /\b(not|no|incorrect|invalid|wrong|error|failed|refused|denied|expired|cannot|unable)\b/i;
  const NO_REASON = "OSCAR did not unlock it and gave no reason.";
  const MAX_REASON = 300;

  /** OSCAR's own words from its answer: the new lines, once each, cut to a readable length. */
  function oscarWords(texts) {
    const said = [...new Set(texts.map((text) => text.replace(/\s+/g, " ").trim()).filter(Boolean))].join(" ");
    return said.length > MAX_REASON ? `${said.slice(0, MAX_REASON - 1)}…` : said;
  }

  /**
   * OSCAR's answer for one student, from what its reply showed.
   * @param {{status: number, signIn: boolean, row: null|{hasField: boolean},
   *   rowTexts?: string[], pageTexts?: string[]}} reply  `row`: the student's row in the reply,
   *   if it has one; `rowTexts`, `pageTexts`: the reply's lines the page did not already show,
   *   in that row and elsewhere
   * @returns {{outcome: "unlocked"|"refused"|"sign_in"|"error", reason: string}}
   */
  function readAnswer({ status, signIn, row, rowTexts = [], pageTexts = [] }) {
    if (signIn) return { outcome: "sign_in", reason: "OSCAR asked you to sign in again." };
    const said = oscarWords([...rowTexts, ...pageTexts]);
    if (status >= 400) {
      return { outcome: "error", reason: said ? `OSCAR answered HTTP ${status}: ${said}` : `OSCAR answered HTTP ${status}.` };
    }
    // The student's row no longer asking for a code is OSCAR's own sign that it took it.
    if (row) return row.hasField ? { outcome: "refused", reason: said || NO_REASON } : { outcome: "unlocked", reason: said };
    const texts = [...rowTexts, ...pageTexts];
    const refused = texts.some((text) => REFUSAL_WORDS.test(text) && !/\balready unlocked\b/i.test(text));
    if (!refused && texts.some((text) => UNLOCKED_WORDS.test(text))) return { outcome: "unlocked", reason: said };
    return { outcome: "refused", reason: said || NO_REASON };
  }

  /** What a student's row and panel line say for an unlock result. */
  function resultWords(result) {
    switch (result?.outcome) {
      case "working": return "Unlocking…";
      case "unlocked": return "Third marking unlocked";
      case "refused": return result.reason === NO_REASON ? result.reason : `Not unlocked: OSCAR said “${result.reason}”`;
      case "sign_in": return "Not unlocked: OSCAR asked you to sign in again";
      case "error":
      case "not_sent": return `Not unlocked: ${result.reason}`;
      default: return "";
    }
  }

  /**
   * The sentence said when a run ends. `results`: each student's result, in table order, with
   * their key; `nameOf(key)` the row's name.
   */
  function unlockSummary(results, nameOf) {
    const unlocked = results.filter(({ result }) => result.outcome === "unlocked").length;
    const others = results.filter(({ result }) => result.outcome !== "unlocked");
    const head = `Unlocked ${unlocked} of ${plural(results.length, "student")} in OSCAR.`;
    if (!others.length) return head;
    const signIn = others.some(({ result }) => result.outcome === "sign_in");
    // After a sign-in request the rest were never sent: they are counted, not listed.
    const listed = signIn ? others.filter(({ result }) => !["sign_in", "not_sent"].includes(result.outcome)) : others;
    const lines = listed.map(({ key, result }) => `${nameOf(key) || key} (${key}): ${resultWords(result).replace(/^Not unlocked: /, "")}`);
    const tail = signIn
      ? ` OSCAR asked you to sign in again: sign in, then press Fill codes again to unlock the rest (${plural(others.length - listed.length, "student")}).`
      : "";
    return `${head}${lines.length ? ` Not unlocked: ${lines.join("; ")}` : ""}${tail}`;
  }

  // --- Reading the page and OSCAR's answers, and sending ----------------------------------------

  /** Elements whose text is one line of a page, for telling OSCAR's new words from the page's. */
  const BLOCKS = "p, div, li, td, th, caption, h1, h2, h3, h4, h5, h6, dd, dt, center, blockquote, label, body";
  const HEADINGS = new Set(["H1", "H2", "H3", "H4", "H5", "H6", "CAPTION"]);
  /** Text that is not a message: scripts, links, controls. */
  const NOT_SAID = "script, style, noscript, template, a, select, option, button, textarea";

  /** Each student's latest unlock result this page knows: upper-case PI → {outcome, reason}. */
  const results = new Map();
  let running = false;

  /**
   * The lines of text under `root`, outside `skip` and this script's own cells: one per block
   * element; headings apart, so a message is preferred to a page's title.
   */
  function linesOf(root, skip = []) {
    const { OWN_CELL, TOOLBAR_ID } = oscar.state;
    const lines = new Map();
    const walker = root.ownerDocument.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!parent || parent.closest(`${NOT_SAID}, .${OWN_CELL}, #${TOOLBAR_ID}`)) continue;
      if (skip.some((skipped) => skipped?.contains(parent))) continue;
      const block = parent.closest(BLOCKS) ?? root;
      lines.set(block, `${lines.get(block) ?? ""}${node.data}`);
    }
    return [...lines].map(([block, text]) => ({ text: text.replace(/\s+/g, " ").trim(), heading: HEADINGS.has(block.tagName) }))
      .filter((line) => line.text);
  }

  /** The lines of `lines` not in `known`: messages first; headings only when there is nothing else. */
  function newLines(lines, known) {
    const fresh = lines.filter((line) => !known.has(line.text));
    const messages = fresh.filter((line) => !line.heading);
    return (messages.length ? messages : fresh).map((line) => line.text);
  }

  /** The row of student `key` in a page (this one, or one OSCAR sent back). */
  function rowIn(root, key) {
    const { findStudentTable, piOfRow } = oscar.reading;
    const found = findStudentTable(root);
    if (!found) return { table: null, row: null };
    for (const row of found.table.rows) {
      if (row !== found.header && piOfRow(row, found.columns)?.toUpperCase() === key) return { table: found.table, row };
    }
    return { table: found.table, row: null };
  }

  /** True when the row shows third marking unlocked: it asks for no code and says "unlocked". */
  function rowShowsUnlocked(row) {
    if (!row || oscar.reading.codeFieldOf(row)) return false;
    return linesOf(row).some((line) => UNLOCKED_WORDS.test(line.text) && !REFUSAL_WORDS.test(line.text));
  }

  /** True when student `key`'s third marking is unlocked, as OSCAR said here or shows on the row. */
  function isUnlocked(key) {
    return results.get(key)?.outcome === "unlocked" || rowShowsUnlocked(oscar.state.page.rows.get(key));
  }

  /**
   * Send student `item`'s own unlock form as the browser would on its button: the form's own
   * fields as they are now, its own method and address (this page's origin only), OSCAR's
   * cookies added by the browser. Resolves with OSCAR's answer for the student. `item.row` and
   * `item.base`: the student's row and the page's address when the form is in a page fetched
   * from OSCAR rather than this one (Fill marks on the marks page).
   */
  async function sendUnlock(item, pageLines) {
    const form = item.field.form;
    if (!form) return { outcome: "not_sent", reason: "its code field is not in a form." };
    // The student's own button: in a page-wide form (as ASP.NET pages have) every row's button
    // is in the one form, and the one pressed says whose code it is.
    const buttons = [...form.elements].filter((control) => ["submit", "image"].includes(control.type) && !control.disabled);
    const pageRow = item.row ?? oscar.state.page.rows.get(item.key);
    const submitter = buttons.find((button) => pageRow?.contains(button)) ?? (buttons.length === 1 ? buttons[0] : null);
    if (buttons.length > 1 && !submitter) {
      return { outcome: "not_sent", reason: "its row has no Unlock button of its own in OSCAR's form." };
    }
    const reply = await oscar.forms.send(form, { submitter, base: item.base });
    if (reply.notSent) return { outcome: "not_sent", reason: reply.notSent };
    if (reply.signIn) return readAnswer({ status: reply.status, signIn: true, row: null });
    const { table, row } = rowIn(reply.doc, item.key);
    const rowKnown = new Set(pageRow ? linesOf(pageRow).map((line) => line.text) : []);
    return readAnswer({
      status: reply.status,
      signIn: false,
      row: row ? { hasField: Boolean(oscar.reading.codeFieldOf(row)) } : null,
      rowTexts: row ? newLines(linesOf(row), rowKnown) : [],
      pageTexts: newLines(linesOf(reply.doc.body ?? reply.doc.documentElement, [table]), pageLines),
    });
  }

  /** Show student `key`'s unlock result on their row, in the status cell (again after a re-render). */
  function paintRow(row, key) {
    const result = results.get(key);
    if (!result && row.dataset.etmaUnlock === undefined) return; // the usual case: nothing to show
    const status = oscar.state.ownCells.get(row)?.status;
    if (!status) return;
    let line = status.querySelector(":scope > .etma-helper-unlock");
    if (!result) {
      line?.remove();
      delete row.dataset.etmaUnlock;
      return;
    }
    if (!line) {
      line = globalThis.etmaDom.element("span", { class: "etma-helper-unlock" });
      status.append(line);
    }
    line.textContent = resultWords(result);
    line.dataset.outcome = result.outcome;
    row.dataset.etmaUnlock = result.outcome;
  }

  function record(key, result, onResult) {
    results.set(key, result);
    const row = oscar.state.page.rows.get(key);
    if (row) paintRow(row, key);
    onResult(key, result);
  }

  /**
   * Unlock `items` ({key, code, field}) one after another; `onResult(key, result)` after each
   * step. A student whose field no longer holds their fetched code is not sent; one OSCAR
   * refuses leaves the others; once OSCAR asks to sign in again, the rest are not sent.
   * Resolves with each student's result, in order; null when a run is already going.
   */
  async function unlockAll(items, onResult = () => {}) {
    if (running) return null;
    running = true;
    const done = [];
    try {
      const { page } = oscar.state;
      const pageLines = new Set(linesOf(document.body, [page.table]).map((line) => line.text));
      let stopped = "";
      for (const item of items) {
        let result;
        const value = item.field.value.trim();
        if (isUnlocked(item.key)) {
          result = { outcome: "unlocked", reason: "already unlocked: not sent again." };
        } else if (stopped) {
          result = { outcome: "not_sent", reason: stopped };
        } else if (!item.field.isConnected) {
          result = { outcome: "not_sent", reason: "its row changed on the page; press Fill codes again." };
        } else if (value.toUpperCase() !== item.code.toUpperCase()) {
          result = { outcome: "not_sent", reason: "its field no longer holds the fetched code." };
        } else {
          record(item.key, { outcome: "working", reason: "" }, onResult);
          try {
            result = await sendUnlock(item, pageLines);
          } catch (error) {
            // No answer at all: OSCAR is down, too slow, or sent the request to a sign-on page on
            // another site (which the browser does not let this page read). The rest would fare
            // no better, so they wait for the tutor.
            const why = oscar.forms.unreachableWords(error);
            result = { outcome: "error", reason: `OSCAR could not be reached (${why}); reload the page, sign in if OSCAR asks, and press Fill codes again.` };
            stopped = "not sent after OSCAR could not be reached.";
          }
          if (result.outcome === "sign_in") stopped = "OSCAR asked you to sign in again first.";
        }
        record(item.key, result, onResult);
        done.push({ key: item.key, result });
      }
    } finally {
      running = false;
    }
    return done;
  }

  oscar.unlock = Object.freeze({
    chooseStudents, basisWords, leftOutWords, readAnswer, resultWords, unlockSummary,
    isUnlocked, paintRow, unlockAll, isRunning: () => running, sendUnlock, linesOf, newLines, rowIn, oscarWords,
  });
})();
