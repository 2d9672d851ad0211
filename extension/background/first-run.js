/*
 * First run: what a tutor installs packages no eTMA address (defaults.json), and nothing can run
 * without one. So on a first install (not an update) the options page opens, which explains what
 * the address is and how to find it. A build that already packages an address (the practice
 * build used by the demo and the tests) has nothing to ask, and opens nothing.
 */
import { api } from "./browser-api.js";
import { loadSettings } from "./settings.js";

/** Open the options page when no eTMA address is set yet. */
export async function openOptionsOnFirstInstall() {
  const { etmaUrl } = await loadSettings();
  if (!etmaUrl) await api.runtime.openOptionsPage();
}
