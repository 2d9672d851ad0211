/*
 * eTMA Helper on the OSCAR page — Fill codes: the preview panel (inside the toolbar's closed
 * shadow root) of which fetched confirmation codes would go into which of OSCAR's code fields,
 * and writing the chosen ones in, as if typed. Whatever the tutor typed into a field stays unless
 * they tick Replace. Nothing is ever submitted: the tutor presses each row's own button in OSCAR.
 */
"use strict";

(() => {
  const oscar = globalThis.etmaOscar;
  if (Object.isFrozen(oscar)) return; // already running in this world: see content/oscar.js
  const { page } = oscar.state;
  const { nameOfRow, codeFieldOf } = oscar.reading;
  const { part, showMessage, rowsWithCodes } = oscar.toolbar;
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

  /** The plan the open panel shows; null while it is closed. */
  let currentPlan = null;

  function open() {
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
    updateConfirm();
    (panel.querySelector('input[data-role="replace"]') ?? panel.querySelector('[data-action="fill-confirm"]')).focus();
  }

  /** The items to fill: the empty fields, and the typed-in ones whose Replace box is ticked. */
  function chosenItems() {
    const panel = part('[data-role="fill-panel"]');
    return (currentPlan?.items ?? []).filter((item) => !item.typed
      || panel.querySelector(`[data-fill-pi="${item.pi}"] input[data-role="replace"]`)?.checked);
  }

  /** Word the confirm button for what it would fill now. */
  function updateConfirm() {
    const button = part('[data-action="fill-confirm"]');
    if (!button) return;
    const count = chosenItems().length;
    button.textContent = count ? `Fill ${plural(count, "code")}` : "Nothing to fill";
    button.toggleAttribute("disabled", count === 0);
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

  /** Write the chosen codes into their fields, as if typed: input and change events, no submit. */
  function confirm() {
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
    close();
    const keptText = kept ? ` Kept ${plural(kept, "field")} you typed in.` : "";
    showMessage(`Filled ${plural(filled, "confirmation code")}.${keptText} Nothing was sent: press each row's own button in OSCAR to use it.`,
      { kind: "done" });
  }

  oscar.fill = Object.freeze({ open, updateConfirm, close, confirm });
})();
