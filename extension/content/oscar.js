/*
 * eTMA Helper — the OSCAR work-allocation page.
 *
 * Finds the student table by meaning (a header cell "PI", rows holding a PI), adds a checkbox and
 * a status cell to every student row and a toolbar above the table, and talks to the background,
 * which owns the helper. The page is not ours: every change is guarded, styles are isolated (a
 * shadow root for the toolbar, `etma-helper-` classes on the rows), and when the page re-renders
 * the table the enhancements are attached again. The page's forms are never submitted.
 *
 * The page's own script is not trusted either. Only the tutor's real clicks and key presses
 * (`event.isTrusted`) on the toolbar, the fill panel, the row checkboxes and the select-all box
 * change the selection or start, cancel or fill anything; the row a menu acts on is the one the
 * tutor really right-clicked. The toolbar's shadow root is closed, so the page cannot reach its
 * buttons or read its messages (paths, codes) and fill panel. A job's PIs come from this script's
 * own memory of the rows it enhanced, never from attributes the page could rewrite afterwards.
 *
 * Speed: a 2,000-row table is enhanced in one pass that only writes (cells are cloned from
 * templates, nothing reads layout), and progress for hundreds of students is painted once a frame.
 * Both are timed on the page's performance timeline, for the benchmark:
 *   "etma-helper:inject" — the first enhancement of the table;
 *   "etma-helper:render" — each frame's painting of pending progress (sum them for the total).
 *
 * Test hooks (kept stable): rows get data-etma-pi and data-etma-state (written for tests and
 * styles, never read back); the row checkbox has class etma-helper-select, the header's
 * etma-helper-select-all; the status cell class etma-helper-status; the toolbar is
 * #etma-helper-toolbar with a closed shadow root holding [data-action=select-all|select-none|
 * download|codes|fill|cancel], [data-role=count], [data-role=progress], [data-role=progress-text]
 * and [data-role=message]. The fill preview is [data-role=fill-panel], one [data-fill-pi=PI] row
 * per field, input[data-role=replace] on rows whose field holds the user's own text, and
 * [data-action=fill-confirm|fill-cancel]. A closed root is out of a page script's reach, and so
 * out of Selenium's execute_script (the page's world); WebDriver itself reaches it (chromedriver's
 * element shadow root, Firefox BiDi's locateNodes with includeShadowTree "all"), and tests press
 * its buttons with real input, the only kind this script obeys.
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
  /** What a confirmation-code field is called, labelled or titled. */
  const CODE_FIELD_MEANING = /confirm|code/i;
  const TEXT_INPUT_TYPES = new Set(["text", "", "search"]);

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

  /**
   * The page's cell at a column, counting past the cell this script puts first in a row. Direct
   * indexing, not a scan: on a big table every DOM call per row counts.
   */
  function pageCellAt(row, column) {
    if (column < 0) return null;
    const first = row.cells[0];
    const offset = first && first.classList.contains(OWN_CELL) ? 1 : 0;
    const cell = row.cells[column + offset];
    return cell && !cell.classList.contains(OWN_CELL) ? cell : null;
  }

  /** The PI a row holds, preferring the PI column; null for rows that are not students. */
  function piOfRow(row, columns) {
    const inColumn = pageCellAt(row, columns.pi);
    const text = inColumn ? cellText(inColumn) : "";
    if (text && PI_PATTERN.test(text)) return text;
    for (const cell of pageCells(row)) {
      if (cell.childElementCount > 3) continue; // a form or a list, not an identifier
      const other = cellText(cell);
      if (PI_PATTERN.test(other)) return other;
    }
    return null;
  }

  function nameOfRow(row, columns, pi) {
    const named = cellText(pageCellAt(row, columns.name) ?? { textContent: "" });
    if (named) return named;
    return pageCells(row).map(cellText).find((text) => text && text !== pi) || "student";
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

  /**
   * Module and assignment: from the page's headings ("Module TM351 – Assignment TMA 02"), else the
   * URL, else anywhere in the page's text. textContent, not innerText: innerText forces a layout.
   */
  function findModuleAndAssignment() {
    const query = new URL(location.href).searchParams;
    const headings = [...document.querySelectorAll("h1, h2, h3, h4, caption, title")]
      .map((node) => node.textContent || "").join(" \n ");
    const pick = (pattern, key) => {
      const found = pattern.exec(headings)?.[1] || query.get(key)
        || pattern.exec(document.body?.textContent || "")?.[1] || "";
      return found.replace(/\s+/g, " ").trim();
    };
    const module = pick(MODULE_IN_TEXT, "module");
    const assignment = pick(ASSIGNMENT_IN_TEXT, "assignment");
    return {
      module: MODULE_PATTERN.test(module) ? module.toUpperCase() : "",
      assignment: ASSIGNMENT_PATTERN.test(assignment) ? assignment.toUpperCase() : "",
    };
  }

  /** The words that describe a field: its name, id, title, accessible label and visible labels. */
  function fieldMeaning(input) {
    const labels = input.labels ? [...input.labels].map((label) => label.textContent) : [];
    return [input.name, input.id, input.title, input.placeholder,
      input.getAttribute("aria-label") || "", ...labels].join(" ");
  }

  /** The confirmation-code field in a student's row, found by meaning; null if it has none. */
  function codeFieldOf(row) {
    const candidates = [...row.querySelectorAll("input")].filter((input) =>
      TEXT_INPUT_TYPES.has(input.type) && !input.closest(`.${OWN_CELL}`) && !input.disabled
      && !input.readOnly);
    return candidates.find((input) => /confirm/i.test(fieldMeaning(input)))
      ?? candidates.find((input) => CODE_FIELD_MEANING.test(fieldMeaning(input)))
      ?? null;
  }

  // --- State ------------------------------------------------------------------------------------

  const page = {
    /** @type {HTMLTableElement|null} */ table: null,
    columns: { pi: -1, name: -1 },
    /** upper-case PI → the row */ rows: new Map(),
    /** upper-case PIs, in table order */ order: [],
    /** upper-case PIs the user ticked */ selected: new Set(),
    /** upper-case PI → latest student record and the action it came from */ records: new Map(),
    /** the job this page follows: {id, action, total, running, pis, finished:Set} */ job: null,
    lastClickedPi: null,
    contextPi: null,
    toolbar: null,
    /** the toolbar's closed shadow root: only this script holds it */ shadow: null,
    pendingRows: new Set(),
    renderScheduled: false,
    observer: null,
  };

  /** The cells this script added to a row, so re-enhancing never has to query the row. */
  const ownCells = new WeakMap();
  /** Each enhanced row's and row checkbox's student (upper-case PI), as read when enhancing. */
  const keyOf = new WeakMap();

  /** States in which a student is finished; a cancelled student is not: it is counted apart. */
  const FINISHED = new Set(["done", "failed", "needs_login"]);

  /**
   * Wrap an event handler so that only the user's own input reaches it: events a page's script
   * makes (element.click(), dispatchEvent) have isTrusted false and are ignored.
   */
  const trustedOnly = (handler) => (event) => {
    if (event.isTrusted) handler(event);
  };

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

  const plural = (count, one, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

  // --- Toolbar (shadow root) --------------------------------------------------------------------

  // Quiet, like OSCAR's own grey-and-blue tables: a thin border, a light band, one accent colour.
  const TOOLBAR_CSS = `
    :host { all: initial; display: block; margin: 0.6em 0; font: 13px/1.4 Verdana, Arial, sans-serif;
            color: #1b1b1b; }
    .bar { display: flex; flex-wrap: wrap; align-items: center; gap: 0.45em 0.6em; padding: 0.45em 0.6em;
           border: 1px solid #9aa8b6; background: #eef2f6; }
    .title { font-weight: bold; color: #0a3d6e; margin-right: 0.2em; }
    .sep { width: 1px; align-self: stretch; background: #b8c4d0; }
    button { font: inherit; padding: 0.25em 0.75em; border: 1px solid #7b8a99; border-radius: 2px;
             background: #fff; color: #1b1b1b; cursor: pointer; }
    button:hover:not(:disabled) { background: #f7f9fb; border-color: #0a4d8c; }
    button.primary { background: #0a4d8c; color: #fff; border-color: #0a4d8c; }
    button.primary:hover:not(:disabled) { background: #083d70; }
    button:disabled { opacity: 0.45; cursor: default; }
    button:focus-visible, input:focus-visible { outline: 2px solid #e0a400; outline-offset: 1px; }
    [data-role="count"] { min-width: 6.5em; color: #333; }
    .progress { display: inline-flex; align-items: center; gap: 0.4em; margin-left: auto; }
    progress { width: 11em; height: 0.9em; accent-color: #0a4d8c; }
    [data-role="progress-text"] { min-width: 7em; color: #333; font-variant-numeric: tabular-nums; }
    [data-role="message"] { margin-top: 0.35em; padding: 0.3em 0.6em; border-left: 3px solid #0a4d8c;
             background: #f7f9fb; user-select: text; }
    [data-role="message"]:empty { display: none; }
    [data-role="message"][data-kind="error"] { color: #8f1010; border-left-color: #a11; background: #fdf3f3; }
    [data-role="message"][data-kind="done"] { color: #17532a; border-left-color: #17632a; background: #f2f8f3; }
    code { user-select: all; font: 12px ui-monospace, Menlo, Consolas, monospace; background: #fff;
           border: 1px solid #b8c4d0; padding: 0 0.3em; color: #1b1b1b; }
    .panel { margin-top: 0.35em; border: 1px solid #9aa8b6; background: #fff; padding: 0.5em 0.7em; }
    .panel[hidden] { display: none; }
    .panel h2 { font-size: 13px; margin: 0 0 0.4em; color: #0a3d6e; }
    .panel p { margin: 0.3em 0; }
    .panel .list { max-height: 16em; overflow: auto; border: 1px solid #d4dbe2; }
    .panel table { border-collapse: collapse; width: 100%; }
    .panel th, .panel td { text-align: left; padding: 0.2em 0.5em; border-bottom: 1px solid #e3e8ed; }
    .panel th { background: #eef2f6; font-weight: bold; position: sticky; top: 0; }
    .panel td.code { font-family: ui-monospace, Menlo, Consolas, monospace; }
    .panel tr.conflict td { background: #fff8e6; }
    .panel label { cursor: pointer; }
    .panel .actions { display: flex; gap: 0.5em; margin-top: 0.5em; }
  `;

  function element(tag, attributes = {}, text = "") {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text) node.textContent = text;
    return node;
  }

  function buildToolbar() {
    const host = element("div", { id: TOOLBAR_ID });
    // Closed: host.shadowRoot is null for the page; the reference lives only in this closure.
    const root = host.attachShadow({ mode: "closed" });
    page.shadow = root;
    const bar = element("div", { class: "bar", role: "toolbar", "aria-label": "eTMA Helper" });
    const progress = element("progress", { "data-role": "progress", max: "1", value: "0",
      "aria-label": "Progress of the eTMA Helper job" });
    const button = (action, text, extra = {}) =>
      element("button", { type: "button", "data-action": action, ...extra }, text);
    const progressBox = element("span", { class: "progress" });
    progressBox.append(progress, element("span", { "data-role": "progress-text", "aria-live": "off" }));
    bar.append(
      element("span", { class: "title" }, "eTMA Helper"),
      button("select-all", "Select all", { "aria-label": "Select all students" }),
      button("select-none", "Select none", { "aria-label": "Select no students" }),
      element("span", { "data-role": "count", "aria-live": "polite" }, "0 selected"),
      element("span", { class: "sep", "aria-hidden": "true" }),
      button("download", "Download scripts", { class: "primary",
        "aria-label": "Download the selected students' scripts" }),
      button("codes", "Get confirmation codes", { class: "primary",
        "aria-label": "Get the selected students' confirmation codes" }),
      button("fill", "Fill codes", { disabled: "",
        "aria-label": "Fill the fetched confirmation codes into OSCAR's code fields" }),
      button("cancel", "Cancel", { disabled: "", "aria-label": "Cancel the running job" }),
      progressBox,
    );
    root.append(element("style", {}, TOOLBAR_CSS), bar,
      element("div", { "data-role": "message", role: "status", "aria-live": "polite" }),
      element("div", { class: "panel", "data-role": "fill-panel", role: "dialog",
        "aria-label": "Fill confirmation codes", hidden: "" }));
    root.addEventListener("click", guard(trustedOnly((event) => {
      const target = event.target.closest?.("button[data-action]");
      if (target && !target.disabled) onToolbarAction(target.dataset.action);
    })));
    root.addEventListener("change", guard(trustedOnly((event) => {
      if (event.target.matches?.('input[data-role="replace"]')) updateFillConfirm();
    })));
    root.addEventListener("keydown", guard(trustedOnly((event) => {
      if (event.key === "Escape" && !part('[data-role="fill-panel"]').hidden) closeFillPanel();
    })));
    return host;
  }

  const part = (selector) => page.shadow?.querySelector(selector);

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

  /** Rows whose fetched code could go into a field on this page. */
  function rowsWithCodes() {
    return page.order.filter((key) => page.records.get(key)?.code);
  }

  function updateButtons() {
    const running = Boolean(page.job?.running);
    for (const action of ["download", "codes"]) part(`[data-action="${action}"]`)?.toggleAttribute("disabled", running);
    part('[data-action="cancel"]')?.toggleAttribute("disabled", !running);
    part('[data-action="fill"]')?.toggleAttribute("disabled", rowsWithCodes().length === 0);
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
        const files = `Done – ${plural(count, "file")}`;
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

  /** Show a row's latest record: its state attribute and its words. Never touches the page's fields. */
  function paintRow(row, record) {
    const state = record?.state && record.state !== "idle" ? record.state : "idle";
    if (row.dataset.etmaState !== state) row.dataset.etmaState = state;
    const status = ownCells.get(row)?.status;
    if (!status) return;
    const words = statusWords(record);
    const text = status.firstChild;
    if (text.textContent !== words) text.textContent = words;
    const detail = [record?.reason, record?.folder].filter(Boolean).join(" — ");
    if (detail) status.title = detail; else if (status.hasAttribute("title")) status.removeAttribute("title");
  }

  // Cells are cloned from these: cloning is cheaper than building and setting attributes each time.
  const templates = {
    selectCell: (() => {
      const cell = element("td", { class: `${OWN_CELL} etma-helper-select-cell` });
      cell.append(element("input", { type: "checkbox", class: "etma-helper-select" }));
      return cell;
    })(),
    statusCell: (() => {
      const cell = element("td", { class: `${OWN_CELL} etma-helper-status` });
      cell.append(element("span", { class: "etma-helper-words" }));
      return cell;
    })(),
    padStart: element("td", { class: `${OWN_CELL} etma-helper-pad-start` }),
    padEnd: element("td", { class: `${OWN_CELL} etma-helper-pad-end` }),
  };

  function enhanceHeader(header) {
    const cellTag = header.cells[0]?.tagName === "TD" ? "td" : "th";
    if (!header.querySelector(":scope > .etma-helper-select-all-cell")) {
      const cell = element(cellTag, { class: `${OWN_CELL} etma-helper-select-all-cell` });
      cell.append(element("input", { type: "checkbox", class: "etma-helper-select-all",
        "aria-label": "Select all students" }));
      header.insertBefore(cell, header.firstChild);
    }
    if (!header.querySelector(":scope > .etma-helper-status-head")) {
      header.append(element(cellTag, { class: `${OWN_CELL} etma-helper-status-head` }, "eTMA Helper"));
    }
  }

  /** Our cells of a row, if they are still in it (the page may have rewritten the row). */
  function attachedCells(row) {
    const cells = ownCells.get(row);
    return cells && cells.select.parentNode === row && cells.status.parentNode === row ? cells : null;
  }

  function enhanceStudentRow(row, pi) {
    const key = pi.toUpperCase();
    if (row.dataset.etmaPi !== pi) row.dataset.etmaPi = pi;
    let cells = attachedCells(row);
    keyOf.set(row, key);
    if (!cells) {
      for (const stale of row.querySelectorAll(":scope > .etma-helper-select-cell, :scope > .etma-helper-status")) stale.remove();
      const select = templates.selectCell.cloneNode(true);
      const box = select.firstChild;
      box.setAttribute("aria-label", `Select ${nameOfRow(row, page.columns, pi)} (${pi})`);
      const status = templates.statusCell.cloneNode(true);
      row.insertBefore(select, row.firstChild);
      row.append(status);
      cells = { select, box, status };
      ownCells.set(row, cells);
    }
    keyOf.set(cells.box, key);
    const checked = page.selected.has(key);
    if (cells.box.checked !== checked) cells.box.checked = checked;
    const record = page.records.get(key);
    if (record || row.dataset.etmaState !== "idle") paintRow(row, record);
  }

  /** Keep other rows (totals, notes) lined up with the added columns. */
  function padOtherRow(row) {
    if (!row.querySelector(":scope > .etma-helper-pad-start")) row.insertBefore(templates.padStart.cloneNode(false), row.firstChild);
    if (!row.querySelector(":scope > .etma-helper-pad-end")) row.append(templates.padEnd.cloneNode(false));
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
    // A snapshot: walking the live `rows` collection while adding cells re-walks it (quadratic).
    for (const row of Array.from(table.rows)) {
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
    // Our own insertions are not a re-render of the page: drop them before the observer sees them.
    page.observer?.takeRecords();
    updateSelectionDisplay();
    updateButtons();
    return true;
  }

  // --- Selection --------------------------------------------------------------------------------

  function setSelected(keys, checked) {
    for (const key of keys) {
      if (checked) page.selected.add(key); else page.selected.delete(key);
      const box = ownCells.get(page.rows.get(key))?.box;
      if (box && box.checked !== checked) box.checked = checked;
    }
    updateSelectionDisplay();
  }

  /**
   * Show the selection on the boxes again once the click is over: a page that cancels the click
   * would otherwise have the browser put the box back, out of step with what is selected.
   */
  function showSelectionAfterClick(keys) {
    setTimeout(guard(() => {
      for (const key of keys) {
        const box = ownCells.get(page.rows.get(key))?.box;
        if (box) box.checked = page.selected.has(key);
      }
      updateSelectionDisplay();
    }), 0);
  }

  function updateSelectionDisplay() {
    const count = page.selected.size;
    const all = count > 0 && count === page.order.length;
    const counter = part('[data-role="count"]');
    if (counter) counter.textContent = `${count} of ${page.order.length} selected`;
    const headerBox = page.table?.querySelector(".etma-helper-select-all");
    if (headerBox) {
      headerBox.checked = all;
      headerBox.indeterminate = count > 0 && !all;
    }
  }

  /**
   * A real click on a row's box flips that student (from this script's own record of what is
   * selected, not the box's `checked`, which the page can set); with Shift, the range from the
   * last clicked row takes the clicked row's new state.
   */
  function onRowCheckboxClick(box, event) {
    const key = keyOf.get(box);
    if (!key || !page.rows.has(key)) return;
    const checked = !page.selected.has(key);
    const from = page.order.indexOf(page.lastClickedPi);
    const to = page.order.indexOf(key);
    let keys = [key];
    if (event.shiftKey && from >= 0 && to >= 0) {
      const [start, end] = from < to ? [from, to] : [to, from];
      keys = page.order.slice(start, end + 1);
    }
    setSelected(keys, checked);
    showSelectionAfterClick(keys);
    page.lastClickedPi = key;
  }

  /** A real click on the header's box: select everyone, or no one once everyone is selected. */
  function onSelectAllBoxClick() {
    const everyone = page.order.length > 0 && page.selected.size === page.order.length;
    setSelected(page.order, !everyone);
    showSelectionAfterClick(page.order);
  }

  /** The student of the enhanced row that holds `node`, from this script's memory; else null. */
  function studentAt(node) {
    for (let row = node?.closest?.("tr"); row; row = row.parentElement?.closest("tr")) {
      const key = keyOf.get(row);
      if (key && page.rows.get(key) === row) return key;
    }
    return null;
  }

  // --- Filling codes into OSCAR's fields ----------------------------------------------------------

  /**
   * @typedef {Object} FillItem
   * @property {string} key    upper-case PI
   * @property {string} pi
   * @property {string} name
   * @property {string} code   the fetched code
   * @property {HTMLInputElement} field
   * @property {string} typed  what the field holds now, when it is not empty and not the code
   */

  /** What Fill codes would do: one item per row with a fetched code, a field, and work to do. */
  function fillPlan() {
    /** @type {FillItem[]} */
    const items = [];
    let alreadyFilled = 0;
    let noField = 0;
    for (const key of rowsWithCodes()) {
      const row = page.rows.get(key);
      const code = String(page.records.get(key).code);
      const field = row && codeFieldOf(row);
      if (!field) {
        noField += 1;
        continue;
      }
      const current = field.value.trim();
      if (current.toUpperCase() === code.toUpperCase()) {
        alreadyFilled += 1;
        continue;
      }
      items.push({ key, pi: key, name: nameOfRow(row, page.columns, key), code, field, typed: current });
    }
    return { items, alreadyFilled, noField };
  }

  let currentPlan = null;

  function openFillPanel() {
    const plan = fillPlan();
    const panel = part('[data-role="fill-panel"]');
    if (!panel) return;
    if (plan.items.length === 0) {
      const why = plan.alreadyFilled
        ? `Every code is already in its field (${plural(plan.alreadyFilled, "student")}).`
        : "No row with a fetched code has a confirmation-code field on this page.";
      showMessage(`Nothing to fill. ${why}`);
      return;
    }
    currentPlan = plan;
    const conflicts = plan.items.filter((item) => item.typed).length;
    const table = element("table");
    const head = element("tr");
    for (const title of ["Student", "PI", "Code", "In the field now"]) head.append(element("th", { scope: "col" }, title));
    table.append(head);
    for (const item of plan.items) {
      const tr = element("tr", { "data-fill-pi": item.pi, class: item.typed ? "conflict" : "" });
      const now = element("td");
      if (item.typed) {
        const label = element("label");
        const box = element("input", { type: "checkbox", "data-role": "replace",
          "aria-label": `Replace what you typed for ${item.pi} (${item.typed}) with ${item.code}` });
        label.append(box, ` Replace your “${item.typed}”`);
        now.append(label);
      } else {
        now.textContent = "empty – will be filled";
      }
      tr.append(element("td", {}, item.name), element("td", {}, item.pi),
        element("td", { class: "code" }, item.code), now);
      table.append(tr);
    }
    const list = element("div", { class: "list" });
    list.append(table);
    const notes = [];
    if (conflicts) notes.push(`${plural(conflicts, "field")} already ${conflicts === 1 ? "holds" : "hold"} something you typed: it is kept unless you tick Replace.`);
    if (plan.alreadyFilled) notes.push(`${plural(plan.alreadyFilled, "field")} already ${plan.alreadyFilled === 1 ? "holds its" : "hold their"} code.`);
    notes.push("Nothing is sent to OSCAR: after filling, press each row's own button to unlock third marking.");
    const actions = element("div", { class: "actions" });
    actions.append(
      element("button", { type: "button", class: "primary", "data-action": "fill-confirm" }),
      element("button", { type: "button", "data-action": "fill-cancel" }, "Cancel"),
    );
    panel.replaceChildren(element("h2", {}, "Fill confirmation codes into OSCAR"), list,
      ...notes.map((note) => element("p", {}, note)), actions);
    panel.hidden = false;
    updateFillConfirm();
    (panel.querySelector('input[data-role="replace"]') ?? panel.querySelector('[data-action="fill-confirm"]')).focus();
  }

  function chosenItems() {
    const panel = part('[data-role="fill-panel"]');
    return (currentPlan?.items ?? []).filter((item) => !item.typed
      || panel.querySelector(`[data-fill-pi="${item.pi}"] input[data-role="replace"]`)?.checked);
  }

  function updateFillConfirm() {
    const button = part('[data-action="fill-confirm"]');
    if (!button) return;
    const count = chosenItems().length;
    button.textContent = count ? `Fill ${plural(count, "code")}` : "Nothing to fill";
    button.toggleAttribute("disabled", count === 0);
  }

  function closeFillPanel() {
    const panel = part('[data-role="fill-panel"]');
    if (panel) {
      panel.hidden = true;
      panel.replaceChildren();
    }
    currentPlan = null;
    part('[data-action="fill"]')?.focus();
  }

  /** Write the chosen codes into their fields, as if typed: input and change events, no submit. */
  function confirmFill() {
    const replaced = new Set(chosenItems().filter((item) => item.typed).map((item) => item.key));
    let filled = 0;
    let kept = 0;
    for (const item of currentPlan?.items ?? []) {
      const { field, code } = item;
      if (!field.isConnected) continue;
      const now = field.value.trim();
      // Typed into since the preview, or typed before and not ticked: it stays.
      if (now && now.toUpperCase() !== code.toUpperCase() && !replaced.has(item.key)) {
        kept += 1;
        continue;
      }
      field.value = code;
      field.dispatchEvent(new Event("input", { bubbles: true }));
      field.dispatchEvent(new Event("change", { bubbles: true }));
      filled += 1;
    }
    closeFillPanel();
    const keptText = kept ? ` Kept ${plural(kept, "field")} you typed in.` : "";
    showMessage(`Filled ${plural(filled, "confirmation code")}.${keptText} Nothing was sent: press each row's own button in OSCAR to use it.`,
      { kind: "done" });
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
    // The keys this script read when it enhanced the rows: the page's attributes may have changed since.
    const pis = page.order.filter((key) => page.selected.has(key));
    if (pis.length === 0) {
      showMessage("Select at least one student first.", { kind: "error" });
      return;
    }
    const { module, assignment } = findModuleAndAssignment();
    if (!module) {
      showMessage("The module code (such as TM351) was not found on this page.", { kind: "error" });
      return;
    }
    showMessage(`Asking the eTMA Helper program for ${plural(pis.length, "student")}…`);
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
    switch (action) {
      case "select-all": setSelected(page.order, true); break;
      case "select-none": setSelected(page.order, false); break;
      case "download":
      case "codes":
        startJob(action).catch(guard(() => showMessage("The job could not be started.", { kind: "error" })));
        break;
      case "cancel": cancelJob().catch(() => {}); break;
      case "fill": openFillPanel(); break;
      case "fill-confirm": confirmFill(); break;
      case "fill-cancel": closeFillPanel(); break;
      default: break;
    }
  }

  function rememberRecord(record, action) {
    if (!record?.pi) return;
    const key = String(record.pi).toUpperCase();
    const before = page.records.get(key);
    // A later job without a code (a cancelled one, say) must not hide a code already fetched.
    const code = record.code || (record.state !== "done" ? before?.code : "") || "";
    page.records.set(key, { ...record, code, action });
    page.pendingRows.add(key);
    if (!page.job?.keys.has(key)) return;
    if (FINISHED.has(record.state)) page.job.finished.add(key); else page.job.finished.delete(key);
    if (record.state === "cancelled") page.job.cancelled.add(key); else page.job.cancelled.delete(key);
  }

  /** Follow a job the background knows about (started here, from the menu, or before a reload). */
  function adoptJob(job) {
    if (!job) return;
    const isNew = page.job?.id !== job.id;
    const pis = job.pis || [];
    if (isNew) {
      page.job = { id: job.id, action: job.action, total: 0, running: false, pis,
        keys: new Set(pis.map((pi) => pi.toUpperCase())), finished: new Set(), cancelled: new Set() };
    }
    page.job.total = job.total || pis.length || 0;
    page.job.running = job.running;
    for (const record of Object.values(job.students || {})) rememberRecord(record, job.action);
    if (job.summary) showSummary(job.summary);
    else if (job.error) showProblem(job.error);
    else if (job.running && isNew) showMessage(`Working on ${plural(page.job.total, "student")}…`);
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
    // How the files got to the folder the summary names, when not simply fetched now.
    const how = summary.how || {};
    const copiedFrom = Array.isArray(summary.copied_from) ? summary.copied_from : [];
    const notes = [];
    if (how.copied) notes.push(`${plural(how.copied, "student")}' files copied from ${copiedFrom.join(", ") || "an earlier download"} (checked)`);
    if (how.fetched_again) notes.push(`${plural(how.fetched_again, "student")} fetched again (the earlier download elsewhere was missing or changed)`);
    if (how.already_downloaded) notes.push(`${plural(how.already_downloaded, "student")} already there from an earlier run`);
    if (notes.length) text += `. ${notes.join("; ")}.`;
    let kind = counts.failed ? "error" : "done";
    if (summary.outcome === "disk_full") {
      text = `Stopped: ${summary.stopped_because || "the disk is nearly full."} ${text}`;
      kind = "error";
    } else if (summary.outcome === "needs_login") {
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
    const startedAt = performance.now();
    try {
      renderPending();
    } finally {
      performance.measure("etma-helper:render", { start: startedAt, end: performance.now() });
    }
  }

  /** Apply every record that arrived since the last frame; only writes, never reads layout. */
  function renderPending() {
    for (const key of page.pendingRows) {
      const row = page.rows.get(key);
      if (row?.isConnected) paintRow(row, page.records.get(key));
    }
    page.pendingRows.clear();
    const bar = part('[data-role="progress"]');
    const words = part('[data-role="progress-text"]');
    if (bar && page.job) {
      const total = Math.max(page.job.total, 1);
      const finished = Math.min(page.job.finished.size, total);
      bar.max = total;
      bar.value = finished;
      if (words.textContent !== progressWords(page.job, finished)) words.textContent = progressWords(page.job, finished);
    }
    updateButtons();
  }

  /** "120 of 300" while running, "120 of 300 finished" after; cancelled students are named apart. */
  function progressWords(job, finished) {
    const cancelled = job.cancelled.size ? `, ${job.cancelled.size} cancelled` : "";
    return `${finished} of ${job.total}${job.running ? "" : " finished"}${cancelled}`;
  }

  // --- Wiring -----------------------------------------------------------------------------------

  function isOwnNode(node) {
    const elementNode = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
    return Boolean(elementNode?.closest?.(OWN_SELECTOR));
  }

  function watchForReRender() {
    let timer = null;
    page.observer = new MutationObserver(guard((mutations) => {
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
    page.observer.observe(document.body, { childList: true, subtree: true });
  }

  function start() {
    if (!document.body) return;
    performance.mark("etma-helper:inject:start");
    const enhanced = enhance();
    performance.measure("etma-helper:inject", "etma-helper:inject:start");
    if (!enhanced) return; // nothing to enhance on this page

    document.addEventListener("click", guard(trustedOnly((event) => {
      const target = event.target;
      if (!(target instanceof HTMLInputElement)) return;
      if (target.classList.contains("etma-helper-select")) onRowCheckboxClick(target, event);
      else if (target.classList.contains("etma-helper-select-all")) onSelectAllBoxClick();
    })), true);

    // The browser's own menu follows a real right-click; a page's made-up one must not choose the row.
    document.addEventListener("contextmenu", guard(trustedOnly((event) => {
      page.contextPi = studentAt(event.target);
    })), true);

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
          case "notice": message.error ? showProblem(message.error) : showMessage(String(message.text || "")); break;
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
