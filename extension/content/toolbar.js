/*
 * eTMA Helper on the OSCAR page — the toolbar above the table: its buttons, the selection count,
 * the progress bar, the message line and the (empty) fill panel, all inside a CLOSED shadow root.
 * Closed: host.shadowRoot is null for the page, so a page's script cannot reach the buttons or
 * read the messages (paths, codes); only this script holds the root (page.shadow). Its handlers
 * obey the user's real input only (trustedOnly) and hand the action to content/oscar.js.
 */
"use strict";

(() => {
  const oscar = globalThis.etmaOscar;
  if (Object.isFrozen(oscar)) return; // already running in this world: see content/oscar.js
  const { TOOLBAR_ID, page, trustedOnly, guard } = oscar.state;
  const { element, withCommand } = globalThis.etmaDom;

  // Quiet, like OSCAR's own grey-and-blue tables: a thin border, a light band, one accent colour.
  const TOOLBAR_CSS = `
    :host { all: initial; display: block; margin: 0.6em 0; font: 13px/1.4 Verdana, Arial, sans-serif;
            color: #1b1b1b; position: sticky; top: 0; z-index: 1000; background: #fff;
            box-shadow: 0 2px 3px rgba(0, 0, 0, 0.12); }
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
    button[aria-pressed="true"] { background: #0a3d6e; color: #fff; border-color: #0a3d6e; }
    [data-role="counts"] { display: inline-flex; gap: 0.6em; font-variant-numeric: tabular-nums; }
    [data-role="counts"]:empty { display: none; }
    [data-role="counts"] [data-state="done"] { color: #17632a; }
    [data-role="counts"] [data-state="failed"], [data-role="counts"] [data-state="needs_login"] { color: #8f1010; }
    [data-role="counts"] [data-state="not_submitted"] { color: #5a4a00; }
    [data-role="counts"] [data-state][data-zero] { color: #4a5866; }
    .steps { display: flex; flex-wrap: wrap; gap: 0.5em; margin-top: 0.35em; }
    .steps:empty, .steps[hidden] { display: none; }
    .list-box { margin-top: 0.35em; border: 1px solid #9aa8b6; background: #fff; padding: 0.3em 0.6em; }
    .list-box[hidden] { display: none; }
    .list-box summary { cursor: pointer; color: #5a4a00; font-weight: bold; }
    .list-box ul { margin: 0.3em 0; padding-left: 1.4em; max-height: 10em; overflow: auto; }
    .announce { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%);
                white-space: nowrap; }
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
    .panel [data-outcome="unlocked"] { color: #17632a; }
    .panel [data-outcome="refused"], .panel [data-outcome="error"], .panel [data-outcome="sign_in"],
    .panel [data-outcome="not_sent"] { color: #8f1010; font-weight: bold; }
  `;

  /** The toolbar's host element, its closed shadow root kept in page.shadow. */
  function build() {
    const host = element("div", { id: TOOLBAR_ID });
    // Closed: host.shadowRoot is null for the page; the reference lives only in this world.
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
      button("problems-only", "Show problems only", { "aria-pressed": "false",
        title: "Hide the students whose job went well; show them again with a second press" }),
      progressBox,
      element("span", { "data-role": "counts" }),
    );
    // The message line is read when reached; the start and end of a job, and problems, are
    // said once through the announcer (a polite live region), so nothing is read twice.
    root.append(element("style", {}, TOOLBAR_CSS), bar,
      element("div", { "data-role": "message" }),
      element("div", { class: "steps", "data-role": "next-steps", role: "group",
        "aria-label": "What to do next" }),
      element("details", { class: "list-box", "data-role": "not-submitted", hidden: "" }),
      element("div", { class: "announce", "data-role": "announce", role: "status", "aria-live": "polite" }),
      element("div", { class: "panel", "data-role": "fill-panel", role: "dialog",
        "aria-label": "Fill confirmation codes", hidden: "" }));
    // Later files, reached when the user acts: every file is loaded by then.
    root.addEventListener("click", guard(trustedOnly((event) => {
      const target = event.target.closest?.("button[data-action]");
      if (target && !target.disabled) oscar.wiring.onToolbarAction(target.dataset.action);
    })));
    root.addEventListener("change", guard(trustedOnly((event) => {
      if (event.target.matches?.('input[data-role="replace"]')) oscar.fill.updateConfirm();
    })));
    root.addEventListener("keydown", guard(trustedOnly((event) => {
      if (event.key === "Escape" && !part('[data-role="fill-panel"]').hidden) oscar.fill.close();
    })));
    return host;
  }

  /** The toolbar's element matching `selector`, found in the closed root; undefined before it is built. */
  const part = (selector) => page.shadow?.querySelector(selector);

  /**
   * Show a line under the toolbar. `command`, if it appears in the text, is shown as code the
   * user can select with one click.
   */
  function showMessage(text, { kind = "info", command = "", announce = kind === "error" ? text : "" } = {}) {
    const line = part('[data-role="message"]');
    if (!line) return;
    line.dataset.kind = kind;
    withCommand(line, text, command);
    if (announce) say(announce);
  }

  /** Say `text` once to a screen reader, through the toolbar's polite live region. */
  function say(text) {
    const announcer = part('[data-role="announce"]');
    if (!announcer) return;
    // The same words twice in a row are a change too, so they are said again.
    announcer.textContent = announcer.textContent === text ? `${text}\u00a0` : text;
  }

  function showProblem(problem) {
    showMessage(problem?.text || "Something went wrong.", { kind: "error", command: problem?.command || "" });
  }

  /** Rows whose fetched code could go into a field on this page. */
  function rowsWithCodes() {
    return page.order.filter((key) => page.records.get(key)?.code);
  }

  /** Enable the buttons that make sense now: start or cancel, and fill once there are codes. */
  function updateButtons() {
    const running = Boolean(page.job?.running);
    const focused = page.shadow?.activeElement ?? null;
    for (const action of ["download", "codes"]) part(`[data-action="${action}"]`)?.toggleAttribute("disabled", running);
    part('[data-action="cancel"]')?.toggleAttribute("disabled", !running);
    part('[data-action="fill"]')?.toggleAttribute("disabled", rowsWithCodes().length === 0);
    if (focused?.disabled) keepFocus(running);
  }

  /**
   * The focused button was just disabled (Download once the job starts, Cancel once it ends):
   * keep the keyboard user on the toolbar, on what they would press next.
   */
  function keepFocus(running) {
    const next = running ? part('[data-action="cancel"]')
      : part('[data-role="next-steps"] button') ?? part(`[data-action="${page.job?.action || "download"}"]`);
    next?.focus();
  }

  oscar.toolbar = Object.freeze({
    build, part, showMessage, showProblem, say, rowsWithCodes, updateButtons, keepFocus,
  });
})();
