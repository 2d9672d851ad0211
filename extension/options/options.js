/*
 * The options page. Browser-side settings (the eTMA address, the user's own OSCAR pages) sync
 * through storage.sync; the helper's own settings (download folder, concurrency, site profile) are
 * read and changed through the helper's `settings` action, which checks every change.
 * Test hooks: #etma-url + #status, #test-connection + #connection[data-verdict=testing|ok|
 * needs_login|not_etma|unreachable|invalid|problem] (+ #etma-login-link), #first-run (shown while no
 * eTMA address is set), #oscar-patterns + #oscar-status, #download-root, #concurrency, #advanced
 * (the fold holding #profile), #helper-save, #helper-status,
 * .field-error[data-for=download_root|concurrency|profile],
 * #helper-banner[data-state=checking|connected|problem] (a command in it has a Copy button),
 * body[data-settings=shown] once the saved eTMA address and OSCAR pages are in their fields.
 * A module (options.html loads it with type="module"): the shared lib/ files are classic scripts
 * imported for their effect, each setting one namespace on globalThis.
 */
import "../lib/protocol.js";
import "../lib/dom.js";
import "../lib/shared.js";

const { element, withCommand } = globalThis.etmaDom;
const { api, ask } = globalThis.etmaShared;
// No eTMA address unless this build packages one (defaults.json: empty in the shipped extension).
const DEFAULTS = globalThis.etmaProtocol.DEFAULT_SETTINGS;
// The manifest's, not etmaProtocol's: a practice build adds its own pages there.
const BUILT_IN_OSCAR_PAGES = api.runtime.getManifest().content_scripts[0].matches;
const MATCH_PATTERN = /^(https?|\*):\/\/(\*|(?:\*\.)?[^/*:]+)(\/.*)$/;
const HELPER_FIELDS = ["download_root", "concurrency", "profile"];

const $ = (id) => document.getElementById(id);

function say(where, text, isError = false) {
  const line = $(where);
  line.textContent = text;
  line.classList.toggle("error", isError);
}

/** The host permission an address or match pattern needs (ports are not part of it). */
function hostPermissionFor(address) {
  const match = MATCH_PATTERN.exec(address);
  if (match) return `${match[1]}://${match[2]}/*`;
  const url = new URL(address);
  return `${url.protocol}//${url.hostname}/*`;
}

// --- eTMA address ---------------------------------------------------------------------------------

$("settings").addEventListener("submit", (event) => {
  event.preventDefault();
  const field = $("etma-url");
  let address;
  try {
    address = new URL(field.value.trim());
  } catch {
    field.setAttribute("aria-invalid", "true");
    say("status", "That is not a web address.", true);
    return;
  }
  if (!["http:", "https:"].includes(address.protocol)) {
    field.setAttribute("aria-invalid", "true");
    say("status", "The address must start with http:// or https://.", true);
    return;
  }
  field.removeAttribute("aria-invalid");
  // Asked for straight away: the browser grants permissions only while handling the click.
  const allowed = api.permissions.request({ origins: [hostPermissionFor(address.href)] });
  allowed.then(async (granted) => {
    if (!granted) {
      say("status", `Not saved: the browser was not allowed to use ${address.host}, so the extension could not pass on your eTMA login.`, true);
      return;
    }
    await api.storage.sync.set({ etmaUrl: address.href });
    say("status", "Saved. Test connection checks it.");
    $("first-run").hidden = true;
  }).catch((error) => say("status", `Not saved: ${error?.message ?? error}`, true));
});

// --- Test connection ------------------------------------------------------------------------------

/** Show the answer to Test connection: its words, and a link to log in when that is the fix. */
function showConnection(verdict, text, link = "") {
  const line = $("connection");
  line.hidden = false;
  line.dataset.verdict = verdict;
  line.replaceChildren(text);
  if (link && /^https?:\/\//.test(link)) {
    line.append(" ", element("a", { href: link, target: "_blank", rel: "noopener", id: "etma-login-link" },
      "Log in to eTMA"));
  }
}

$("test-connection").addEventListener("click", () => {
  const field = $("etma-url");
  let address;
  try {
    address = new URL(field.value.trim());
  } catch {
    showConnection("invalid", "Type the eTMA address first: it starts with https://.");
    return;
  }
  if (!["http:", "https:"].includes(address.protocol)) {
    showConnection("invalid", "The address must start with http:// or https://.");
    return;
  }
  // Asked for straight away: the browser grants permissions only while handling the click.
  const allowed = api.permissions.request({ origins: [hostPermissionFor(address.href)] });
  const button = $("test-connection");
  button.disabled = true;
  showConnection("testing", `Testing ${address.href}…`);
  allowed.then(async (granted) => {
    if (!granted) {
      showConnection("invalid", `The browser was not allowed to use ${address.host}, so the extension cannot pass on your eTMA login. Test again and allow it.`);
      return;
    }
    // The address as typed, saved or not: the tutor may test before saving.
    const answer = await ask({ type: "checkEtma", etmaUrl: address.href });
    if (answer?.error) {
      const line = $("connection");
      showConnection("problem", "");
      withCommand(line, answer.error.text, answer.error.command ?? "");
      return;
    }
    showConnection(answer.words.verdict, answer.words.text, answer.words.link);
  }).catch((error) => showConnection("problem", `Not tested: ${error?.message ?? error}`))
    .finally(() => { button.disabled = false; });
});

// --- OSCAR pages ------------------------------------------------------------------------------------

function showBuiltInPatterns() {
  $("built-in-patterns").replaceChildren(...BUILT_IN_OSCAR_PAGES.map((pattern) => element("li", {}, pattern)));
}

$("oscar-pages").addEventListener("submit", (event) => {
  event.preventDefault();
  const field = $("oscar-patterns");
  const patterns = [...new Set(field.value.split(/\s+/).map((line) => line.trim()).filter(Boolean))];
  const wrong = patterns.find((pattern) => !MATCH_PATTERN.test(pattern));
  if (wrong) {
    field.setAttribute("aria-invalid", "true");
    say("oscar-status", `“${wrong}” is not a page pattern: write it like https://oscar.example.ac.uk/oscar/*`, true);
    return;
  }
  field.removeAttribute("aria-invalid");
  const custom = patterns.filter((pattern) => !BUILT_IN_OSCAR_PAGES.includes(pattern));
  const origins = [...new Set(custom.map(hostPermissionFor))];
  const allowed = origins.length ? api.permissions.request({ origins }) : Promise.resolve(true);
  allowed.then(async (granted) => {
    await api.storage.sync.set({ oscarPatterns: custom });
    const answer = await ask({ type: "oscarPagesChanged" });
    if (!granted) {
      say("oscar-status", "Saved, but the browser did not allow these sites, so the extension will not run there until you save again and allow them.", true);
    } else if (answer?.error) {
      say("oscar-status", `Saved, but the pages could not be registered: ${answer.error.text}`, true);
    } else {
      say("oscar-status", custom.length ? `Saved. Reload those OSCAR pages to see the controls.` : "Saved.");
    }
  }).catch((error) => say("oscar-status", `Not saved: ${error?.message ?? error}`, true));
});

// --- The helper's own settings ------------------------------------------------------------------

/** The values the helper last confirmed, to send only what the user changed. */
let helperValues = null;

function showHelperValues(data) {
  helperValues = {
    download_root: String(data.download_root ?? ""),
    concurrency: Number(data.concurrency ?? 4),
    profile: data.profile ? String(data.profile) : "",
  };
  $("download-root").value = helperValues.download_root;
  $("concurrency").value = String(helperValues.concurrency);
  $("profile").value = helperValues.profile;
  $("settings-file").textContent = data.settings_file ? ` in ${data.settings_file}` : "";
}

function clearFieldErrors() {
  for (const line of document.querySelectorAll(".field-error")) line.textContent = "";
  for (const id of ["download-root", "concurrency", "profile"]) $(id).removeAttribute("aria-invalid");
}

function showFieldError(field, text) {
  const line = document.querySelector(`.field-error[data-for="${field}"]`);
  const input = $(field.replace("_", "-"));
  if (!line || !input) return false;
  // A field under the Advanced fold is shown with its error.
  const fold = input.closest("details");
  if (fold) fold.open = true;
  line.textContent = text;
  input.setAttribute("aria-invalid", "true");
  input.focus();
  return true;
}

/** Which field an error reply is about: 8 the folder, 11 the profile, 3 the field it names. */
function fieldOfError(error) {
  if (error.code === 8) return "download_root";
  if (error.code === 11) return "profile";
  if (error.code === 3 && HELPER_FIELDS.includes(String(error.params?.field ?? "").replace(/^set\./, ""))) {
    return String(error.params.field).replace(/^set\./, "");
  }
  return null;
}

function showHelperProblem(problem) {
  const banner = $("helper-banner");
  banner.dataset.state = "problem";
  withCommand(banner, problem.text, problem.command ?? "");
  $("helper-fields").disabled = true;
  $("helper-save").disabled = true;
}

async function loadHelperSettings() {
  const status = await ask({ type: "helperStatus" });
  if (!status?.connected) {
    showHelperProblem(status?.problem ?? { text: "The eTMA Helper program is not available." });
    return;
  }
  const banner = $("helper-banner");
  banner.dataset.state = "connected";
  banner.textContent = `The eTMA Helper program is connected (version ${status.version || "unknown"}).`;
  const answer = await ask({ type: "helperRequest", action: "settings" });
  if (answer?.error) {
    showHelperProblem(answer.error);
    return;
  }
  showHelperValues(answer.data);
  $("helper-fields").disabled = false;
  $("helper-save").disabled = false;
}

$("helper-settings").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!helperValues) return;
  clearFieldErrors();
  const concurrencyText = $("concurrency").value.trim();
  const concurrency = Number(concurrencyText);
  if (!/^\d+$/.test(concurrencyText) || concurrency < 1 || concurrency > 16) {
    showFieldError("concurrency", "Enter a whole number from 1 to 16.");
    say("helper-status", "Not saved.", true);
    return;
  }
  const wanted = {
    download_root: $("download-root").value.trim(),
    concurrency,
    profile: $("profile").value.trim(),
  };
  const set = {};
  for (const name of HELPER_FIELDS) {
    if (wanted[name] !== helperValues[name]) set[name] = name === "profile" && !wanted[name] ? null : wanted[name];
  }
  if (Object.keys(set).length === 0) {
    say("helper-status", "Nothing changed.");
    return;
  }
  say("helper-status", "Saving…");
  $("helper-save").disabled = true;
  const answer = await ask({ type: "helperRequest", action: "settings", set });
  $("helper-save").disabled = false;
  if (answer?.error) {
    const field = fieldOfError(answer.error);
    if (!(field && showFieldError(field, answer.error.text))) {
      withCommand($("helper-status"), answer.error.text, answer.error.command ?? "");
      $("helper-status").classList.add("error");
      return;
    }
    say("helper-status", "Not saved: the helper refused it.", true);
    return;
  }
  showHelperValues(answer.data);
  say("helper-status", "Saved by the helper.");
});

