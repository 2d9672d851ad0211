/*
 * eTMA Helper on the OSCAR marks page — who needs third marking, shown beside each student, and
 * the flagged students carried to the work-allocation page.
 *
 * On a page holding OSCAR's marks table (content/marks-reading.js) this part adds one cell per
 * student: both totals, the difference, both bands, the flag with its reason, and the chart
 * (content/chart.js). Every number and word comes from the helper's `flags` action (the rule of
 * `etma-helper flags`, with the tutor's threshold and boundaries from the options page); nothing
 * is worked out here. A toolbar in a closed shadow root offers "Select flagged (N)" and "Export
 * marks worksheet" (content/marks-export.js), which the tutor's real click alone presses. Select
 * flagged: the background keeps those PIs for this module and
 * assignment (for a few hours), and the work-allocation page, opened for the same module and
 * assignment, ticks exactly those rows and says so (selectCarried, called by content/oscar.js).
 *
 * Test hooks: the marks toolbar is #etma-helper-toolbar (as on the work allocation) holding
 * [data-action=select-flagged], [data-action=export-worksheet] and [data-role=message]; each
 * student's first-marker row gets data-etma-pi and data-etma-flag = yes|no|incomplete; its cell td.etma-helper-marks holds
 * [data-role=totals|difference|bands|flag|reason] and svg.etma-helper-chart, whose rects carry
 * data-question, data-marker (first|second), data-mark and data-maximum.
 */
"use strict";

