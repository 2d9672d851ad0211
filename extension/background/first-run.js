/*
 * First run: what a tutor installs packages no eTMA address (defaults.json), and nothing can run
 * without one. So on a first install (not an update) the options page opens, which explains what
 * the address is and how to find it. A build that already packages an address (the practice
 * build used by the demo and the tests) has nothing to ask, and opens nothing.
 */
import { api } from "./browser-api.js";
import { loadSettings } from "./settings.js";

/**
 * Open the options page in a tab of its own when no eTMA address is set yet. A new tab, not
 * runtime.openOptionsPage(): Firefox would load that into the tab the browser just opened,
 * over whatever the tutor (or an automated browser) is about to load there.
 */
export async function openOptionsOnFirstInstall() {
  const { etmaUrl } = await loadSettings();
  if (!etmaUrl) await api.tabs.create({ url: api.runtime.getURL("options/options.html") });
}