for (const id of ["download-root", "concurrency", "profile", "etma-url", "oscar-patterns"]) {
  $(id).addEventListener("input", () => {
    $(id).removeAttribute("aria-invalid");
    $(id).dataset.edited = "true";
  });
}

/** The defaults this build packages, over the built-in ones. */
async function packagedDefaults() {
  try {
    const packaged = await (await fetch(api.runtime.getURL("defaults.json"))).json();
    return { ...DEFAULTS, etmaUrl: typeof packaged?.etmaUrl === "string" ? packaged.etmaUrl : "" };
  } catch {
    return DEFAULTS;
  }
}

showBuiltInPatterns();
packagedDefaults().then((defaults) => api.storage.sync.get(defaults)).then((saved) => {
  showSaved("etma-url", saved.etmaUrl);
  showSaved("oscar-patterns", (saved.oscarPatterns ?? []).join("\n"));
  if (!saved.etmaUrl) {
    say("status", "Not set yet: enter your eTMA address and press Save.", true);
    $("first-run").hidden = false;
  }
}).catch((error) => say("status", `Could not read the saved settings: ${error?.message ?? error}`, true))
  .finally(() => { document.body.dataset.settings = "shown"; });

/** Show a saved value, unless the user has already typed in the field: theirs stays. */
function showSaved(id, value) {
  if (!$(id).dataset.edited) $(id).value = value;
}
loadHelperSettings();
