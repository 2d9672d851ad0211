/*
 * eTMA Helper — the OSCAR work-allocation page.
 *
 * Finds the student table by meaning (a header cell "PI", rows holding a PI), adds a checkbox and
 * a status cell to every student row and a toolbar above the table, and talks to the background,
 * which owns the helper. The page is not ours: every change is guarded, styles are isolated (a
 * shadow root for the toolbar, `etma-helper-` classes on the rows), and when the page re-renders
 * the table the enhancements are attached again.
 *
 * Test hooks (kept stable): rows get data-etma-pi and data-etma-state; the row checkbox has class
 * etma-helper-select; the status cell class etma-helper-status; the toolbar is
 * #etma-helper-toolbar with an open shadow root holding [data-action=select-all|download|codes|
 * cancel], [data-role=count], [data-role=progress] and [data-role=message].
 */
(() => {
  "use strict";

  const api = globalThis.browser ?? globalThis.chrome;

  // --- Selectors and page reading: everything that depends on OSCAR's markup lives here. -------

  const PI_PATTERN = /^[A-Z]\d{6,8}[A-Z0-9]?$/i;
  const PI_HEADER_PATTERN = /^(PI|personal identifier)$/i;
  const NAME_HEADER_PATTERN = /name/i;
  const MODULE_IN_TEXT = /\b[Mm]odule(?: code)?:?\s+([A-Z]{1,5}\d{1,4}[A-Z]?)\b/;
  const ASSIGNMENT_IN_TEXT = /\b[Aa]ssignment:?\s+([A-Z]{2,5} ?\d{1,3})\b/;
  const MODULE_PATTERN = /^[A-Z]{1,5}\d{1,4}[A-Z]?$/i;
  const ASSIGNMENT_PATTERN = /^[A-Z]{2,5} ?\d{1,3}$/i;
  const CODE_INPUT_NAME = /code/i;

  const TOOLBAR_ID = "etma-helper-toolbar";
  const OWN_CELL = "etma-helper-cell";
  const OWN_SELECTOR = `.${OWN_CELL}, #${TOOLBAR_ID}`;
  const RE_ATTACH_DELAY_MS = 150;

  const cellText = (cell) => (cell.textContent || "").replace(/\s+/g, " ").trim();

  /** The page's own cells of a row (not the ones this script added). */
  const pageCells = (row) => [...row.cells].filter((cell) => !cell.classList.contains(OWN_CELL));

  /** The header row of a student table: the first row with a cell reading "PI". */
  function headerRowOf(table) {
    for (const row of table.rows) {
      if (pageCells(row).some((cell) => PI_HEADER_PATTERN.test(cellText(cell)))) return row;
    }
    return null;
  }

  /** Column positions (among the page's own cells) of the PI and the student's name. */
  function columnsOf(headerRow) {
    const headers = pageCells(headerRow).map(cellText);
    return {
      pi: headers.findIndex((text) => PI_HEADER_PATTERN.test(text)),
      name: headers.findIndex((text) => NAME_HEADER_PATTERN.test(text)),
    };
  }

  /** The PI a row holds, preferring the PI column; null for rows that are not students. */
  function piOfRow(row, columns) {
    const cells = pageCells(row);
    const inColumn = cells[columns.pi] && cellText(cells[columns.pi]);
    if (inColumn && PI_PATTERN.test(inColumn)) return inColumn;
    for (const cell of cells) {
      const text = cellText(cell);
      if (PI_PATTERN.test(text)) return text;
    }
    return null;
  }

  function nameOfRow(row, columns, pi) {
    const cells = pageCells(row);
    const named = columns.name >= 0 && cells[columns.name] ? cellText(cells[columns.name]) : "";
    if (named) return named;
    return cells.map(cellText).find((text) => text && text !== pi) || "student";
  }

  /** The first table on the page with a "PI" header and at least one student row. */
  function findStudentTable() {
    for (const table of document.querySelectorAll("table")) {
      const header = headerRowOf(table);
      if (!header) continue;
      const columns = columnsOf(header);
      if ([...table.rows].some((row) => row !== header && piOfRow(row, columns))) {
        return { table, header, columns };
      }
    }
    return null;
  }

  /** Module and assignment: from the page's words ("Module TM351", "Assignment TMA 02"), else the URL. */
  function findModuleAndAssignment() {
    const text = document.body ? document.body.innerText || document.body.textContent || "" : "";
    const query = new URL(location.href).searchParams;
    const module = (MODULE_IN_TEXT.exec(text)?.[1] || query.get("module") || "").trim();
    const assignment = (ASSIGNMENT_IN_TEXT.exec(text)?.[1] || query.get("assignment") || "").trim();
    return {
      module: MODULE_PATTERN.test(module) ? module.toUpperCase() : "",
      assignment: ASSIGNMENT_PATTERN.test(assignment) ? assignment.toUpperCase() : "",
    };
  }

  /** The confirmation-code box in a student's row, if the page has one. */
  function codeInputOf(row) {
    return [...row.querySelectorAll("input")].find((input) =>
      (input.type === "text" || input.type === "") &&
      CODE_INPUT_NAME.test(`${input.name} ${input.id} ${input.getAttribute("aria-label") || ""}`));
  }

  // --- State ------------------------------------------------------------------------------------

  const page = {
    /** @type {HTMLTableElement|null} */ table: null,
    columns: { pi: -1, name: -1 },
    /** upper-case PI → the row */ rows: new Map(),
    /** upper-case PIs, in table order */ order: [],
    /** upper-case PIs the user ticked */ selected: new Set(),
    /** upper-case PI → latest student record and the action it came from */ records: new Map(),
    /** the job this page follows: {id, action, total, running} */ job: null,
    lastClickedPi: null,
    contextPi: null,
    toolbar: null,
    pendingRows: new Set(),
    renderScheduled: false,
  };

  const FINISHED = new Set(["done", "failed", "needs_login", "cancelled"]);

  function guard(fn) {
    return (...args) => {
      try {
        return fn(...args);
      } catch (error) {
        // Never break the page: an enhancement that fails just stops.
        console.debug("eTMA Helper:", error);
        return undefined;
      }
    };
  }

  // --- Toolbar (shadow root) --------------------------------------------------------------------

  const TOOLBAR_CSS = `
    :host { all: initial; display: block; margin: 0.5em 0; font: 14px/1.4 system-ui, sans-serif;
            color: #1b1b1b; }
    .bar { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5em; padding: 0.4em 0.6em;
           border: 1px solid #b8c4d0; border-radius: 4px; background: #f3f6f9; }
    button { font: inherit; padding: 0.2em 0.8em; border: 1px solid #5a6b7c; border-radius: 3px;
             background: #fff; color: #1b1b1b; cursor: pointer; }
    button[data-action="download"], button[data-action="codes"] { background: #0a4d8c; color: #fff;
             border-color: #0a4d8c; }
    button:disabled { opacity: 0.5; cursor: default; }
    button:focus-visible { outline: 2px solid #e0a400; outline-offset: 1px; }
    [data-role="count"] { min-width: 6em; }
    progress { width: 10em; }
    [data-role="message"] { margin-top: 0.3em; user-select: text; }
    [data-role="message"]:empty { display: none; }
    [data-kind="error"] { color: #a11; font-weight: 600; }
    [data-kind="done"] { color: #17632a; }
    code { user-select: all; font: 13px ui-monospace, monospace; background: #fff;
           border: 1px solid #b8c4d0; padding: 0 0.3em; color: #1b1b1b; }
  `;

  function element(tag, attributes = {}, text = "") {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text) node.textContent = text;
    return node;
  }

  function buildToolbar() {
    const host = element("div", { id: TOOLBAR_ID });
    const root = host.attachShadow({ mode: "open" });
    const bar = element("div", { class: "bar", role: "group", "aria-label": "eTMA Helper" });
    const progress = element("progress", { "data-role": "progress", max: "1", value: "0",
      "aria-label": "Progress of the eTMA job" });
    bar.append(
      element("button", { type: "button", "data-action": "select-all", "aria-pressed": "false" }, "Select all"),
      element("span", { "data-role": "count" }, "0 selected"),
      element("button", { type: "button", "data-action": "download" }, "Download scripts"),
      element("button", { type: "button", "data-action": "codes" }, "Get confirmation codes"),
      element("button", { type: "button", "data-action": "cancel", disabled: "" }, "Cancel"),
      progress,
    );
    root.append(element("style", {}, TOOLBAR_CSS), bar,
      element("div", { "data-role": "message", role: "status", "aria-live": "polite" }));
    root.addEventListener("click", guard((event) => {
      const button = event.target.closest?.("button[data-action]");
      if (button && !button.disabled) onToolbarAction(button.dataset.action);
    }));
    return host;
  }

  const part = (selector) => page.toolbar?.shadowRoot.querySelector(selector);

  /**
   * Show a line under the toolbar. `command`, if it appears in the text, is shown as code the
   * user can select with one click.
   */
  function showMessage(text, { kind = "info", command = "" } = {}) {
    const line = part('[data-role="message"]');
    if (!line) return;
    line.dataset.kind = kind;
    line.replaceChildren();
    const at = command ? text.indexOf(command) : -1;
    if (at < 0) {
      line.textContent = text;
      return;
    }
    line.append(text.slice(0, at), element("code", {}, command), text.slice(at + command.length));
  }

  function showProblem(problem) {
    showMessage(problem?.text || "Something went wrong.", { kind: "error", command: problem?.command || "" });
  }

  function updateButtons() {
    const running = Boolean(page.job?.running);
    for (const action of ["download", "codes"]) part(`[data-action="${action}"]`)?.toggleAttribute("disabled", running);
    part('[data-action="cancel"]')?.toggleAttribute("disabled", !running);
  }

  // --- Rows -------------------------------------------------------------------------------------

  function statusWords(record) {
    if (!record) return "";
    switch (record.state) {
      case "queued": return "Queued";
      case "working": return "Working…";
      case "done": {
        if (record.action === "codes") return record.code ? `Code ${record.code}` : "Done – no code shown";
        const count = record.files_total ?? record.files?.length ?? 0;
        const files = `Done – ${count} ${count === 1 ? "file" : "files"}`;
        return record.code ? `${files} · Code ${record.code}` : files;
      }
      case "failed": {
        // A student with nothing submitted still has a code the tutor needs.
        const failed = `Failed: ${record.reason || "no reason given"}`;
        return record.code ? `${failed} · Code ${record.code}` : failed;
      }
      case "needs_login": return "Log in to eTMA again";
      case "cancelled": return "Cancelled";
      default: return "";
    }
  }

  /** Show a row's latest record: state attribute, words, and the code in the page's own box. */
  function paintRow(row, record) {
    const state = record?.state && record.state !== "idle" ? record.state : "idle";
    if (row.dataset.etmaState !== state) row.dataset.etmaState = state;
    const status = row.querySelector(":scope > .etma-helper-status");
    if (status) {
      const words = statusWords(record);
      if (status.textContent !== words) status.textContent = words;
      const detail = [record?.reason, record?.folder].filter(Boolean).join(" — ");
      if (detail) status.title = detail; else status.removeAttribute("title");
    }
    if (state === "done" && record.code) {
      const input = codeInputOf(row);
      // Fill the box only when empty: never overwrite what the user typed.
      if (input && !input.value && document.activeElement !== input) {
        input.value = record.code;
        input.dispatchEvent(new Event("input", { bubbles: true }));
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }
  }

  function ownCell(tag, className) {
    return element(tag, { class: `${OWN_CELL} ${className}` });
  }

  function enhanceHeader(header) {
    if (!header.querySelector(":scope > .etma-helper-select-all-cell")) {
      const cell = ownCell(header.cells[0]?.tagName === "TD" ? "td" : "th", "etma-helper-select-all-cell");
      cell.append(element("input", { type: "checkbox", class: "etma-helper-select-all",
        "aria-label": "Select all students" }));
      header.insertBefore(cell, header.firstChild);
    }
    if (!header.querySelector(":scope > .etma-helper-status-head")) {
      const cell = ownCell(header.cells[0]?.tagName === "TD" ? "td" : "th", "etma-helper-status-head");
      cell.textContent = "eTMA Helper";
      header.append(cell);
    }
  }

  function enhanceStudentRow(row, pi) {
    const key = pi.toUpperCase();
    if (row.dataset.etmaPi !== pi) row.dataset.etmaPi = pi;
    let box = row.querySelector(":scope > .etma-helper-select-cell > .etma-helper-select");
    if (!box) {
      const cell = ownCell("td", "etma-helper-select-cell");
      box = element("input", { type: "checkbox", class: "etma-helper-select",
        "aria-label": `Select ${nameOfRow(row, page.columns, pi)} (${pi})` });
      cell.append(box);
      row.insertBefore(cell, row.firstChild);
    }
    if (!row.querySelector(":scope > .etma-helper-status")) row.append(ownCell("td", "etma-helper-status"));
    box.checked = page.selected.has(key);
    paintRow(row, page.records.get(key));
  }

  /** Keep other rows (totals, notes) lined up with the added columns. */
  function padOtherRow(row) {
    if (!row.querySelector(":scope > .etma-helper-pad-start")) row.insertBefore(ownCell("td", "etma-helper-pad-start"), row.firstChild);
    if (!row.querySelector(":scope > .etma-helper-pad-end")) row.append(ownCell("td", "etma-helper-pad-end"));
  }

  /** Find the table and (re-)attach everything; safe to call any number of times. */
  function enhance() {
    const found = findStudentTable();
    if (!found) return false;
    const { table, header, columns } = found;
    page.table = table;
    page.columns = columns;
    if (!page.toolbar) page.toolbar = buildToolbar();
    if (page.toolbar.nextElementSibling !== table || !page.toolbar.isConnected) table.before(page.toolbar);

    enhanceHeader(header);
    page.rows = new Map();
    page.order = [];
    for (const row of table.rows) {
      if (row === header) continue;
      const pi = piOfRow(row, columns);
      if (!pi) {
        padOtherRow(row);
        continue;
      }
      const key = pi.toUpperCase();
      if (page.rows.has(key)) continue;
      page.rows.set(key, row);
      page.order.push(key);
      enhanceStudentRow(row, pi);
    }
    for (const key of [...page.selected]) if (!page.rows.has(key)) page.selected.delete(key);
    updateSelectionDisplay();
    updateButtons();
    return true;
  }

  // --- Selection --------------------------------------------------------------------------------

  function setSelected(keys, checked) {
    for (const key of keys) {
      if (checked) page.selected.add(key); else page.selected.delete(key);
      const box = page.rows.get(key)?.querySelector(":scope > .etma-helper-select-cell > .etma-helper-select");
      if (box) box.checked = checked;
    }
    updateSelectionDisplay();
  }

  function updateSelectionDisplay() {
    const count = page.selected.size;
    const all = count > 0 && count === page.order.length;
    const counter = part('[data-role="count"]');
    if (counter) counter.textContent = `${count} selected`;
    part('[data-action="select-all"]')?.setAttribute("aria-pressed", String(all));
    const headerBox = page.table?.querySelector(".etma-helper-select-all");
    if (headerBox) {
      headerBox.checked = all;
      headerBox.indeterminate = count > 0 && !all;
    }
  }

  function onRowCheckboxClick(box, event) {
    const key = box.closest("tr")?.dataset.etmaPi?.toUpperCase();
    if (!key) return;
    const from = page.order.indexOf(page.lastClickedPi);
    const to = page.order.indexOf(key);
    if (event.shiftKey && from >= 0 && to >= 0) {
      const [start, end] = from < to ? [from, to] : [to, from];
      setSelected(page.order.slice(start, end + 1), box.checked);
    } else {
      setSelected([key], box.checked);
    }
    page.lastClickedPi = key;
  }

  // --- Jobs -------------------------------------------------------------------------------------

  async function send(message) {
    try {
      return await api.runtime.sendMessage(message);
    } catch {
      return { error: { text: "The eTMA Helper extension was updated or restarted. Reload this page and try again." } };
    }
  }

  async function startJob(action) {
    const pis = page.order.filter((key) => page.selected.has(key)).map((key) => page.rows.get(key).dataset.etmaPi);
    if (pis.length === 0) {
      showMessage("Select at least one student first.", { kind: "error" });
      return;
    }
    const { module, assignment } = findModuleAndAssignment();
    if (!module) {
      showMessage("The module code (such as TM351) was not found on this page.", { kind: "error" });
      return;
    }
    showMessage(`Asking the eTMA Helper program for ${pis.length} ${pis.length === 1 ? "student" : "students"}…`);
    const answer = await send({ type: "startJob", action, module, assignment, pis });
    if (answer?.job) adoptJob(answer.job);
    if (answer?.error) onJobError({ jobId: answer.job?.id ?? null, error: answer.error, job: answer.job });
  }

  async function cancelJob() {
    if (!page.job?.running) return;
    showMessage("Cancelling…");
    const answer = await send({ type: "cancelJob", jobId: page.job.id });
    if (answer?.error) showProblem(answer.error);
  }

  function onToolbarAction(action) {
    if (action === "select-all") {
      const all = page.selected.size === page.order.length && page.order.length > 0;
      setSelected(page.order, !all);
    } else if (action === "download" || action === "codes") {
      startJob(action).catch(guard(() => showMessage("The job could not be started.", { kind: "error" })));
    } else if (action === "cancel") {
      cancelJob().catch(() => {});
    }
  }

  function rememberRecord(record, action) {
    if (!record?.pi) return;
    const key = String(record.pi).toUpperCase();
    page.records.set(key, { ...record, action });
    page.pendingRows.add(key);
  }

  /** Follow a job the background knows about (started here, from the menu, or before a reload). */
  function adoptJob(job) {
    if (!job) return;
    const isNew = page.job?.id !== job.id;
    page.job = { id: job.id, action: job.action, total: job.total || job.pis?.length || 0, running: job.running, pis: job.pis || [] };
    for (const record of Object.values(job.students || {})) rememberRecord(record, job.action);
    if (job.summary) showSummary(job.summary);
    else if (job.error) showProblem(job.error);
    else if (job.running && isNew) showMessage(`Working on ${page.job.total} ${page.job.total === 1 ? "student" : "students"}…`);
    updateButtons();
    scheduleRender();
  }

  function onJobError({ jobId, error, job }) {
    if (job) adoptJob(job);
    if (page.job && jobId != null && jobId === page.job.id) page.job.running = false;
    updateButtons();
    showProblem(error);
    scheduleRender();
  }

  function showSummary(summary) {
    const counts = summary.counts || {};
    const parts = [`${counts.done ?? 0} done`];
    if (counts.failed) parts.push(`${counts.failed} failed`);
    if (counts.needs_login) parts.push(`${counts.needs_login} need an eTMA login`);
    if (counts.cancelled) parts.push(`${counts.cancelled} cancelled`);
    const where = [];
    if (summary.action !== "codes" && summary.folder) where.push(`files in ${summary.folder}`);
    if (summary.codes_csv) where.push(`codes in ${summary.codes_csv}`);
    let text = parts.join(", ") + (where.length ? ` — ${where.join(", ")}` : "");
    let kind = counts.failed ? "error" : "done";
    if (summary.outcome === "needs_login") {
      text = `Log in to eTMA again, then run the same job to finish the rest. ${text}`;
      kind = "error";
    } else if (summary.outcome === "cancelled") {
      text = `Cancelled. ${text}`;
    }
    showMessage(text, { kind });
  }

  function onHelperMessage({ jobId, message }) {
    if (!message || !page.job || jobId !== page.job.id) return;
    if (message.type === "reply" && message.status === "ok" && Number.isInteger(message.data?.total)) {
      page.job.total = message.data.total;
    } else if (message.type === "progress") {
      rememberRecord(message.data, page.job.action);
    } else if (message.type === "summary") {
      page.job.running = false;
      updateButtons();
      if (message.data) showSummary(message.data);
    }
    scheduleRender();
  }

  // --- Painting progress in batches, once a frame -----------------------------------------------

  function scheduleRender() {
    if (page.renderScheduled) return;
    page.renderScheduled = true;
    // A hidden tab gets no frames; the timer makes sure the page catches up anyway.
    const timer = setTimeout(() => flush(), 500);
    const flush = guard(() => {
      if (!page.renderScheduled) return;
      page.renderScheduled = false;
      clearTimeout(timer);
      render();
    });
    requestAnimationFrame(flush);
  }

  function render() {
    for (const key of page.pendingRows) {
      const row = page.rows.get(key);
      if (row?.isConnected) paintRow(row, page.records.get(key));
    }
    page.pendingRows.clear();
    const bar = part('[data-role="progress"]');
    if (bar && page.job) {
      const total = Math.max(page.job.total, 1);
      const finished = page.job.pis.filter((pi) => FINISHED.has(page.records.get(pi.toUpperCase())?.state)).length;
      bar.max = total;
      bar.value = Math.min(finished, total);
    }
  }

  // --- Wiring -----------------------------------------------------------------------------------

  function isOwnNode(node) {
    const elementNode = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
    return Boolean(elementNode?.closest?.(OWN_SELECTOR));
  }

  function watchForReRender() {
    let timer = null;
    const observer = new MutationObserver(guard((mutations) => {
      const pageChanged = mutations.some((mutation) => {
        if (isOwnNode(mutation.target)) return false;
        const nodes = [...mutation.addedNodes, ...mutation.removedNodes];
        return nodes.length === 0 || !nodes.every(isOwnNode);
      });
      if (!pageChanged || timer) return;
      timer = setTimeout(guard(() => {
        timer = null;
        enhance();
      }), RE_ATTACH_DELAY_MS);
    }));
    observer.observe(document.body, { childList: true, subtree: true });
  }

  function start() {
    if (!document.body || !enhance()) return; // nothing to enhance on this page

    document.addEventListener("click", guard((event) => {
      const target = event.target;
      if (!(target instanceof HTMLInputElement)) return;
      if (target.classList.contains("etma-helper-select")) onRowCheckboxClick(target, event);
      else if (target.classList.contains("etma-helper-select-all")) setSelected(page.order, target.checked);
    }), true);

    document.addEventListener("contextmenu", guard((event) => {
      page.contextPi = event.target?.closest?.("tr[data-etma-pi]")?.dataset.etmaPi ?? null;
    }), true);

    api.runtime.onMessage.addListener((message, _sender, sendResponse) => {
      if (!message || typeof message !== "object") return false;
      guard(() => {
        switch (message.type) {
          case "contextRow":
            sendResponse({ pi: page.contextPi, ...findModuleAndAssignment() });
            break;
          case "jobStarted": adoptJob(message.job); break;
          case "helperMessage": onHelperMessage(message); break;
          case "jobError": onJobError(message); break;
          default: break;
        }
      })();
      return false;
    });

    watchForReRender();
    send({ type: "getState", module: findModuleAndAssignment().module })
      .then(guard((answer) => { if (answer?.job) adoptJob(answer.job); }));
  }

  guard(start)();
})();
