/*
 * The pages that follow jobs ("watchers"): what names one (its tab, its page address and, where
 * the browser says, its document), whether its tab still shows that page, and delivering a job's
 * messages to it, in order, only while it does. A tab that went elsewhere gets nothing; a reload
 * catches up through getState.
 */
import { api } from "./browser-api.js";

/**
 * @typedef {Object} Watcher  a page following a job
 * @property {number} tabId
 * @property {string} address    the page's origin, path and query when it asked
 * @property {string} [documentId] the page's document, where the browser names it (Chromium)
 */

/** A page's address as jobs are matched on: origin, path and query (not the #fragment). */
export function pageAddress(url) {
  try {
    const parsed = new URL(String(url ?? ""));
    return `${parsed.origin}${parsed.pathname}${parsed.search}`;
  } catch {
    return "";
  }
}

/** The origin of a page address, or "" when it is none. */
export function originOf(address) {
  try {
    return new URL(address).origin;
  } catch {
    return "";
  }
}

/**
 * The page that sent a message, as a watcher.
 * @param {chrome.runtime.MessageSender} sender
 * @returns {Watcher}
 */
export function watcherOf(sender) {
  const watcher = { tabId: sender.tab?.id, address: pageAddress(sender.url ?? sender.tab?.url) };
  if (typeof sender.documentId === "string") watcher.documentId = sender.documentId;
  return watcher;
}

/** Is the tab still showing this page address? False when it is gone or elsewhere. */
export async function tabShows(tabId, address) {
  const tab = await api.tabs.get(tabId).catch(() => null);
  // No url: the tab shows a page this extension may not see, so not an OSCAR page of ours.
  return Boolean(tab && address && pageAddress(tab.url) === address);
}

/** The job's watchers (jobs saved by an older version kept bare tab ids: they follow no one). */
export function watchersOf(job) {
  return (Array.isArray(job.watchers) ? job.watchers : [])
    .filter((watcher) => watcher && Number.isInteger(watcher.tabId) && watcher.tabId >= 0);
}

/** Let a page follow the job (replacing what its tab followed it from before). */
export function follow(job, watcher) {
  job.watchers = [...watchersOf(job).filter((other) => other.tabId !== watcher.tabId), watcher];
}

/** Per tab, the delivery in progress: messages reach each tab in the order they were sent. */
const deliveries = new Map();

/**
 * Send to one following page, after checking that its tab still shows that page: a tab that
 * went to another page since (a reload asks again through getState) gets nothing.
 * @param {Watcher} watcher
 */
function deliver(watcher, payload) {
  const previous = deliveries.get(watcher.tabId) ?? Promise.resolve();
  const next = previous.then(async () => {
    if (!(await tabShows(watcher.tabId, watcher.address))) return;
    const target = watcher.documentId ? { documentId: watcher.documentId } : { frameId: 0 };
    // The page may be closing; the state stays in the background for getState.
    api.tabs.sendMessage(watcher.tabId, payload, target).catch(() => {});
  }).catch(() => {});
  deliveries.set(watcher.tabId, next);
  next.then(() => {
    if (deliveries.get(watcher.tabId) === next) deliveries.delete(watcher.tabId);
  });
}

/** Tell every page following the job (the one that started it, and any it was handed to). */
export function notifyWatchers(job, payload) {
  for (const watcher of watchersOf(job)) deliver(watcher, payload);
}
