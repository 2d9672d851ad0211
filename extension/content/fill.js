/*
 * eTMA Helper on the OSCAR page — Fill codes: the panel (inside the toolbar's closed shadow root)
 * that shows which fetched confirmation codes would go into which of OSCAR's code fields, for the
 * students who need them (content/unlock.js chooses: the selected, or with none selected those
 * still locked whose code was fetched; never one already unlocked), and says who is left out and
 * why. "Fill" writes the chosen codes in, as if typed, and sends nothing. "Fill and unlock" also
 * sends each of those students' own "Unlock third marking" form to OSCAR, one after another,
 * without reloading the page, and shows OSCAR's answer per student in the panel and on the row.
 * Whatever the tutor typed into a field stays unless they tick Replace.
 */
"use strict";

(() => {
  const oscar = globalThis.etmaOscar;
  if (Object.isFrozen(oscar)) return; // already running in this world: see content/oscar.js
  const { page } = oscar.state;
  const { nameOfRow, codeFieldOf } = oscar.reading;
  const { part, showMessage, say } = oscar.toolbar;
  const unlock = oscar.unlock;
  const { element } = globalThis.etmaDom;
  const { plural } = globalThis.etmaShared;

  /**
   * @typedef {Object} FillItem
   * @property {string} key    upper-case PI
   * @property {string} pi
   * @property {string} name
   * @property {string} code   the fetched code
   * @property {HTMLInputElement} field
   * @property {string} typed  what the field holds now, when it is not empty and not the code
   * @property {boolean} holdsCode  the field already holds the code
   */

  /** What Fill codes would do: the students it takes, each with their field, and who is left out. */
  function fillPlan() {
    const codeOf = (key) => String(page.records.get(key)?.code || "");
    const choice = unlock.chooseStudents({
      order: page.order,
      selected: page.selected,
      hasCode: (key) => Boolean(codeOf(key)),
      isUnlocked: unlock.isUnlocked,
      hasField: (key) => Boolean(page.rows.get(key) && codeFieldOf(page.rows.get(key))),
    });
    /** @type {FillItem[]} */
    const items = choice.take.map((key) => {
      const row = page.rows.get(key);
      const code = codeOf(key);
      const field = codeFieldOf(row);
      const current = field.value.trim();
      const holdsCode = current.toUpperCase() === code.toUpperCase();
      return { key, pi: key, name: nameOfRow(row, page.columns, key), code, field, typed: holdsCode ? "" : current, holdsCode };
    });
    return { choice, items };
  }

  /** The plan the open panel shows; null while it is closed. */
  let currentPlan = null;

  function open() {
    if (unlock.isRunning()) {
      showMessage("OSCAR is still answering the last unlock; its answers show in the panel and on the rows.");
      return;
    }
    const plan = fillPlan();
    const panel = part('[data-role="fill-panel"]');
    if (!panel) return;
    const about = [unlock.basisWords(plan.choice), unlock.leftOutWords(plan.choice)].filter(Boolean).join(" ");
    if (plan.items.length === 0) {
      showMessage(`Nothing to fill or unlock. ${about}`);
      return;
    }
    currentPlan = plan;
    const conflicts = plan.items.filter((item) => item.typed).length;
    const table = element("table");
    const head = element("tr");
    for (const title of ["Student", "PI", "Code", "In the field now", "In OSCAR"]) head.append(element("th", { scope: "col" }, title));
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
        now.textContent = item.holdsCode ? "holds this code" : "empty – will be filled";
      }
      tr.append(element("td", {}, item.name), element("td", {}, item.pi),
        element("td", { class: "code" }, item.code), now, element("td", { "data-role": "unlock-result" }, "locked"));
      table.append(tr);
    }
    const list = element("div", { class: "list" });
    list.append(table);
    const notes = [about];
    if (conflicts) notes.push(`${plural(conflicts, "field")} already ${conflicts === 1 ? "holds" : "hold"} something you typed: it is kept, and not sent, unless you tick Replace.`);
    notes.push("Fill writes the codes into OSCAR's fields and sends nothing. Fill and unlock also sends each of these students' own Unlock third marking form to OSCAR, one after another, without reloading the page: every other field keeps what it holds.");
    const actions = element("div", { class: "actions" });
    actions.append(
      element("button", { type: "button", "data-action": "fill-confirm" }),
      element("button", { type: "button", class: "primary", "data-action": "unlock-confirm" }),
      element("button", { type: "button", "data-action": "fill-cancel" }, "Cancel"),
    );
    panel.replaceChildren(element("h2", {}, "Fill confirmation codes into OSCAR"), list,
      ...notes.map((note) => element("p", {}, note)), actions);
    panel.hidden = false;
    updateConfirm();
    // The first thing to decide, else the step that sends nothing, else Unlock.
    (panel.querySelector('input[data-role="replace"]') ?? panel.querySelector('[data-action="fill-confirm"]:not([disabled])')
      ?? panel.querySelector('[data-action="unlock-confirm"]')).focus();
  }

  /** The items to fill: the empty fields, and the typed-in ones whose Replace box is ticked. */
  function chosenItems() {
    const panel = part('[data-role="fill-panel"]');
    return (currentPlan?.items ?? []).filter((item) => !item.holdsCode && (!item.typed
      || panel.querySelector(`[data-fill-pi="${item.pi}"] input[data-role="replace"]`)?.checked));
  }

  /** Word the buttons for what they would do now. */
  function updateConfirm() {
    const fillButton = part('[data-action="fill-confirm"]');
    const unlockButton = part('[data-action="unlock-confirm"]');
    if (!fillButton || !unlockButton) return;
    const toFill = chosenItems().length;
    const toUnlock = toFill + (currentPlan?.items ?? []).filter((item) => item.holdsCode).length;
    fillButton.textContent = toFill ? `Fill ${plural(toFill, "code")}` : "Nothing to fill";
    fillButton.toggleAttribute("disabled", toFill === 0);
    unlockButton.textContent = toFill ? `Fill and unlock ${plural(toUnlock, "student")}` : `Unlock ${plural(toUnlock, "student")}`;
    unlockButton.toggleAttribute("disabled", toUnlock === 0);
  }

  function close() {
    const panel = part('[data-role="fill-panel"]');
    if (panel) {
      panel.hidden = true;
      panel.replaceChildren();
    }
    currentPlan = null;
    part('[data-action="fill"]')?.focus();
  }

  /**
   * Write the chosen codes into their fields, as if typed: input and change events, no submit.
   * Returns how many were filled and how many typed-in fields were kept.
   */
  function fillChosen() {
    const replaced = new Set(chosenItems().filter((item) => item.typed).map((item) => item.key));
    let filled = 0;
    let kept = 0;
    for (const item of currentPlan?.items ?? []) {
      const { field, code } = item;
      if (!field.isConnected || item.holdsCode) continue;
      const now = field.value.trim();
      if (now.toUpperCase() === code.toUpperCase()) continue;
      // Typed into since the preview, or typed before and not ticked: it stays.
      if (now && !replaced.has(item.key)) {
        kept += 1;
        continue;
      }
      field.value = code;
      field.dispatchEvent(new Event("input", { bubbles: true }));
      field.dispatchEvent(new Event("change", { bubbles: true }));
      filled += 1;
    }
    return { filled, kept };
  }

  function confirm() {
    const { filled, kept } = fillChosen();
    close();
    const keptText = kept ? ` Kept ${plural(kept, "field")} you typed in.` : "";
    showMessage(`Filled ${plural(filled, "confirmation code")}.${keptText} Nothing was sent: press Fill codes again and Unlock to send them, or each row's own button in OSCAR.`,
      { kind: "done" });
  }

  /**
   * Fill the chosen codes, then unlock every student of the panel whose field holds their code,
   * one after another, showing OSCAR's answer for each on its panel line and row.
   */
  async function fillAndUnlock() {
    const plan = currentPlan;
    if (!plan || unlock.isRunning()) return;
    fillChosen();
    const panel = part('[data-role="fill-panel"]');
    for (const button of panel?.querySelectorAll('[data-action="fill-confirm"], [data-action="unlock-confirm"], input[data-role="replace"]') ?? []) {
      button.toggleAttribute("disabled", true);
    }
    const items = plan.items.filter((item) => item.field.isConnected
      && item.field.value.trim().toUpperCase() === item.code.toUpperCase());
    const nameOf = new Map(plan.items.map((item) => [item.key, item.name]));
    showMessage(`Unlocking third marking for ${plural(items.length, "student")} in OSCAR, one after another…`);
    let answered = 0;
    const done = await unlock.unlockAll(items, (key, result) => {
      if (currentPlan === plan) {
        const cell = part(`[data-fill-pi="${key}"] [data-role="unlock-result"]`);
        if (cell) {
          cell.textContent = unlock.resultWords(result);
          cell.dataset.outcome = result.outcome;
        }
      }
      if (result.outcome !== "working") {
        answered += 1;
        showMessage(`Unlocking third marking in OSCAR: ${answered} of ${items.length} answered…`);
      }
    });
    if (!done) return;
    const kept = plan.items.filter((item) => !items.includes(item)).length;
    const keptText = kept ? ` ${plural(kept, "student")} kept what you typed and ${kept === 1 ? "was" : "were"} not sent.` : "";
    const summary = unlock.unlockSummary(done, (key) => nameOf.get(key));
    const allWell = done.every(({ result }) => result.outcome === "unlocked");
    showMessage(`${summary}${keptText}`, { kind: allWell ? "done" : "error" });
    if (allWell) say(summary);
    if (currentPlan === plan) {
      const cancel = part('[data-action="fill-cancel"]');
      if (cancel) {
        cancel.textContent = "Close";
        cancel.focus();
      }
    }
  }

  oscar.fill = Object.freeze({ open, updateConfirm, close, confirm, fillAndUnlock });
})();
