/*
 * eTMA Helper on the OSCAR page — reading the page: everything that depends on OSCAR's markup.
 * Finds the student table by meaning (a header cell "PI", rows holding a PI), a row's PI, name and
 * confirmation-code field, and the module and assignment. Only reads; never changes the page.
 * What a PI, a module and an assignment look like comes from lib/protocol.js, as the helper checks.
 */
"use strict";

(() => {
  const oscar = globalThis.etmaOscar;
  if (Object.isFrozen(oscar)) return; // already running in this world: see content/oscar.js
  const { OWN_CELL } = oscar.state;
  const { PATTERNS } = globalThis.etmaProtocol;

  const PI_HEADER_PATTERN = /^(PI|personal identifier)$/i;
  const NAME_HEADER_PATTERN = /name/i;
  // Where the page names them in running text; what is found must still match PATTERNS.
  const MODULE_IN_TEXT = /\b[Mm]odule(?: code)?:?\s+([A-Z]{1,5}\d{1,4}[A-Z]?)\b/;
  const ASSIGNMENT_IN_TEXT = /\b[Aa]ssignment:?\s+([A-Z]{2,5} ?\d{1,3})\b/;
  /** What a confirmation-code field is called, labelled or titled. */
  const CODE_FIELD_MEANING = /confirm|code/i;
  const TEXT_INPUT_TYPES = new Set(["text", "", "search"]);

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
    if (text && PATTERNS.pi.test(text)) return text;
    for (const cell of pageCells(row)) {
      if (cell.childElementCount > 3) continue; // a form or a list, not an identifier
      const other = cellText(cell);
      if (PATTERNS.pi.test(other)) return other;
    }
    return null;
  }

  /** The student's name as the row shows it, else its first other text, else "student". */
  function nameOfRow(row, columns, pi) {
    const named = cellText(pageCellAt(row, columns.name) ?? { textContent: "" });
    if (named) return named;
    return pageCells(row).map(cellText).find((text) => text && text !== pi) || "student";
  }

  /**
   * The first table on the page (or in `root`: a page OSCAR sent back, parsed) with a "PI"
   * header and at least one student row.
   */
  function findStudentTable(root = document) {
    for (const table of root.querySelectorAll("table")) {
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
      module: PATTERNS.module.test(module) ? module.toUpperCase() : "",
      assignment: PATTERNS.assignment.test(assignment) ? assignment.toUpperCase() : "",
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

  oscar.reading = Object.freeze({
    piOfRow, nameOfRow, findStudentTable, findModuleAndAssignment, codeFieldOf,
  });
})();
