/*
 * The OSCAR pages the extension works on: the manifest's own, plus the tutor's (options page),
 * which get the content script through scripting.registerContentScripts once the tutor granted
 * their host permission. Keeps the registered script and the row menu's pages in step with them.
 */
import { api } from "./browser-api.js";
import { createMenus, showMenusOn } from "./context-menu.js";
import { loadSettings } from "./settings.js";

const CUSTOM_SCRIPT_ID = "etma-helper-custom-oscar";

/**
 * The OSCAR pages built into the manifest. Read from the manifest at run time, not from the
 * vocabulary: the practice build (tests/practice_extension.py) adds its loopback pages there.
 * @returns {string[]}
 */
function builtInOscarPages() {
  return api.runtime.getManifest().content_scripts[0].matches;
}

/**
 * A file of this extension as registerContentScripts wants it: relative. Firefox's getManifest()
 * gives content script files as absolute moz-extension:// addresses, which it then refuses there.
 */
function packagePath(file) {
  const base = api.runtime.getURL("");
  return file.startsWith(base) ? file.slice(base.length) : file;
}

/** The host permission a match pattern needs: `https://oscar.example/x/*` → `https://oscar.example/*`. */
function originOfPattern(pattern) {
  const match = /^(https?|\*):\/\/(\*|(?:\*\.)?[^/*]+)\//.exec(pattern);
  return match ? `${match[1]}://${match[2]}/*` : null;
}

/** The tutor's OSCAR patterns that the browser lets this extension run on. */
async function grantedCustomPatterns() {
  const builtIn = builtInOscarPages();
  const { oscarPatterns } = await loadSettings();
  const wanted = (Array.isArray(oscarPatterns) ? oscarPatterns : [])
    .filter((pattern) => typeof pattern === "string" && !builtIn.includes(pattern));
  const granted = [];
  for (const pattern of wanted) {
    const origin = originOfPattern(pattern);
    if (origin && await api.permissions.contains({ origins: [origin] }).catch(() => false)) granted.push(pattern);
  }
  return granted;
}

/** Register the content script and the row menu for the tutor's OSCAR pages; idempotent. */
export async function syncOscarPages() {
  const custom = await grantedCustomPatterns().catch(() => []);
  const registered = await api.scripting.getRegisteredContentScripts({ ids: [CUSTOM_SCRIPT_ID] }).catch(() => []);
  if (registered.length) await api.scripting.unregisterContentScripts({ ids: [CUSTOM_SCRIPT_ID] }).catch(() => {});
  if (custom.length) {
    // The very files the manifest gives the built-in pages, so the two lists cannot drift.
    const { js, css } = api.runtime.getManifest().content_scripts[0];
    await api.scripting.registerContentScripts([{
      id: CUSTOM_SCRIPT_ID,
      matches: custom,
      js: js.map(packagePath),
      css: css.map(packagePath),
      runAt: "document_idle",
    }]);
  }
  await showMenusOn([...builtInOscarPages(), ...custom]);
}

/** On install or update: make the row menu for every OSCAR page, then register the tutor's. */
export async function setUpOscarPages() {
  const custom = await grantedCustomPatterns().catch(() => []);
  await createMenus([...builtInOscarPages(), ...custom]);
  await syncOscarPages();
}
