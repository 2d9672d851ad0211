/*
 * eTMA Helper on the OSCAR marks page — Fill marks: the third marks and comments a tutor typed
 * into the module's marks worksheet, put into OSCAR through OSCAR's own third-marks forms.
 *
 * "Fill marks" (the tutor's real click only) asks the helper (`worksheet_marks`) for the filled
 * worksheet's marks, checked against this page's marks; every problem in it is named by row and
 * nothing is filled. Then each student's third-marks form is fetched (this page's origin only) to
 * see what OSCAR holds, and a preview panel says, per student, what goes into which field: the
 * same as OSCAR (skipped), fill, needs unlocking with the worksheet's confirmation code, or OSCAR
 * already holds other marks (typed by hand), which are replaced only when the tutor ticks that
 * student's Replace box. On confirmation each student in turn: unlocked where needed through the
 * work allocation's own "Unlock third marking" form (content/unlock.js, fetched and sent without
 * leaving this page), then their form fetched afresh, its fields filled by meaning (each
 * question's label, the comments box; never by ids) and sent as the browser would send it
 * (content/forms.js); OSCAR's answer is read back (the errors it shows next to fields, or the
 * saved marks it shows back) and shown per student. One student's failure leaves the others going.
 *
 * The first half is pure (no DOM: tests/js checks it in Node); the second reads and sends.
 *
 * Test hooks: the toolbar button [data-action=fill-marks]; the panel [data-role=marks-panel] with
 * one [data-marks-pi=PI] row per student, its [data-role=plan] cell (data-plan same|fill|differs|
 * unlock|no_code|problem), input[data-role=replace-marks] where OSCAR holds other marks, its
 * [data-role=fill-result] cell (data-outcome saved|refused|error|sign_in|not_sent|kept|same|
 * working), and [data-action=marks-confirm|marks-cancel].
 */
"use strict";

