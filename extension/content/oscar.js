/*
 * eTMA Helper on the OSCAR work-allocation page — start-up and wiring: finds the student table
 * (now, or when the page renders it later), then listens to the tutor's clicks, the background's
 * messages and the page's re-renders, and sends each toolbar action to the part that does it.
 *
 * The content script is these classic scripts, run in this order: manifest.json's content_scripts
 * lists them, and the background registers that same list for the tutor's own OSCAR pages:
 *   lib/protocol.js    the vocabulary shared with the helper (globalThis.etmaProtocol)
 *   lib/dom.js         element() and withCommand() (globalThis.etmaDom)
 *   lib/shared.js      asking the background, counts in words (globalThis.etmaShared)
 *   content/state.js   the page state and the guards; opens globalThis.etmaOscar
 *   content/reading.js reading OSCAR's markup: the table, PIs, names, code fields, module
 *   content/words.js   what the page says, from the records alone (rows, counts, progress)
 *   content/toolbar.js the toolbar in its closed shadow root, the message line, the announcer
 *   content/rows.js    the rows' cells, (re-)enhancing the table, the selection
 *   content/forms.js   OSCAR's own forms sent, and its pages fetched, in the background of the page
 *   content/unlock.js  who Fill codes takes; unlocking several students through OSCAR's own forms
 *   content/fill.js    Fill codes: the panel, writing codes into OSCAR's fields, Fill and unlock
 *   content/results.js live counts, Show problems only, nothing-submitted list, next steps
 *   content/jobs.js    starting, cancelling and following jobs; progress; the summary
 *   content/chart.js   the marks page's per-student chart (an inline SVG)
 *   content/marks-reading.js reading OSCAR's marks table by meaning
 *   content/marks-export.js the marks page's Export marks worksheet (the helper writes it)
 *   content/marks.js   the marks page: flags from the helper, charts, Select flagged; and the
 *                      flagged students ticked on the work allocation (selectCarried)
 *   content/marks-fill.js Fill marks: the marks worksheet's third marks into OSCAR's forms
 *   content/oscar.js   this file
 * Each file adds one frozen part to globalThis.etmaOscar (oscar.state, oscar.reading, …), reads
 * the parts of the files before it when it loads, and reaches later ones (toolbar → fill, wiring)
 * only when the user acts, when every file is loaded. This file freezes the namespace. In a
 * content script globalThis is the extension's isolated world: the page's script cannot see it.
 *
 * The page is not ours: every change is guarded, styles are isolated (a shadow root for the
 * toolbar, `etma-helper-` classes on the rows), and when the page re-renders the table the
 * enhancements are attached again. The page's forms are never submitted, except a student's own
 * "Unlock third marking" form, sent in the background (content/unlock.js) only when the tutor
 * presses Fill and unlock.
 *
 * The page's own script is not trusted either. Only the tutor's real clicks and key presses
 * (`event.isTrusted`) on the toolbar, the fill panel, the row checkboxes and the select-all box
 * change the selection or start, cancel or fill anything; the row a menu acts on is the one the
 * tutor really right-clicked. The toolbar's shadow root is closed, so the page cannot reach its
 * buttons or read its messages (paths, codes) and fill panel. A job's PIs come from this script's
 * own memory of the rows it enhanced, never from attributes the page could rewrite afterwards.
 *
 * Timed on the page's performance timeline, for the benchmark: "etma-helper:inject" — the first
 * look for the table and its enhancement (again when a late table is found); "etma-helper:render"
 * — each frame's painting of pending progress (content/jobs.js).
 *
 * Test hooks (kept stable): rows get data-etma-pi and data-etma-state (written for tests and
 * styles, never read back); the row checkbox has class etma-helper-select, the header's
 * etma-helper-select-all; the status cell class etma-helper-status; the toolbar is
 * #etma-helper-toolbar with a closed shadow root holding [data-action=select-all|select-none|
 * download|codes|fill|cancel|problems-only], [data-role=count], [data-role=progress],
 * [data-role=progress-text], [data-role=counts] (one [data-state] span per count),
 * [data-role=message], [data-role=announce] (the live region), [data-role=next-steps] holding
 * [data-action=login-etma|run-again|retry-failed] and [data-role=not-submitted] (the list). A
 * finished row's status cell has span.etma-helper-detail and button.etma-helper-open; with
 * "Show problems only" the table has data-etma-filter="problems". The fill preview is [data-role=fill-panel], one [data-fill-pi=PI] row
 * per field, input[data-role=replace] on rows whose field holds the user's own text, a
 * [data-role=unlock-result] cell per row (data-outcome unlocked|refused|error|sign_in|not_sent|
 * working), and [data-action=fill-confirm|unlock-confirm|fill-cancel]; a row OSCAR answered has
 * data-etma-unlock (the same outcomes) and span.etma-helper-unlock in its status cell. A closed root is out of a page script's reach, and so
 * out of Selenium's execute_script (the page's world); WebDriver itself reaches it (chromedriver's
 * element shadow root, Firefox BiDi's locateNodes with includeShadowTree "all"), and tests press
 * its buttons with real input, the only kind this script obeys.
 */
"use strict";

