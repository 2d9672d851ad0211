/*
 * eTMA Helper on the OSCAR marks page — reading OSCAR's marks table by meaning: a table with a row
 * whose label says "Maximum mark" (each question's maximum under its column), optionally a
 * "Weighting" row, a header naming the questions and "PI", and per student a "First marker" row
 * and a "Second marker" row. Cells spanning rows or columns (the student's name and PI span both
 * marker rows) are read through a grid of the table's columns. Only reads; never changes the page.
 * Adds oscar.marksReading to globalThis.etmaOscar.
 */
"use strict";

(() => {
  const oscar = globalThis.etmaOscar;
  if (Object.isFrozen(oscar)) return; // already running in this world: see content/oscar.js
  const { OWN_CELL } = oscar.state;
  const { PATTERNS } = globalThis.etmaProtocol;

  const MAXIMUM_LABEL = /^max(imum)?\.?( marks?)?( available)?$|^out of$/i;
  const WEIGHT_LABEL = /^weight(ing)?s?$/i;
  const FIRST_LABEL = /^(1st|first)( marker)?$/i;
  const SECOND_LABEL = /^(2nd|second)( marker)?$/i;
  const PI_HEADER = /^(PI|personal identifier)$/i;
  const NAME_HEADER = /name/i;
  const NUMBER = /^\d{1,4}(\.\d{1,3})?$/;
  /** Rows after a first-marker row that are searched for the same student's second-marker row. */
  const SECOND_ROW_REACH = 3;

  const cellText = (cell) => (cell?.textContent || "").replace(/\s+/g, " ").trim();

  /**
   * The table as a grid of its page cells: grid[r][c] is the cell covering row r, column c,
   * whatever its rowspan and colspan (this script's own cells left out).
   * @param {HTMLTableElement} table
   * @returns {HTMLTableCellElement[][]}
   */
  function gridOf(table) {
    const rows = [...table.rows];
    const grid = rows.map(() => []);
    rows.forEach((row, r) => {
      let column = 0;
      for (const cell of row.cells) {
        if (cell.classList.contains(OWN_CELL)) continue;
        while (grid[r][column]) column += 1;
        const across = Math.min(Math.max(cell.colSpan || 1, 1), 100);
        const down = Math.min(Math.max(cell.rowSpan || 1, 1), rows.length - r);
        for (let dr = 0; dr < down; dr += 1) {
          for (let dc = 0; dc < across; dc += 1) grid[r + dr][column + dc] = cell;
        }
        column += across;
      }
    });
    return grid;
  }

  /** The first row whose cells include one matching `pattern`; -1 if none. */
  const rowWith = (grid, pattern, from = 0) =>
    grid.findIndex((cells, r) => r >= from && cells.some((cell) => pattern.test(cellText(cell))));

  /** The first cell of a grid row that holds a PI, as written. */
  function piIn(cells) {
    for (const cell of new Set(cells)) {
      const text = cellText(cell);
      if (PATTERNS.pi.test(text)) return text;
    }
    return null;
  }

  /**
   * The marks a table holds, or null when it is not OSCAR's marks table.
   * @param {HTMLTableElement} table
   * @returns {null | {table: HTMLTableElement, headerRow: HTMLTableRowElement,
   *   questions: {name: string, column: number, maximum: string, weight: string}[],
   *   students: {pi: string, name: string, firstRow: HTMLTableRowElement,
   *     secondRow: HTMLTableRowElement, first: string[], second: string[]}[]}}
   */
  function readMarksTable(table) {
    const grid = gridOf(table);
    const rows = [...table.rows];
    const header = rowWith(grid, PI_HEADER);
    const maximumRow = rowWith(grid, MAXIMUM_LABEL);
    if (header < 0 || maximumRow < 0) return null;
    const weightRow = rowWith(grid, WEIGHT_LABEL);
    const questions = [];
    grid[maximumRow].forEach((cell, column) => {
      const maximum = cellText(cell);
      const name = cellText(grid[header][column]);
      if (!NUMBER.test(maximum) || Number(maximum) <= 0 || !name) return;
      if (questions.some((q) => q.column === column || grid[maximumRow][q.column] === cell)) return;
      const weight = weightRow >= 0 ? cellText(grid[weightRow][column]) : "";
      questions.push({ name, column, maximum, weight: NUMBER.test(weight) ? weight : "" });
    });
    if (!questions.length) return null;
    const headers = grid[header].map(cellText);
    const nameColumn = headers.findIndex((text) => NAME_HEADER.test(text));
    const isLabel = (cells, pattern) => cells.some((cell, c) =>
      !questions.some((q) => q.column === c) && pattern.test(cellText(cell)));
    const students = [];
    const seen = new Set();
    grid.forEach((cells, r) => {
      if (r <= header || !isLabel(cells, FIRST_LABEL)) return;
      const pi = piIn(cells);
      if (!pi || seen.has(pi.toUpperCase())) return;
      const partner = grid.slice(r + 1, r + 1 + SECOND_ROW_REACH)
        .findIndex((other) => isLabel(other, SECOND_LABEL) && piIn(other)?.toUpperCase() === pi.toUpperCase());
      if (partner < 0) return;
      const second = grid[r + 1 + partner];
      seen.add(pi.toUpperCase());
      const name = nameColumn >= 0 ? cellText(cells[nameColumn]) : "";
      students.push({
        pi, name: PATTERNS.pi.test(name) ? "" : name, firstRow: rows[r], secondRow: rows[r + 1 + partner],
        first: questions.map((q) => cellText(cells[q.column])),
        second: questions.map((q) => cellText(second[q.column])),
      });
    });
    return students.length ? { table, headerRow: rows[header], questions, students } : null;
  }

  /** The page's marks table, read; null when the page has none. */
  function findMarksTable() {
    for (const table of document.querySelectorAll("table")) {
      const read = readMarksTable(table);
      if (read) return read;
    }
    return null;
  }

  /**
   * The marks as the helper's `flags` action takes them: one row per student per question (of
   * `students`, all of them unless given). Names stay on the page: the answer needs none.
   */
  function flagRows(read, students = read.students) {
    return students.flatMap((student) => read.questions.map((question, index) => ({
      pi: student.pi, question: question.name, max: question.maximum,
      weight: question.weight, first: student.first[index], second: student.second[index],
    })));
  }

  oscar.marksReading = Object.freeze({ gridOf, readMarksTable, findMarksTable, flagRows });
})();
