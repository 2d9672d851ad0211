/*
 * eTMA Helper on the OSCAR marks page — "Export marks worksheet": the helper writes
 * third_marking.xlsx (and .csv) for the students flagged for third marking, in its own folder
 * for the page's module, with their names and the confirmation codes it already has; the
 * message says where, how many it kept typed values for, and who has no code yet, with an
 * "Open folder" button. The page sends its marks and its module and assignment, never a path.
 *
 * marks.js puts the button on its toolbar and hands the tutor's real clicks on this file's
 * buttons to press(). Test hooks: [data-action=export-worksheet] on the marks toolbar, and,
 * after an export, [data-action=open-worksheet-folder] in its [data-role=message] line.
 */
"use strict";

(() => {
  const oscar = globalThis.etmaOscar;
  if (Object.isFrozen(oscar)) return; // already running in this world: see content/oscar.js
  const { page } = oscar.state;
  const { findModuleAndAssignment } = oscar.reading;
  const { findMarksTable, flagRows } = oscar.marksReading;
  const { showMessage, showProblem } = oscar.toolbar;
  const { element } = globalThis.etmaDom;
  const { ask, plural } = globalThis.etmaShared;

  /** Longest name the helper takes in a cell. */
  const MAX_NAME = 200;
  /**
   * Most characters of marks one export sends: well inside the helper's 1 MiB message. A page
   * longer than that sends the flagged students' marks alone.
   */
  const MAX_ROWS_CHARS = 900_000;

  const part = (selector) => page.shadow?.querySelector(selector);

  /** The marks of `students` as the helper takes them, each student's name on their first row. */
  function exportRows(read, students) {
    const perStudent = read.questions.length;
    return flagRows(read, students).map((row, index) => {
      const name = students[Math.floor(index / perStudent)].name.slice(0, MAX_NAME);
      return index % perStudent === 0 && name ? { ...row, name } : row;
    });
  }

  /** What the helper wrote, in the tutor's words. */
  function writtenWords(data) {
    const parts = [`Worksheet for ${plural(data.rows, "student")} written to ${data.path}`];
    if (data.kept) parts.push(`what you typed for ${plural(data.kept, "student")} is kept`);
    if (data.without_code) {
      parts.push(`${data.without_code} without a confirmation code yet: get their codes on the work `
        + "allocation page (Select flagged, then Get confirmation codes) and export again");
    }
    return `${parts.join("; ")}.${data.note ? ` ${data.note}` : ""}`;
  }

  /** "Export marks worksheet": ask the helper to write it for the flagged students. */
  async function exportWorksheet(flagged) {
    const { module, assignment } = findModuleAndAssignment();
    if (!module) {
      showMessage("This page does not say which module it is for, so the worksheet has no folder to go in.",
        { kind: "error" });
      return;
    }
    const read = findMarksTable();
    if (!read) {
      showMessage("The marks table is no longer on this page, so there is nothing to export.", { kind: "error" });
      return;
    }
    let rows = exportRows(read, read.students);
    if (JSON.stringify(rows).length > MAX_ROWS_CHARS) {
      const wanted = new Set(flagged);
      rows = exportRows(read, read.students.filter((s) => wanted.has(s.pi.toUpperCase())));
    }
    const button = part('[data-action="export-worksheet"]');
    button?.toggleAttribute("disabled", true);
    showMessage(`Writing the marks worksheet for ${plural(flagged.length, "flagged student")}…`);
    try {
      const answer = await ask({ type: "thirdMarking", what: "export", module, assignment, rows, students: "flagged" });
      if (answer?.error || !answer?.data) {
        showProblem(answer?.error ?? { text: "The helper did not answer." });
        return;
      }
      showMessage(writtenWords(answer.data), { kind: "done", announce: "Marks worksheet written." });
      part('[data-role="message"]')?.append(" ", element("button", { type: "button",
        "data-action": "open-worksheet-folder", "data-module": answer.data.module || module }, "Open folder"));
    } finally {
      button?.toggleAttribute("disabled", flagged.length === 0);
    }
  }

  /** The worksheet's folder on the desktop: the helper's folder for the module. */
  async function openFolder(module) {
    const answer = await ask({ type: "openFromPage", what: "folder", module });
    if (answer?.error) showProblem(answer.error);
    else showMessage(`Opened ${answer?.data?.opened || "the folder"}.`, { kind: "done", announce: "Folder opened." });
  }

  /**
   * A tutor's real click on one of this file's buttons (marks.js passes every toolbar button
   * here that it does not handle itself).
   * @param {HTMLButtonElement} button
   * @param {string[]} flagged the flagged students' PIs, upper-case
   */
  function press(button, flagged) {
    const action = button.dataset.action;
    if (action === "export-worksheet") return exportWorksheet(flagged);
    if (action === "open-worksheet-folder") return openFolder(button.dataset.module);
    return Promise.resolve();
  }

  oscar.marksExport = Object.freeze({ press, writtenWords, exportRows });
})();