(() => {
  const oscar = globalThis.etmaOscar;
  if (Object.isFrozen(oscar)) return; // already running in this world: see content/oscar.js
  const { plural } = globalThis.etmaShared;

  // --- What goes where, and what OSCAR said: pure ---------------------------------------------

  /** A mark as compared: "7.50" and "7.5" are one mark; "" is none. */
  function markKey(text) {
    const trimmed = String(text ?? "").trim();
    return /^-?\d+(\.\d+)?$/.test(trimmed) ? String(Number(trimmed)) : trimmed;
  }

  /** A comment as compared: how its spaces and line breaks fall does not count (OSCAR shows it back on one line). */
  const commentKey = (text) => String(text ?? "").replace(/\s+/g, " ").trim();

  /**
   * What Fill marks would do for one student.
   * @param {{marks: {question: string, mark: string}[], comment: string, code: string}} wanted
   *   the worksheet's marks
   * @param {null | {marks: Object<string, string>, comment: string}} held what OSCAR's form holds
   *   (null: third marking is still locked, so OSCAR shows no form)
   * @returns {"same"|"fill"|"differs"|"unlock"|"no_code"}
   */
  function planFor(wanted, held) {
    if (!held) return wanted.code ? "unlock" : "no_code";
    const empty = Object.values(held.marks).every((mark) => !markKey(mark)) && !commentKey(held.comment);
    if (empty) return "fill";
    const same = wanted.marks.every(({ question, mark }) => markKey(held.marks[question]) === markKey(mark))
      && commentKey(held.comment) === commentKey(wanted.comment);
    return same ? "same" : "differs";
  }

  /** Do two looks at OSCAR's form show the same marks and comment? */
  function sameHeld(one, other) {
    if (!one || !other) return false;
    const questions = new Set([...Object.keys(one.marks), ...Object.keys(other.marks)]);
    return [...questions].every((question) => markKey(one.marks[question]) === markKey(other.marks[question]))
      && commentKey(one.comment) === commentKey(other.comment);
  }

  /** "Q1 7.5 · Q2 6 · …": marks by question, in the questions' order. */
  function marksWords(marks, questions) {
    return questions.map((question) => `${question} ${markKey(marks[question]) || "–"}`).join(" · ");
  }

  /** The marks a student's worksheet row gives, by question. */
  const byQuestion = (wanted) => Object.fromEntries(wanted.marks.map(({ question, mark }) => [question, mark]));

  /** What a plan means, in the preview's words. */
  function planWords(plan, code = "") {
    switch (plan) {
      case "same": return "Same as OSCAR: skipped";
      case "fill": return "Fill: OSCAR holds no third marks yet";
      case "differs": return "OSCAR holds other marks (typed by hand?): kept unless you tick Replace";
      case "unlock": return `Needs unlocking with code ${code}, then fill`;
      case "no_code": return "Locked, and the worksheet has no confirmation code for this student: not filled (get the codes, export the worksheet again)";
      default: return "";
    }
  }

  /**
   * OSCAR's answer to one student's saved form.
   * @param {{status: number, signIn: boolean, sent: {marks: Object<string, string>, comment: string},
   *   shownBack: null | {marks: Object<string, string>, comment: string|null},
   *   fieldErrors: string[], pageTexts: string[]}} reply
   * @returns {{outcome: "saved"|"refused"|"error"|"sign_in", reason: string}}
   */
  function saveAnswer({ status, signIn, sent, shownBack, fieldErrors = [], pageTexts = [] }) {
    if (signIn) return { outcome: "sign_in", reason: "OSCAR asked you to sign in again." };
    const said = oscar.unlock.oscarWords([...fieldErrors, ...pageTexts]);
    if (status >= 400) return { outcome: "error", reason: `OSCAR answered HTTP ${status}${said ? `: ${said}` : "."}` };
    const shownSame = shownBack
      && Object.entries(sent.marks).every(([question, mark]) => markKey(shownBack.marks[question]) === markKey(mark))
      && (shownBack.comment === null || commentKey(shownBack.comment) === commentKey(sent.comment));
    if (shownSame && !fieldErrors.length) return { outcome: "saved", reason: pageTexts.join(" ") };
    if (fieldErrors.length) return { outcome: "refused", reason: fieldErrors.join("; ") };
    return { outcome: "refused", reason: said || "OSCAR did not show the marks saved, and gave no reason." };
  }

  /** What a student's result cell says. */
  function resultWords(result) {
    switch (result?.outcome) {
      case "working": return "Saving…";
      case "unlocking": return "Unlocking…";
      case "saved": return "Saved in OSCAR";
      case "same": return "Same as OSCAR: skipped";
      case "kept": return `Not replaced: ${result.reason}`;
      case "refused": return `Not saved: OSCAR said “${result.reason}”`;
      case "sign_in": return "Not saved: OSCAR asked you to sign in again";
      case "error":
      case "not_sent": return `Not saved: ${result.reason}`;
      default: return "";
    }
  }

  /**
   * The sentence said when a run ends: how many of the students sent were saved, who was not and
   * why, and how many kept OSCAR's own marks as the tutor chose. `results`: {name, pi, result}.
   */
  function fillSummary(results, keptByChoice = 0) {
    const saved = results.filter(({ result }) => result.outcome === "saved").length;
    const same = results.filter(({ result }) => result.outcome === "same").length;
    const others = results.filter(({ result }) => !["saved", "same"].includes(result.outcome));
    const head = `Saved third marks for ${saved} of ${plural(results.length, "student")} in OSCAR.`;
    const sameText = same ? ` ${same} already showed the same marks.` : "";
    const lines = others.map(({ name, pi, result }) => `${name || pi} (${pi}): ${resultWords(result).replace(/^Not saved: /, "")}`);
    const keptText = keptByChoice ? ` Kept the marks OSCAR holds for ${plural(keptByChoice, "student")}, as you chose.` : "";
    return `${head}${sameText}${lines.length ? ` Not saved: ${lines.join("; ")}` : ""}${keptText}`;
  }

  // --- Reading OSCAR's pages by meaning -------------------------------------------------------

  const TEXT_TYPES = new Set(["text", "", "number", "search"]);
  const THIRD_MARKS_LINK = /third marks?/i;
  const ALLOCATION_LINK = /work allocation/i;
  const SAVED_TITLE = /saved/i;
  const COMMENT_WORDS = /comment/i;
  const textOf = (node) => (node?.textContent || "").replace(/\s+/g, " ").trim();
  const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

  /** Does `text` name `question` as a word of its own ("Q1", not in "Q10")? */
  const names = (text, question) => new RegExp(`(^|[^A-Za-z0-9])${escape(question)}(?![A-Za-z0-9])`, "i").test(text);

  /**
   * What a form field is called: its labels, accessible name and title; without those, the text
   * of its table row outside the field's own cell. Never its name or id.
   */
  function meaningOf(field) {
    const labels = field.labels ? [...field.labels].map(textOf) : [];
    const said = [...labels, field.getAttribute("aria-label") || "", field.title || ""].filter(Boolean);
    if (said.length) return said.join(" ");
    const row = field.closest("tr");
    return row ? [...row.cells].filter((cell) => !cell.contains(field)).map(textOf).join(" ") : "";
  }

  /**
   * The third-marks form in an OSCAR page: a text field per question, found by its label, and
   * the comments box. Null when the page has no form with any question's field.
   * @returns {null | {form: HTMLFormElement, fields: Map<string, HTMLInputElement>,
   *   comments: HTMLTextAreaElement|null, missing: string[], submitter: HTMLElement|null}}
   */
  function readThirdMarksForm(doc, questions) {
    for (const form of doc.querySelectorAll("form")) {
      const inputs = [...form.elements].filter((field) => field.tagName === "INPUT" && TEXT_TYPES.has(field.type)
        && !field.disabled && !field.readOnly);
      const fields = new Map();
      for (const question of questions) {
        const found = inputs.filter((field) => names(meaningOf(field), question));
        if (found.length === 1) fields.set(question, found[0]);
      }
      if (!fields.size) continue;
      const areas = [...form.elements].filter((field) => field.tagName === "TEXTAREA" && !field.disabled && !field.readOnly);
      const comments = areas.find((area) => COMMENT_WORDS.test(meaningOf(area))) ?? (areas.length === 1 ? areas[0] : null);
      const buttons = [...form.elements].filter((control) => ["submit", "image"].includes(control.type) && !control.disabled);
      const submitter = buttons.length === 1 ? buttons[0]
        : buttons.find((button) => /save/i.test(`${button.value} ${textOf(button)}`)) ?? null;
      return { form, fields, comments, missing: questions.filter((question) => !fields.has(question)), submitter };
    }
    return null;
  }

  /** What a form holds now: marks by question and the comment. */
  function heldIn(found) {
    return {
      marks: Object.fromEntries([...found.fields].map(([question, field]) => [question, field.value.trim()])),
      comment: found.comments?.value ?? "",
    };
  }

  /**
   * The saved marks a page shows back: the table titled (caption or heading before it) as saved,
   * its header naming the questions (and comments), its next row the values. Null when none.
   */
  function shownBackIn(doc, questions) {
    for (const table of doc.querySelectorAll("table")) {
      const before = table.previousElementSibling;
      const title = textOf(table.caption) || (/^H\d$/.test(before?.tagName ?? "") ? textOf(before) : "");
      if (!SAVED_TITLE.test(title)) continue;
      const rows = [...table.rows];
      const header = rows.findIndex((row) => [...row.cells].some((cell) => questions.some((q) => names(textOf(cell), q))));
      const values = rows[header + 1];
      if (header < 0 || !values) continue;
      const heads = [...rows[header].cells].map(textOf);
      const cellFor = (test) => {
        const at = heads.findIndex(test);
        return at >= 0 && values.cells[at] ? textOf(values.cells[at]) : null;
      };
      const marks = Object.fromEntries(questions.map((q) => [q, cellFor((head) => head.toUpperCase() === q.toUpperCase()) ?? cellFor((head) => names(head, q)) ?? ""]));
      return { marks, comment: cellFor((head) => COMMENT_WORDS.test(head)) };
    }
    return null;
  }

  /** A link in `roots` whose words match `pattern`, on this page's origin; its address or null. */
  function linkIn(roots, pattern, base = location.href) {
    for (const root of roots) {
      for (const link of root?.querySelectorAll?.("a[href]") ?? []) {
        if (!pattern.test(textOf(link))) continue;
        const address = oscar.forms.sameOrigin(link.getAttribute("href"), base);
        if (address) return address.href;
      }
    }
    return null;
  }

  /** The marks table of a page (this one, or one fetched): marksReading's reading of its tables. */
  function marksTableIn(doc) {
    for (const table of doc.querySelectorAll("table")) {
      const read = oscar.marksReading.readMarksTable(table);
      if (read) return read;
    }
    return null;
  }

  /** A student's third-marks form address from a marks table's rows; null while it is locked. */
  function formAddressOf(student, base = location.href) {
    return linkIn([student.firstRow, student.secondRow], THIRD_MARKS_LINK, base);
  }

  // --- The panel, and sending -----------------------------------------------------------------

  const PANEL_CSS = `
    .marks-panel { margin-top: 0.35em; border: 1px solid #9aa8b6; background: #fff; padding: 0.5em 0.7em; }
    .marks-panel[hidden] { display: none; }
    .marks-panel h2 { font-size: 13px; margin: 0 0 0.4em; color: #0a3d6e; }
    .marks-panel p { margin: 0.3em 0; }
    .marks-panel .list { max-height: 20em; overflow: auto; border: 1px solid #d4dbe2; }
    .marks-panel table { border-collapse: collapse; width: 100%; }
    .marks-panel th, .marks-panel td { text-align: left; vertical-align: top; padding: 0.2em 0.5em;
      border-bottom: 1px solid #e3e8ed; }
    .marks-panel th { background: #eef2f6; position: sticky; top: 0; }
    .marks-panel .comment { white-space: pre-wrap; max-width: 24em; }
    .marks-panel tr[data-plan="differs"] td { background: #fff8e6; }
    .marks-panel tr[data-plan="same"] td { color: #4a5866; }
    .marks-panel .actions { display: flex; gap: 0.5em; margin-top: 0.5em; }
    .marks-panel button.secondary { background: #fff; color: #1b1b1b; border-color: #7b8a99; }
    .marks-panel label { cursor: pointer; }
    .marks-panel [data-outcome="saved"] { color: #17632a; }
    .marks-panel [data-outcome="refused"], .marks-panel [data-outcome="error"], .marks-panel [data-outcome="sign_in"],
    .marks-panel [data-outcome="not_sent"], .marks-panel [data-outcome="kept"] { color: #8f1010; font-weight: bold; }
  `;

  /**
   * @typedef {Object} MarksItem
   * @property {string} pi      upper-case PI
   * @property {string} name
   * @property {{marks: {question: string, mark: string}[], comment: string, code: string}} wanted
   * @property {string} plan    planFor's answer, or "problem"
   * @property {string} problem why nothing can be done for the student ("" when something can)
   * @property {null | {marks: Object<string, string>, comment: string}} held
   * @property {string|null} address  their third-marks form's address (null while locked)
   */

  /** The plan the open panel shows: {items, questions, worksheet}; null while it is closed. */
  let current = null;
  /** Fill marks is saving students' marks; looking: it is reading the worksheet and OSCAR. */
  let running = false;
  let looking = false;

  const part = (selector) => oscar.toolbar.part(selector);
  const say = (text, options) => oscar.toolbar.showMessage(text, options);

  /** Add the Fill marks button and its (empty) panel to the marks toolbar (content/marks.js). */
  function attach(root, bar) {
    const { element } = globalThis.etmaDom;
    const { trustedOnly, guard } = oscar.state;
    const button = element("button", { type: "button", "data-action": "fill-marks",
      title: "Put the third marks and comments from the marks worksheet into OSCAR, after a preview" }, "Fill marks");
    // In the order of the work: Select flagged, Export marks worksheet, then Fill marks.
    const after = bar.querySelector('[data-action="export-worksheet"]') ?? bar.querySelector('[data-action="select-flagged"]');
    if (after) after.after(button);
    else bar.append(button);
    root.append(element("style", {}, PANEL_CSS), element("div", { class: "marks-panel", "data-role": "marks-panel",
      role: "dialog", "aria-label": "Fill third marks into OSCAR", hidden: "" }));
    root.addEventListener("click", guard(trustedOnly((event) => {
      const target = event.target.closest?.("button[data-action]");
      if (!target || target.disabled) return;
      const failed = guard((error) => say(`Fill marks stopped: ${error?.message ?? error}`, { kind: "error" }));
      if (target.dataset.action === "fill-marks") open().catch(failed);
      else if (target.dataset.action === "marks-confirm") confirm().catch(failed);
      else if (target.dataset.action === "marks-cancel") close();
    })));
    root.addEventListener("change", guard(trustedOnly((event) => {
      if (event.target.matches?.('input[data-role="replace-marks"]')) updateConfirm();
    })));
    root.addEventListener("keydown", guard(trustedOnly((event) => {
      if (event.key === "Escape" && part('[data-role="marks-panel"]')?.hidden === false) close();
    })));
  }

  /** What OSCAR holds for a student: fetch their third-marks form (null held while locked). */
  async function lookUp(address, wanted, questions) {
    if (!address) return { held: null };
    const reply = await oscar.forms.fetchPage(address);
    if (reply.signIn) return { problem: "OSCAR asked you to sign in again: sign in, then press Fill marks again." };
    if (reply.status >= 400) return { problem: `OSCAR answered HTTP ${reply.status} for the third-marks form.` };
    const found = readThirdMarksForm(reply.doc, questions);
    if (!found) return { problem: "OSCAR's page for this student has no third-marks form." };
    if (found.missing.length) return { problem: `OSCAR's third-marks form has no field for ${found.missing.join(", ")}.` };
    if (commentKey(wanted.comment) && !found.comments) return { problem: "OSCAR's third-marks form has no comments box." };
    return { held: heldIn(found) };
  }

  /** Most parts of one worksheet's answer the page asks for (the helper sizes each by bytes). */
  const MAX_PARTS = 100;

  /**
   * The worksheet's students from the helper, asked part by part until it says there are no
   * more; every part must come from the same file. {data: {students, questions, worksheet}} or
   * {error}.
   */
  async function askWorksheet(module, assignment, rows) {
    const students = [];
    let first = null;
    let start = 0;
    for (let part = 0; part < MAX_PARTS; part += 1) {
      const answer = await globalThis.etmaShared.ask({ type: "thirdMarking", what: "worksheet", module, assignment, rows, start });
      if (answer?.error || !answer?.data) return answer;
      const data = answer.data;
      first ??= data;
      if (data.fingerprint !== first.fingerprint) {
        return { error: { text: "The marks worksheet changed while it was being read: save it, then press Fill marks again." } };
      }
      students.push(...(Array.isArray(data.students) ? data.students : []));
      if (!Number.isInteger(data.next) || data.next <= start) {
        return { data: { students, questions: first.questions, worksheet: first.worksheet } };
      }
      start = data.next;
    }
    return { error: { text: "The helper's answer about the marks worksheet did not end." } };
  }

  /** Fill marks: ask the helper, look up what OSCAR holds, and show the preview (one look at a time). */
  async function open() {
    if (running) {
      say("Fill marks is still saving; its answers show in the panel.");
      return;
    }
    if (looking) return;
    looking = true;
    try {
      await look();
    } finally {
      looking = false;
    }
  }

  async function look() {
    close(); // an earlier preview no longer says what OSCAR holds
    const read = marksTableIn(document);
    const { module, assignment } = oscar.reading.findModuleAndAssignment();
    if (!read || !module) {
      say("This page does not show its module and marks table, so no marks can be filled.", { kind: "error" });
      return;
    }
    say("Reading the marks worksheet…");
    const answer = await askWorksheet(module, assignment, oscar.marksReading.flagRows(read));
    if (answer?.error || !answer?.data) {
      close();
      oscar.toolbar.showProblem(answer?.error ?? { text: "The helper did not answer." });
      return;
    }
    const { students, questions, worksheet } = answer.data;
    if (!students.length) {
      close();
      say(`The marks worksheet (${worksheet}) has no third marks typed in yet: nothing to fill.`);
      return;
    }
    // This page as OSCAR shows it now: students unlocked since it loaded have their form's link.
    let now;
    try {
      now = await oscar.forms.fetchPage(location.href);
    } catch (error) {
      say(`OSCAR could not be reached (${oscar.forms.unreachableWords(error)}): nothing was filled.`, { kind: "error" });
      return;
    }
    if (now.signIn) {
      say("OSCAR asked you to sign in again: sign in, then press Fill marks again.", { kind: "error" });
      return;
    }
    const onPage = new Map((marksTableIn(now.doc)?.students ?? []).map((student) => [student.pi.toUpperCase(), student]));
    const items = [];
    for (const [index, wanted] of students.entries()) {
      say(`Looking at what OSCAR holds: ${index + 1} of ${students.length}…`);
      const student = onPage.get(wanted.pi.toUpperCase());
      const address = student ? formAddressOf(student, now.url) : null;
      const item = { pi: wanted.pi.toUpperCase(), name: wanted.name || student?.name || "", wanted, plan: "problem", problem: "", held: null, address };
      try {
        const seen = student ? await lookUp(address, wanted, questions) : { problem: "not on OSCAR's marks page." };
        if (seen.problem) item.problem = seen.problem;
        else {
          item.held = seen.held;
          item.plan = planFor(wanted, seen.held);
        }
      } catch (error) {
        item.problem = `OSCAR could not be reached (${oscar.forms.unreachableWords(error)}).`;
      }
      items.push(item);
    }
    current = { items, questions, worksheet };
    showPanel();
  }

  function showPanel() {
    const { element } = globalThis.etmaDom;
    const panel = part('[data-role="marks-panel"]');
    if (!panel || !current) return;
    const { items, questions, worksheet } = current;
    const table = element("table");
    const head = element("tr");
    for (const title of ["Student", "PI", "Third marks (worksheet)", "Comment", "In OSCAR now", "What happens", "OSCAR's answer"]) {
      head.append(element("th", { scope: "col" }, title));
    }
    table.append(head);
    for (const item of items) {
      const tr = element("tr", { "data-marks-pi": item.pi, "data-plan": item.plan });
      const now = item.plan === "fill" ? "nothing yet"
        : item.held ? `${marksWords(item.held.marks, questions)}${commentKey(item.held.comment) ? ` · “${item.held.comment}”` : ""}`
          : item.plan === "problem" ? "" : "locked";
      const what = element("td", { "data-role": "plan", "data-plan": item.plan });
      if (item.plan === "differs") {
        const label = element("label");
        label.append(element("input", { type: "checkbox", "data-role": "replace-marks",
          "aria-label": `Replace the marks OSCAR holds for ${item.pi} with the worksheet's` }), " Replace OSCAR's marks");
        what.append(element("div", {}, planWords(item.plan)), label);
      } else {
        what.textContent = item.plan === "problem" ? `Not filled: ${item.problem}` : planWords(item.plan, item.wanted.code);
      }
      tr.append(element("td", {}, item.name), element("td", {}, item.pi),
        element("td", {}, marksWords(byQuestion(item.wanted), questions)),
        element("td", { class: "comment" }, item.wanted.comment), element("td", {}, now), what,
        element("td", { "data-role": "fill-result" }));
      table.append(tr);
    }
    const list = element("div", { class: "list" });
    list.append(table);
    const actions = element("div", { class: "actions" });
    actions.append(element("button", { type: "button", "data-action": "marks-confirm" }),
      element("button", { type: "button", class: "secondary", "data-action": "marks-cancel" }, "Cancel"));
    // The module's folder and the file's name say which worksheet; the whole path is its title.
    const shortName = String(worksheet).split(/[\\/]/).slice(-2).join("/");
    panel.replaceChildren(element("h2", {}, "Fill third marks into OSCAR"),
      element("p", { title: worksheet }, `From ${shortName} in your download folder. Each student's marks go into the field for each question on their third-marks form, the comment into its comments box, and the form is saved through OSCAR. Marks OSCAR already holds are replaced only where you tick Replace.`),
      list, actions);
    panel.hidden = false;
    const count = updateConfirm();
    const same = items.filter((item) => item.plan === "same").length;
    if (!count) {
      say(`Nothing to change: ${same === items.length ? `all ${plural(items.length, "student")} in the worksheet already show the same marks in OSCAR` : "no student in the worksheet can be filled (see the panel)"}.`,
        { kind: same === items.length ? "done" : "error" });
    } else {
      say(`${plural(count, "student")} to fill from the worksheet: check the panel, then confirm.`);
    }
    (panel.querySelector('input[data-role="replace-marks"]') ?? panel.querySelector('[data-action="marks-confirm"]:not([disabled])')
      ?? panel.querySelector('[data-action="marks-cancel"]'))?.focus();
  }

  /** The students the run would send: fill and unlock, and those whose Replace box is ticked. */
  function chosen() {
    const panel = part('[data-role="marks-panel"]');
    return (current?.items ?? []).filter((item) => item.plan === "fill" || item.plan === "unlock"
      || (item.plan === "differs" && panel?.querySelector(`[data-marks-pi="${item.pi}"] input[data-role="replace-marks"]`)?.checked));
  }

  /** Word the confirm button for what it would do now; the number of students it would send. */
  function updateConfirm() {
    const button = part('[data-action="marks-confirm"]');
    const count = chosen().length;
    if (button) {
      button.textContent = count ? `Fill ${plural(count, "student")} in OSCAR` : "Nothing to change";
      button.toggleAttribute("disabled", count === 0 || running);
    }
    return count;
  }

  function close() {
    if (running) return;
    const panel = part('[data-role="marks-panel"]');
    if (panel) {
      panel.hidden = true;
      panel.replaceChildren();
    }
    current = null;
  }

  function showResult(item, result) {
    const cell = part(`[data-marks-pi="${item.pi}"] [data-role="fill-result"]`);
    if (!cell) return;
    cell.textContent = resultWords(result);
    cell.dataset.outcome = result.outcome;
  }

  /** Unlock a locked student's third marking with their code, through the work allocation's own form. */
  async function unlockFirst(item) {
    const allocation = linkIn([document.body], ALLOCATION_LINK);
    if (!allocation) return { outcome: "not_sent", reason: "this page has no link to the work allocation, where OSCAR unlocks third marking." };
    const page = await oscar.forms.fetchPage(allocation);
    if (page.signIn) return { outcome: "sign_in", reason: "OSCAR asked you to sign in again." };
    const { linesOf, rowIn, sendUnlock } = oscar.unlock;
    const { table, row } = rowIn(page.doc, item.pi);
    const field = row && oscar.reading.codeFieldOf(row);
    if (!field) {
      return row && /\bunlocked\b/i.test(textOf(row)) ? { outcome: "unlocked", reason: "" }
        : { outcome: "not_sent", reason: "the work allocation shows no confirmation-code field for this student." };
    }
    field.value = item.wanted.code;
    const pageLines = new Set(linesOf(page.doc.body ?? page.doc.documentElement, [table]).map((line) => line.text));
    return sendUnlock({ key: item.pi, field, row, base: page.url }, pageLines);
  }

  /** The address of a student's third-marks form as this marks page shows it now (fetched afresh). */
  async function formAddressNow(pi) {
    const page = await oscar.forms.fetchPage(location.href);
    if (page.signIn) return null;
    const student = marksTableIn(page.doc)?.students.find((s) => s.pi.toUpperCase() === pi);
    return student ? formAddressOf(student, page.url) : null;
  }

  /** One student, start to finish: unlock if needed, fill the form afresh, save, read OSCAR's answer. */
  async function fillOne(item, replace) {
    const { questions } = current;
    let { address } = item;
    if (item.plan === "unlock") {
      showResult(item, { outcome: "unlocking", reason: "" });
      const unlocked = await unlockFirst(item);
      if (unlocked.outcome === "sign_in") return { outcome: "sign_in", reason: unlocked.reason };
      if (unlocked.outcome !== "unlocked") return { outcome: "not_sent", reason: `third marking not unlocked: ${oscar.unlock.resultWords(unlocked).replace(/^Not unlocked: /, "")}` };
      address = await formAddressNow(item.pi);
    }
    if (!address) return { outcome: "not_sent", reason: "OSCAR shows no third-marks form for this student." };
    showResult(item, { outcome: "working", reason: "" });
    const page = await oscar.forms.fetchPage(address);
    if (page.signIn) return { outcome: "sign_in", reason: "OSCAR asked you to sign in again." };
    const found = readThirdMarksForm(page.doc, questions);
    if (!found || found.missing.length) return { outcome: "not_sent", reason: "OSCAR's third-marks form no longer has a field for every question." };
    const holds = heldIn(found);
    const plan = planFor(item.wanted, holds);
    if (plan === "same") return { outcome: "same", reason: "" };
    // Replace is the tutor's choice about the marks the preview showed, and only those.
    if (plan === "differs" && (!replace || !sameHeld(item.held, holds))) {
      return { outcome: "kept", reason: "OSCAR now holds other marks for this student than the preview showed; press Fill marks again to choose whether to replace them." };
    }
    const sent = { marks: byQuestion(item.wanted), comment: item.wanted.comment };
    const knownRows = new Map();
    for (const [question, field] of found.fields) {
      knownRows.set(question, new Set(oscar.unlock.linesOf(field.closest("tr") ?? field.parentElement).map((line) => line.text)));
      field.value = sent.marks[question];
    }
    if (found.comments) found.comments.value = sent.comment;
    const pageLines = new Set(oscar.unlock.linesOf(page.doc.body ?? page.doc.documentElement, [found.form]).map((line) => line.text));
    const commentLines = found.comments ? new Set(oscar.unlock.linesOf(found.comments.closest("tr") ?? found.comments.parentElement).map((line) => line.text)) : new Set();
    const reply = await oscar.forms.send(found.form, { submitter: found.submitter, base: page.url });
    if (reply.notSent) return { outcome: "not_sent", reason: reply.notSent };
    if (reply.signIn) return saveAnswer({ status: reply.status, signIn: true, sent, shownBack: null });
    const answered = readThirdMarksForm(reply.doc, questions);
    const fieldErrors = [];
    const { linesOf, newLines } = oscar.unlock;
    for (const [question, field] of answered?.fields ?? []) {
      const words = newLines(linesOf(field.closest("tr") ?? field.parentElement), knownRows.get(question) ?? new Set());
      if (words.length) fieldErrors.push(`${question}: ${words.join(" ")}`);
    }
    if (answered?.comments) {
      const words = newLines(linesOf(answered.comments.closest("tr") ?? answered.comments.parentElement), commentLines);
      if (words.length) fieldErrors.push(`comments: ${words.join(" ")}`);
    }
    const saved = shownBackIn(reply.doc, questions);
    const skip = [...(answered ? [answered.form] : []), ...reply.doc.querySelectorAll("table")].filter((node) => node);
    const pageTexts = newLines(linesOf(reply.doc.body ?? reply.doc.documentElement, skip), pageLines);
    return saveAnswer({ status: reply.status, signIn: false, sent, shownBack: saved, fieldErrors, pageTexts });
  }

  /** Confirm: each chosen student in turn; the answers per student, then a summary. */
  async function confirm() {
    const plan = current;
    if (!plan || running) return;
    const replaced = new Set(chosen().filter((item) => item.plan === "differs").map((item) => item.pi));
    const items = chosen();
    running = true;
    const panel = part('[data-role="marks-panel"]');
    for (const control of panel?.querySelectorAll('[data-action="marks-confirm"], input[data-role="replace-marks"]') ?? []) {
      control.toggleAttribute("disabled", true);
    }
    const done = [];
    let keptByChoice = 0;
    let stopped = "";
    try {
      for (const item of plan.items) {
        let result;
        if (!items.includes(item)) {
          if (item.plan === "same") showResult(item, { outcome: "same", reason: "" });
          if (item.plan === "differs") {
            showResult(item, { outcome: "kept", reason: "you did not tick Replace." });
            keptByChoice += 1;
          }
          continue;
        }
        if (stopped) {
          result = { outcome: "not_sent", reason: stopped };
        } else {
          try {
            result = await fillOne(item, replaced.has(item.pi));
          } catch (error) {
            result = { outcome: "error", reason: `OSCAR could not be reached (${oscar.forms.unreachableWords(error)}); reload the page, sign in if OSCAR asks, and press Fill marks again.` };
            stopped = "not sent after OSCAR could not be reached.";
          }
          if (result.outcome === "sign_in") stopped = "OSCAR asked you to sign in again first.";
        }
        showResult(item, result);
        done.push({ name: item.name, pi: item.pi, result });
        say(`Filling third marks in OSCAR: ${done.length} of ${items.length} answered…`);
      }
    } finally {
      running = false;
    }
    const summary = fillSummary(done, keptByChoice);
    const allWell = done.every(({ result }) => ["saved", "same"].includes(result.outcome));
    say(`${summary}${allWell ? " Reload the page to see them in OSCAR's table." : ""}`, { kind: allWell ? "done" : "error", announce: summary });
    const cancel = part('[data-action="marks-cancel"]');
    if (cancel && current === plan) {
      cancel.textContent = "Close";
      cancel.focus();
    }
  }

  oscar.marksFill = Object.freeze({
    markKey, planFor, sameHeld, planWords, marksWords, saveAnswer, resultWords, fillSummary,
    attach, open, confirm, close, updateConfirm,
  });
})();
