/*
 * eTMA Helper on the OSCAR page — the rows and the selection: a checkbox cell and a status cell on
 * every student row, a select-all box in the header, padding on other rows; (re-)attaching them
 * whenever the table is found or re-rendered; painting a row's state (its words, a detail line
 * with the reason or folder as text, and a finished row's "Open folder" button, pressed only by
 * the tutor's real click: content/oscar.js); and which students are selected. The selection lives in this script's memory (page.selected, keyed by the PI read when
 * the row was enhanced), never in a box's `checked` or an attribute the page could set.
 *
 * Speed: a 2,000-row table is enhanced in one pass that only writes (cells are cloned from
 * templates, nothing reads layout).
 */
"use strict";

(() => {
  const oscar = globalThis.etmaOscar;
  if (Object.isFrozen(oscar)) return; // already running in this world: see content/oscar.js
  const { OWN_CELL, page, ownCells, keyOf, guard } = oscar.state;
  const { piOfRow, nameOfRow, findStudentTable } = oscar.reading;
  const { element } = globalThis.etmaDom;
  const { statusWords, detailWords } = oscar.words;

  /**
   * Show a row's latest record: its state attribute, its words, its detail line (the reason and
   * the folder as text a keyboard or screen-reader user reaches) and, for a finished download,
   * its "Open folder" button. Never touches the page's fields.
   */
  function paintRow(row, record) {
    const state = record?.state && record.state !== "idle" ? record.state : "idle";
    if (row.dataset.etmaState !== state) row.dataset.etmaState = state;
    const cells = ownCells.get(row);
    if (!cells) return;
    const words = statusWords(record);
    if (cells.words.textContent !== words) cells.words.textContent = words;
    const detail = detailWords(record);
    if (cells.detail.textContent !== detail) cells.detail.textContent = detail;
    // The full path for a mouse user; the same facts are in the detail line as text.
    const full = [record?.reason, record?.folder].filter(Boolean).join(" — ");
    if (full) cells.status.title = full; else if (cells.status.hasAttribute("title")) cells.status.removeAttribute("title");
    const openable = state === "done" && Boolean(record?.folder);
    if (cells.open.hidden === openable) cells.open.hidden = !openable;
    if (openable) {
      const label = `Open the folder with ${nameOfRow(row, page.columns, keyOf.get(row) || "")}'s files`;
      if (cells.open.getAttribute("aria-label") !== label) cells.open.setAttribute("aria-label", label);
    }
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
      cell.append(element("span", { class: "etma-helper-words" }),
        element("span", { class: "etma-helper-detail" }),
        element("button", { type: "button", class: "etma-helper-open", hidden: "" }, "Open folder"));
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
    // Written for tests and styles, never read back: the key lives in keyOf.
    if (row.dataset.etmaPi !== pi) row.dataset.etmaPi = pi;
    let cells = attachedCells(row);
    keyOf.set(row, key);
    if (!cells) {
      for (const stale of row.querySelectorAll(":scope > .etma-helper-select-cell, :scope > .etma-helper-status")) stale.remove();
      const select = templates.selectCell.cloneNode(true);
      const box = select.firstChild;
      box.setAttribute("aria-label", `Select ${nameOfRow(row, page.columns, pi)} (${pi})`);
      const status = templates.statusCell.cloneNode(true);
      const [words, detail, open] = status.children;
      row.insertBefore(select, row.firstChild);
      row.append(status);
      cells = { select, box, status, words, detail, open };
      ownCells.set(row, cells);
    }
    keyOf.set(cells.box, key);
    const checked = page.selected.has(key);
    if (cells.box.checked !== checked) cells.box.checked = checked;
    const record = page.records.get(key);
    if (record || row.dataset.etmaState !== "idle") paintRow(row, record);
    oscar.unlock.paintRow(row, key); // OSCAR's answer to an unlock, again after a re-render
  }

  /** Keep other rows (totals, notes) lined up with the added columns. */
  function padOtherRow(row) {
    if (!row.querySelector(":scope > .etma-helper-pad-start")) row.insertBefore(templates.padStart.cloneNode(false), row.firstChild);
    if (!row.querySelector(":scope > .etma-helper-pad-end")) row.append(templates.padEnd.cloneNode(false));
  }

  /** Find the table and (re-)attach everything; safe to call any number of times. False: no table. */
  function enhance() {
    const found = findStudentTable();
    if (!found) return false;
    const { table, header, columns } = found;
    page.table = table;
    if (page.problemsOnly) table.dataset.etmaFilter = "problems"; // again after a re-render
    page.columns = columns;
    if (!page.toolbar) page.toolbar = oscar.toolbar.build();
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
    oscar.toolbar.updateButtons();
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
    const counter = oscar.toolbar.part('[data-role="count"]');
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

  oscar.rows = Object.freeze({
    paintRow, enhance, setSelected, onRowCheckboxClick, onSelectAllBoxClick, studentAt,
  });
})();