(() => {
  const oscar = globalThis.etmaOscar;
  // Run once per world: a second injection finds the namespace frozen and leaves the first alone.
  if (!oscar?.jobs || Object.isFrozen(oscar)) return;
  const { TOOLBAR_ID, OWN_CELL, page, trustedOnly, guard } = oscar.state;
  const { findModuleAndAssignment } = oscar.reading;
  const { showMessage, showProblem } = oscar.toolbar;
  const rows = oscar.rows;
  const { fill, jobs, results } = oscar;
  const { api } = globalThis.etmaShared;

  const OWN_SELECTOR = `.${OWN_CELL}, #${TOOLBAR_ID}`;
  /** How long the page's changes settle before the table is looked for or re-attached. */
  const SETTLE_MS = 150;
  /** How long a page without a student table is watched for one rendered late. */
  const LATE_TABLE_WATCH_MS = 120_000;

  function onToolbarAction(action) {
    switch (action) {
      case "select-all": rows.setSelected(page.order, true); break;
      case "select-none": rows.setSelected(page.order, false); break;
      case "download":
      case "codes":
        jobs.start(action).catch(guard(() => showMessage("The job could not be started.", { kind: "error" })));
        break;
      case "cancel": jobs.cancel().catch(() => {}); break;
      case "problems-only": results.toggleProblemsOnly(); break;
      case "login-etma": results.openEtma().catch(() => {}); break;
      case "run-again": results.runAgain(); break;
      case "retry-failed": results.retryFailed(); break;
      case "fill": fill.open(); break;
      case "fill-confirm": fill.confirm(); break;
      case "unlock-confirm": fill.fillAndUnlock().catch(guard(() => showMessage("The unlock could not be finished.", { kind: "error" }))); break;
      case "fill-cancel": fill.close(); break;
      default: break;
    }
  }

  oscar.wiring = Object.freeze({ onToolbarAction });
  Object.freeze(oscar);

  /** Enhance the table if there is one, timed as "etma-helper:inject" (when `always`, or when found). */
  function timedEnhance(always) {
    const start = performance.now();
    const enhanced = rows.enhance();
    if (enhanced || always) performance.measure("etma-helper:inject", { start, end: performance.now() });
    return enhanced;
  }

  function isOwnNode(node) {
    const elementNode = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
    return Boolean(elementNode?.closest?.(OWN_SELECTOR));
  }

  /** Once the table is enhanced: re-attach everything whenever the page changes it (not for our own changes). */
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
        rows.enhance();
      }), SETTLE_MS);
    }));
    page.observer.observe(document.body, { childList: true, subtree: true });
  }

  /**
   * No student table yet: the page may render it from script. Look again once the page's changes
   * settle, at most once per SETTLE_MS whatever the page does (the observer's callback only sets a
   * timer), until the table is found or LATE_TABLE_WATCH_MS have passed; then stop watching.
   */
  function watchForLateTable() {
    let timer = null;
    const stop = () => {
      observer.disconnect();
      clearTimeout(timer);
      clearTimeout(deadline);
    };
    const look = guard(() => {
      timer = null;
      if (oscar.marks.enhance()) {
        stop();
        return;
      }
      if (!timedEnhance(false)) return;
      stop();
      wire();
    });
    const observer = new MutationObserver(() => {
      timer ??= setTimeout(look, SETTLE_MS);
    });
    const deadline = setTimeout(stop, LATE_TABLE_WATCH_MS);
    observer.observe(document.body, { childList: true, subtree: true });
  }

  /** Listen to the tutor, the background and the page, once the table is enhanced. */
  function wire() {
    document.addEventListener("click", guard(trustedOnly((event) => {
      const target = event.target;
      if (target instanceof HTMLButtonElement && target.classList.contains("etma-helper-open")) {
        const key = rows.studentAt(target);
        if (key) results.openFolder(key).catch(() => {});
        return;
      }
      if (!(target instanceof HTMLInputElement)) return;
      if (target.classList.contains("etma-helper-select")) rows.onRowCheckboxClick(target, event);
      else if (target.classList.contains("etma-helper-select-all")) rows.onSelectAllBoxClick();
    })), true);

    // The browser's own menu follows a real right-click; a page's made-up one must not choose the row.
    document.addEventListener("contextmenu", guard(trustedOnly((event) => {
      page.contextPi = rows.studentAt(event.target);
    })), true);

    api.runtime.onMessage.addListener((message, _sender, sendResponse) => {
      if (!message || typeof message !== "object") return false;
      guard(() => {
        switch (message.type) {
          case "contextRow":
            sendResponse({ pi: page.contextPi, ...findModuleAndAssignment() });
            break;
          case "jobStarted": jobs.adopt(message.job); break;
          case "helperMessage": jobs.onHelperMessage(message); break;
          case "jobError": jobs.onJobError(message); break;
          case "notice": message.error ? showProblem(message.error) : showMessage(String(message.text || "")); break;
          default: break;
        }
      })();
      return false;
    });

    watchForReRender();
    const restored = jobs.send({ type: "getState", module: findModuleAndAssignment().module })
      .then(guard((answer) => { if (answer?.job) jobs.adopt(answer.job); }));
    const carried = oscar.marks.selectCarried();
    // Written for tests and styles, never read back: the last job and the students carried from
    // the marks page are shown (their render waits for the next frame, as this does), so the
    // toolbar has its full height and the rows stay put.
    Promise.allSettled([restored, carried])
      .then(() => new Promise((shown) => { requestAnimationFrame(shown); setTimeout(shown, 600); }))
      .then(guard(() => { page.toolbar.dataset.etmaReady = ""; }));
  }

  function start() {
    if (!document.body) return;
    // OSCAR's marks page has its own part; every other page may be a work allocation.
    if (oscar.marks.enhance()) return;
    if (timedEnhance(true)) wire();
    else watchForLateTable();
  }

  guard(start)();
})();
