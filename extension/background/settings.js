/*
 * The tutor's settings and the eTMA site they name. Settings are the vocabulary's defaults, then
 * what this build packages in defaults.json, then what the tutor saved on the options page
 * (storage.sync). Every request to eTMA needs the site's address and the browser's cookies for it.
 */
import "../lib/protocol.js";
import { api } from "./browser-api.js";
import { HelperError, noEtmaAddressProblem } from "./problems.js";

const { DEFAULT_SETTINGS } = globalThis.etmaProtocol;

/**
 * The defaults this build packages: the shipped defaults.json names no eTMA address; the practice
 * build (tests/practice_extension.py) names the practice eTMA. Only the known settings are taken.
 * Read once, when the background starts.
 */
const packagedDefaults = fetch(api.runtime.getURL("defaults.json"))
  .then((response) => response.json())
  .then((packaged) => ({ etmaUrl: typeof packaged?.etmaUrl === "string" ? packaged.etmaUrl : "" }))
  .catch(() => ({}));

/**
 * Settings: the defaults, overridden by what the user saved on the options page.
 * @returns {Promise<{etmaUrl: string, oscarPatterns: string[]}>}
 */
export async function loadSettings() {
  const defaults = { ...DEFAULT_SETTINGS, ...(await packagedDefaults) };
  const synced = await api.storage.sync.get(defaults).catch(() => ({}));
  return { ...defaults, ...synced };
}

/**
 * The eTMA address; throws a HelperError telling the tutor to set it when there is none.
 * @returns {Promise<string>}
 */
export async function etmaAddress() {
  const { etmaUrl } = await loadSettings();
  if (!etmaUrl) throw new HelperError(noEtmaAddressProblem());
  return etmaUrl;
}

/**
 * The browser's cookies for the eTMA site, as the protocol carries them. They go to the helper
 * only: never into a log line or storage.
 * @param {string} etmaUrl
 */
export async function etmaCookies(etmaUrl) {
  return (await api.cookies.getAll({ url: etmaUrl })).map((cookie) => ({
    name: cookie.name,
    value: cookie.value,
    domain: cookie.domain,
    path: cookie.path,
    secure: cookie.secure,
  }));
}
