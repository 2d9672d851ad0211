/*
 * The options page's "Third marking" form: the threshold, grade boundaries and band names the
 * marks page sends with every `flags` request (background/third-marking.js reads them). Checked
 * here before saving (options/rule.js) and by the helper again. Saved in storage.sync; "Use the
 * defaults" removes them, so the helper's own defaults apply.
 * Test hooks: #threshold, #boundaries, #bands, #rule-save, #rule-defaults, #rule-status,
 * .field-error[data-for=threshold|boundaries|bands].
 */
import "../lib/protocol.js";
import "../lib/shared.js";
import { RULE_KEY } from "../background/third-marking.js";
import { DEFAULT_RULE, listText, parseRule } from "./rule.js";

const { api } = globalThis.etmaShared;
const FIELDS = ["threshold", "boundaries", "bands"];

const $ = (id) => document.getElementById(id);

function say(text, isError = false) {
  $("rule-status").textContent = text;
  $("rule-status").classList.toggle("error", isError);
}

function show(rule) {
  $("threshold").value = String(rule.threshold);
  $("boundaries").value = listText(rule.boundaries);
  $("bands").value = listText(rule.bands);
}

function clearErrors() {
  for (const field of FIELDS) {
    $(field).removeAttribute("aria-invalid");
    document.querySelector(`#third-marking .field-error[data-for="${field}"]`).textContent = "";
  }
}

$("third-marking").addEventListener("submit", (event) => {
  event.preventDefault();
  clearErrors();
  const checked = parseRule({ threshold: $("threshold").value, boundaries: $("boundaries").value, bands: $("bands").value });
  if (checked.error) {
    document.querySelector(`#third-marking .field-error[data-for="${checked.field}"]`).textContent = checked.error;
    $(checked.field).setAttribute("aria-invalid", "true");
    $(checked.field).focus();
    say("Not saved.", true);
    return;
  }
  api.storage.sync.set({ [RULE_KEY]: checked.rule })
    .then(() => say("Saved. Reload a marks page to see who it flags now."))
    .catch((error) => say(`Not saved: ${error?.message ?? error}`, true));
});

$("rule-defaults").addEventListener("click", () => {
  clearErrors();
  api.storage.sync.remove(RULE_KEY)
    .then(() => {
      show(DEFAULT_RULE);
      say("Back to the defaults.");
    })
    .catch((error) => say(`Not changed: ${error?.message ?? error}`, true));
});

for (const field of FIELDS) $(field).addEventListener("input", () => $(field).removeAttribute("aria-invalid"));

api.storage.sync.get(RULE_KEY).then((saved) => {
  const rule = saved?.[RULE_KEY];
  show(rule && typeof rule === "object" ? { ...DEFAULT_RULE, ...rule } : DEFAULT_RULE);
}).catch(() => show(DEFAULT_RULE));
