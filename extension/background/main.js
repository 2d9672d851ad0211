/*
 * eTMA Helper — the background's entry point (a module service worker in Chromium, a module
 * event page in Firefox). It only wires the browser's events to the modules that answer them.
 *
 * The background owns the one native-messaging port to the helper (docs/PROTOCOL.md), the eTMA
 * cookies and the state of every job. Content scripts ask it to start or cancel jobs; it relays
 * the helper's messages to the tab that asked, and keeps the latest state so a reloaded page can
 * catch up. Cookie values never reach a log line or storage.
 *
 * MV3 stops the background when idle and wakes it for an event only if the listener was added
 * during the first, synchronous evaluation of this module graph: so every addListener is here,
 * at the top level, and no module awaits at its top level.
 */
import { api } from "./browser-api.js";
import { onMenuClicked } from "./context-menu.js";
import { failRunningJobs, onJobMessage } from "./jobs.js";
import { setUpOscarPages, syncOscarPages } from "./oscar-pages.js";
import { openOptionsOnFirstInstall } from "./first-run.js";
import { listenToHelper } from "./port.js";
import { usePlatform } from "./problems.js";
import { onRuntimeMessage } from "./router.js";

listenToHelper({ onMessage: onJobMessage, onGone: failRunningJobs });

// The install command differs on Windows (py) from Linux and macOS (python3).
api.runtime.getPlatformInfo().then(({ os }) => usePlatform(os), () => {});

api.runtime.onMessage.addListener(onRuntimeMessage);

api.runtime.onInstalled.addListener(({ reason } = {}) => {
  setUpOscarPages().catch(() => {});
  // A first install only, never an update: the tutor has an eTMA address to set.
  if (reason === "install") openOptionsOnFirstInstall().catch(() => {});
});
api.runtime.onStartup?.addListener(() => {
  syncOscarPages().catch(() => {});
});

api.contextMenus.onClicked.addListener(onMenuClicked);
