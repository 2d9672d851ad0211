/*
 * eTMA Helper on the OSCAR page — a job's results and every problem's next step: the live
 * counts in the toolbar, "Show problems only", the list of students with nothing submitted,
 * and the buttons a stopped or failed job offers: "Log in to eTMA" (opens the eTMA address in a
 * new tab, through the background), "Run again" (the same job for exactly the students that did
 * not finish, with the selection set to them) and "Retry failed" (only the failed). A row's
 * "Open folder" asks the helper, through the background, to open the folder on the desktop.
 *
 * Everything here is shown inside the toolbar's closed shadow root, except the rows' own
 * buttons; every handler is reached only from the tutor's real input (content/toolbar.js and
 * content/oscar.js check isTrusted).
 */
"use strict";

(() => {
  const oscar = globalThis.etmaOscar;
  if (Object.isFrozen(oscar)) return; // already running in this world: see content/oscar.js
  const { page } = oscar.state;
  const { nameOfRow } = oscar.reading;
  const { part, showMessage, showProblem, keepFocus } = oscar.toolbar;
  const { setSelected } = oscar.rows;
  const { jobCounts, liveCountWords, unfinishedKeys, failedKeys, notSubmittedLines } = oscar.words;
  const { element } = globalThis.etmaDom;
  const { plural } = globalThis.etmaShared;

  /** The job's counts in the toolbar, kept to the records that arrived: cheap for 300 rows. */
  function showCounts() {
    const box = part('[data-role="counts"]');
    if (!box) return;
    if (!page.job || (!page.job.accepted && page.job.finished.size === 0)) {
      if (box.childElementCount) box.replaceChildren();
      return;
    }
    const words = liveCountWords(jobCounts(page.job.keys, page.records));
    const now = words.map((word) => word.text).join(" · ");
    if (box.dataset.shown === now) return;
    box.dataset.shown = now;
    box.replaceChildren(...words.map(({ state, text }) => element("span",
      { "data-state": state, ...(text.startsWith("0 ") ? { "data-zero": "" } : {}) }, text)));
  }

  /** "Show problems only": hide the rows whose job went well, or show them again. */
  function toggleProblemsOnly() {
    page.problemsOnly = !page.problemsOnly;
    applyFilter();
    const count = page.order.filter((key) => page.rows.get(key)?.dataset.etmaState === "done").length;
    showMessage(page.problemsOnly
      ? `Showing problems only: ${plural(count, "student")} done ${count === 1 ? "is" : "are"} hidden.`
      : "Showing every student.", { announce: page.problemsOnly ? "Showing problems only." : "Showing every student." });
  }

  /** Put the filter on the table (again after a re-render) and the toggle's pressed state. */
  function applyFilter() {
    if (page.table) {
      if (page.problemsOnly) page.table.dataset.etmaFilter = "problems";
      else delete page.table.dataset.etmaFilter;
    }
    part('[data-action="problems-only"]')?.setAttribute("aria-pressed", String(page.problemsOnly));
  }

  /** The student's name as OSCAR's row shows it, from the page's name column only ("" if none). */
  function oscarName(key) {
    const row = page.rows.get(key);
    if (!row || page.columns.name < 0) return "";
    const name = nameOfRow(row, { ...page.columns, pi: -1 }, key);
    return name === "student" ? "" : name;
  }

  /** The list of students with nothing submitted, once the job is over. */
  function showNotSubmitted() {
    const box = part('[data-role="not-submitted"]');
    if (!box || !page.job) return;
    const lines = page.job.running ? [] : notSubmittedLines(page.order, page.job.keys, page.records, oscarName);
    if (lines.length === 0) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    const { assignment } = oscar.reading.findModuleAndAssignment();
    const list = element("ul");
    list.append(...lines.map((line) => element("li", {}, line)));
    box.replaceChildren(element("summary", {},
      `${plural(lines.length, "student")} with nothing submitted${assignment ? ` for ${assignment}` : ""}`), list);
    box.hidden = false;
  }

  /** The next steps once a job is over: log in and run again, or retry the failed. */
  function showNextSteps() {
    const box = part('[data-role="next-steps"]');
    if (!box) return;
    const job = page.job;
    const buttons = [];
    if (job && !job.running && job.accepted) {
      const needsLogin = job.summary?.outcome === "needs_login"
        || [...job.keys].some((key) => page.records.get(key)?.state === "needs_login");
      const rest = unfinishedKeys(page.order, job.keys, page.records);
      const failed = failedKeys(page.order, job.keys, page.records);
      if (needsLogin) {
        buttons.push(element("button", { type: "button", "data-action": "login-etma", class: "primary" },
          "Log in to eTMA"));
      }
      if (needsLogin && rest.length) {
        buttons.push(element("button", { type: "button", "data-action": "run-again",
          "aria-label": `Run the same job again for the ${plural(rest.length, "student")} that did not finish` },
        `Run again (${rest.length})`));
      }
      if (failed.length) {
        buttons.push(element("button", { type: "button", "data-action": "retry-failed",
          "aria-label": `Retry the ${plural(failed.length, "student")} that failed` }, `Retry failed (${failed.length})`));
      }
    }
    const now = buttons.map((button) => button.textContent).join("|");
    if (box.dataset.shown === now) return;
    box.dataset.shown = now;
    // The tutor pressed one of these (Run again): the focus stays on the toolbar, not lost.
    const hadFocus = box.contains(page.shadow?.activeElement ?? null);
    box.replaceChildren(...buttons);
    if (hadFocus) keepFocus(Boolean(job?.running));
  }

  /** Everything this file shows, brought up to date with the job (each frame, and at its end). */
  function update() {
    showCounts();
    showNextSteps();
    showNotSubmitted();
    applyFilter();
  }

  /** Ask the background to open the eTMA address in a new tab, for the tutor to log in. */
  async function openEtma() {
    const answer = await oscar.jobs.send({ type: "openFromPage", what: "etma" });
    if (answer?.error) showProblem(answer.error);
    else showMessage("eTMA is open in a new tab: log in there, then come back and press Run again.",
      { announce: "eTMA opened in a new tab." });
  }

  /** Start the same job again for `keys`, with the page's selection set to exactly them. */
  function rerun(keys) {
    const action = page.job?.action;
    if (!action || keys.length === 0) return;
    setSelected(page.order, false);
    setSelected(keys, true);
    oscar.jobs.start(action).catch(() => showMessage("The job could not be started.", { kind: "error" }));
  }

  const runAgain = () => page.job && rerun(unfinishedKeys(page.order, page.job.keys, page.records));
  const retryFailed = () => page.job && rerun(failedKeys(page.order, page.job.keys, page.records));

  /** A row's "Open folder": the helper opens the folder holding that student's files. */
  async function openFolder(key) {
    const record = page.records.get(key);
    if (!record?.folder) return;
    const { module, assignment } = oscar.reading.findModuleAndAssignment();
    showMessage("Opening…");
    const answer = await oscar.jobs.send({ type: "openFromPage", what: "folder", module, assignment, pi: key });
    if (answer?.error) {
      showProblem(answer.error);
      return;
    }
    showMessage(`Opened ${answer?.data?.opened || record.folder}.`, { kind: "done", announce: "Folder opened." });
  }

  oscar.results = Object.freeze({ update, applyFilter, toggleProblemsOnly, openEtma, runAgain, retryFailed,
    openFolder, oscarName });
})();