(() => {
  const oscar = globalThis.etmaOscar;
  if (Object.isFrozen(oscar)) return; // already running in this world: see content/oscar.js
  const { OWN_CELL, TOOLBAR_ID, page, trustedOnly, guard } = oscar.state;
  const { findModuleAndAssignment } = oscar.reading;
  const { findMarksTable, flagRows } = oscar.marksReading;
  const { showMessage, showProblem } = oscar.toolbar;
  const { element } = globalThis.etmaDom;
  const { ask, plural } = globalThis.etmaShared;

  const TOOLBAR_CSS = `
    :host { all: initial; display: block; margin: 0.6em 0; font: 13px/1.4 Verdana, Arial, sans-serif;
            color: #1b1b1b; background: #fff; }
    .bar { display: flex; flex-wrap: wrap; align-items: center; gap: 0.45em 0.6em; padding: 0.45em 0.6em;
           border: 1px solid #9aa8b6; background: #eef2f6; }
    .title { font-weight: bold; color: #0a3d6e; }
    .key { display: inline-flex; gap: 0.8em; margin-left: auto; color: #333; }
    .swatch { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.3em; vertical-align: -0.05em; }
    button { font: inherit; padding: 0.25em 0.75em; border: 1px solid #0a4d8c; border-radius: 2px;
             background: #0a4d8c; color: #fff; cursor: pointer; }
    button:disabled { opacity: 0.45; cursor: default; }
    button:focus-visible { outline: 2px solid #e0a400; outline-offset: 1px; }
    [data-role="message"] { margin-top: 0.35em; padding: 0.3em 0.6em; border-left: 3px solid #0a4d8c;
             background: #f7f9fb; user-select: text; }
    [data-role="message"]:empty { display: none; }
    [data-role="message"][data-kind="error"] { color: #8f1010; border-left-color: #a11; background: #fdf3f3; }
    [data-role="message"][data-kind="done"] { color: #17532a; border-left-color: #17632a; background: #f2f8f3; }
    .announce { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
  `;

  /** The students the helper flagged for third marking (upper-case PIs, in the page's order). */
  const marks = { flagged: [], /** the table shown */ table: null, /** the rows last sent, as JSON */ sent: "" };

  function buildToolbar() {
    const host = element("div", { id: TOOLBAR_ID });
    const root = host.attachShadow({ mode: "closed" });
    page.shadow = root;
    const swatch = (colour) => {
      const box = element("span", { class: "swatch", "aria-hidden": "true" });
      box.style.background = colour;
      return box;
    };
    const first = element("span", {}, "");
    first.append(swatch("#0a4d8c"), "First marker");
    const second = element("span", {}, "");
    second.append(swatch("#d98a00"), "Second marker");
    const key = element("span", { class: "key", "aria-hidden": "true" });
    key.append(first, second);
    const bar = element("div", { class: "bar", role: "toolbar", "aria-label": "eTMA Helper: third marking" });
    bar.append(element("span", { class: "title" }, "eTMA Helper"),
      element("button", { type: "button", "data-action": "select-flagged", disabled: "",
        title: "Select the students flagged for third marking on the work-allocation page" }, "Select flagged"),
      element("button", { type: "button", "data-action": "export-worksheet", disabled: "",
        title: "Write third_marking.xlsx for the flagged students, to fill in with third marks" },
      "Export marks worksheet"),
      key);
    root.append(element("style", {}, TOOLBAR_CSS), bar, element("div", { "data-role": "message" }),
      element("div", { class: "announce", "data-role": "announce", role: "status", "aria-live": "polite" }));
    oscar.marksFill.attach(root, bar); // Fill marks (content/marks-fill.js)
    root.addEventListener("click", guard(trustedOnly((event) => {
      const target = event.target.closest?.("button[data-action]");
      if (!target || target.disabled) return;
      if (target.dataset.action === "select-flagged") selectFlagged().catch(() => {});
      else oscar.marksExport.press(target, marks.flagged).catch(() => {});
    })));
    return host;
  }

  /** One student's cell, spanning both marker rows, with the words the helper answered. */
  function studentCell(student, answer, questions) {
    const cell = element("td", { class: `${OWN_CELL} etma-helper-marks`, rowspan: "2" });
    if (!answer) return cell;
    const flag = answer.third_marking ? "yes" : answer.complete ? "no" : "incomplete";
    student.firstRow.dataset.etmaPi = student.pi.toUpperCase();
    student.firstRow.dataset.etmaFlag = flag;
    const line = (role, text, tag = "div") => element(tag, { "data-role": role }, text);
    const flagWords = { yes: "Third marking needed", no: "No third marking", incomplete: "Marks incomplete" }[flag];
    const words = element("div", { class: "etma-helper-marks-words" });
    words.append(line("flag", flagWords));
    if (answer.reason && flag === "yes") words.append(line("reason", answer.reason));
    if (answer.complete) {
      const spread = element("div");
      spread.append(line("difference", `Difference ${answer.difference}%`, "span"), " · ",
        line("bands", answer.first_band === answer.second_band ? `Both ${answer.first_band}`
          : `${answer.first_band} / ${answer.second_band}`, "span"));
      words.append(line("totals", `First ${answer.first_percent}% · Second ${answer.second_percent}%`), spread);
    }
    const numbers = questions.map((q, index) => ({
      question: q.name, maximum: Number(q.maximum),
      first: student.first[index] === "" ? null : Number(student.first[index]),
      second: student.second[index] === "" ? null : Number(student.second[index]),
    }));
    const box = element("div", { class: "etma-helper-marks-box" });
    // The chart first: the charts line up in one column, whatever the words beside them.
    box.append(oscar.chart.build(numbers, student.name ? `${student.name} (${student.pi})` : student.pi), words);
    cell.append(box);
    return cell;
  }

  /** Add (or replace) this script's cells: a header, padding on other rows, one per student. */
  function paint(read, answers) {
    const { table, headerRow, students, questions } = read;
    for (const old of table.querySelectorAll(`.${OWN_CELL}`)) old.remove();
    const cellTag = headerRow.cells[0]?.tagName === "TD" ? "td" : "th";
    headerRow.append(element(cellTag, { class: OWN_CELL }, "Who needs third marking (eTMA Helper)"));
    const own = new Set(students.flatMap((s) => [s.firstRow, s.secondRow]));
    for (const row of table.rows) {
      if (row !== headerRow && !own.has(row)) row.append(element("td", { class: OWN_CELL }));
    }
    for (const student of students) {
      student.firstRow.append(studentCell(student, answers?.get(student.pi.toUpperCase()), questions));
    }
  }

  /** Rows of marks in one `flags` request: well inside a message's 1 MiB, and the helper's limits. */
  const ROWS_PER_REQUEST = 2000;

  /**
   * The helper's answer for every student, asked in turns of whole students so that no request
   * outgrows a message (the rule is per student, so the turns' answers simply add up). The
   * first error ends it.
   */
  async function askFlags(read) {
    const perTurn = Math.max(1, Math.floor(ROWS_PER_REQUEST / read.questions.length));
    const merged = { students: [], incomplete: 0, threshold: "" };
    for (let start = 0; start < read.students.length; start += perTurn) {
      const rows = flagRows(read, read.students.slice(start, start + perTurn));
      const answer = await ask({ type: "thirdMarking", what: "flags", rows });
      if (answer?.error || !answer?.data) return answer;
      merged.students.push(...answer.data.students);
      merged.incomplete += answer.data.incomplete;
      merged.threshold = answer.data.threshold;
    }
    return { data: merged };
  }

  /** Ask the helper (through the background) who needs third marking, and show it. */
  async function check(read) {
    showMessage(`Checking the marks of ${plural(read.students.length, "student")}…`);
    const sent = marks.sent;
    const answer = await askFlags(read);
    // The page changed while the helper was asked: the answer for the newer marks is shown.
    if (sent !== marks.sent || read.table !== marks.table) return;
    const button = page.shadow.querySelector('[data-action="select-flagged"]');
    if (answer?.error || !answer?.data) {
      // No answer for these marks: nothing is flagged, so nothing can be selected.
      marks.flagged = [];
      button.textContent = "Select flagged";
      button.toggleAttribute("disabled", true);
      page.shadow.querySelector('[data-action="export-worksheet"]').toggleAttribute("disabled", true);
      showProblem(answer?.error ?? { text: "The helper did not answer." });
      return;
    }
    const answers = new Map(answer.data.students.map((s) => [s.pi.toUpperCase(), s]));
    paint(read, answers);
    marks.flagged = read.students.map((s) => s.pi.toUpperCase()).filter((pi) => answers.get(pi)?.third_marking);
    button.textContent = `Select flagged (${marks.flagged.length})`;
    button.toggleAttribute("disabled", marks.flagged.length === 0);
    page.shadow.querySelector('[data-action="export-worksheet"]').toggleAttribute("disabled", marks.flagged.length === 0);
    const incomplete = answer.data.incomplete ? `; ${plural(answer.data.incomplete, "student")} with marks incomplete` : "";
    showMessage(`${plural(marks.flagged.length, "student")} of ${read.students.length} need third marking `
      + `(difference over ${answer.data.threshold}% or a grade boundary straddled)${incomplete}.`, { kind: "done" });
  }

  /** "Select flagged": keep the flagged PIs for this module and assignment's work allocation. */
  async function selectFlagged() {
    const { module, assignment } = findModuleAndAssignment();
    if (!module) {
      showMessage("This page does not say which module it is for, so the selection cannot be kept.", { kind: "error" });
      return;
    }
    const answer = await ask({ type: "thirdMarking", what: "keep", module, assignment, pis: marks.flagged });
    if (answer?.error) {
      showProblem(answer.error);
      return;
    }
    const which = [module, assignment].filter(Boolean).join(" ");
    showMessage(`${plural(marks.flagged.length, "student")} flagged for third marking kept: open the `
      + `work allocation for ${which} and they are selected there, ready for Download scripts or Get confirmation codes.`,
    { kind: "done", announce: "Flagged students kept for the work allocation." });
  }

  /** How long the page's changes settle before the marks are read again. */
  const SETTLE_MS = 150;

  /** Read the marks table, show this script's cells and ask the helper; false when there is none. */
  function show() {
    const read = findMarksTable();
    if (!read) return false;
    if (!page.toolbar) page.toolbar = buildToolbar();
    if (page.toolbar.nextElementSibling !== read.table || !page.toolbar.isConnected) read.table.before(page.toolbar);
    marks.table = read.table;
    marks.sent = JSON.stringify(flagRows(read));
    paint(read, null);
    check(read).catch(guard((error) => showProblem({ text: String(error?.message ?? error) })));
    return true;
  }

  const isOwnNode = (node) => Boolean((node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement)
    ?.closest?.(`.${OWN_CELL}, #${TOOLBAR_ID}`));

  /**
   * The page changes the table (re-renders it, or changes a mark): once its changes settle, read
   * it again, and show and ask again when this script's cells are gone or the marks differ.
   * This script's own changes are not the page's and start nothing.
   */
  function watchForChanges() {
    let timer = null;
    const observer = new MutationObserver(guard((mutations) => {
      const theirs = mutations.some((mutation) => !isOwnNode(mutation.target)
        && ![...mutation.addedNodes, ...mutation.removedNodes].every(isOwnNode));
      if (!theirs || timer) return;
      timer = setTimeout(guard(() => {
        timer = null;
        const read = findMarksTable();
        const attached = read?.table === marks.table && read.table.querySelector(".etma-helper-marks");
        if (read && (!attached || JSON.stringify(flagRows(read)) !== marks.sent)) show();
      }), SETTLE_MS);
    }));
    observer.observe(document.body, { childList: true, subtree: true, characterData: true });
  }

  /** On the marks page: show the flags, and keep them in step with the page. False when the page has no marks table. */
  function enhance() {
    if (!show()) return false;
    watchForChanges();
    return true;
  }

  /**
   * On the work-allocation page: tick exactly the students the marks page kept for this module
   * and assignment, if it kept any (taking them: a second visit starts from the tutor's own).
   */
  async function selectCarried() {
    const { module, assignment } = findModuleAndAssignment();
    if (!module) return;
    const answer = await ask({ type: "thirdMarking", what: "take", module, assignment });
    const pis = Array.isArray(answer?.pis) ? answer.pis.map((pi) => String(pi).toUpperCase()) : [];
    if (!pis.length) return;
    const here = pis.filter((pi) => page.rows.has(pi));
    oscar.rows.setSelected(page.order, false);
    oscar.rows.setSelected(here, true);
    const missing = pis.length - here.length;
    const notHere = missing ? ` (${plural(missing, "flagged student")} not on this page)` : "";
    showMessage(`${plural(here.length, "student")} flagged for third marking selected from the marks page${notHere}.`,
      { kind: "done", announce: `${plural(here.length, "student")} flagged for third marking selected.` });
  }

  oscar.marks = Object.freeze({ enhance, selectCarried });
})();
