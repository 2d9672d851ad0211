/*
 * The jobs the background knows, by id, and keeping them across a background restart: the
 * service worker (or Firefox's event page) is stopped when idle and loses its memory.
 * storage.session lives in memory only and is cleared when the browser closes, so the codes and
 * paths a job holds never reach the disk.
 */
import { api } from "./browser-api.js";

/** @type {Map<string, import("./jobs.js").JobState>} jobs by id, oldest first */
export const jobs = new Map();

let saveTimer = null;

/** Save every job shortly (changes within half a second are saved together). */
export function saveJobsSoon() {
  if (!api.storage.session || saveTimer) return;
  saveTimer = setTimeout(() => {
    saveTimer = null;
    api.storage.session.set({ jobs: [...jobs.values()] }).catch(() => {});
  }, 500);
}

/**
 * The jobs an earlier run of the background saved, oldest first; none when there are none or
 * storage.session cannot be read.
 * @returns {Promise<import("./jobs.js").JobState[]>}
 */
export async function savedJobs() {
  const saved = await (api.storage.session?.get("jobs") ?? Promise.resolve({}));
  return saved?.jobs ?? [];
}
