/*
 * How the popup says where a job stands, in one place, so its current job and its recent-jobs
 * list always say the same thing about the same job: running with its progress, finished, or
 * stopped with the reason and what to do (log in to eTMA, check the eTMA address, free disk
 * space), or cancelled. Pure: no browser API, tested under Node (tests/js/job-words.test.mjs).
 */
import "../lib/protocol.js";

const { FINAL_STATES } = globalThis.etmaProtocol;

/** Finished states: every final state but `cancelled` (a cancelled student did not finish). */
const FINISHED_STATES = FINAL_STATES.filter((state) => state !== "cancelled");

const plural = (count, one) => `${count} ${one}${count === 1 ? "" : "s"}`;

/**
 * @typedef {Object} JobFacts  what the popup knows of a job, from the background or the ledger
 * @property {boolean} [running]
 * @property {string|null} [outcome]  the summary's (or the ledger's) outcome, null when none came
 * @property {Object<string, number>} [counts]  students by state
 * @property {number} [total]
 * @property {{text?: string, wrongEtmaAddress?: boolean}|null} [error]  why the job stopped, when it broke
 */

/**
 * Where the job stands, as a state name (for styling and tests) and a sentence.
 * @param {JobFacts} job
 * @returns {{state: string, text: string}}
 */
export function jobVerdict({ running = false, outcome = null, counts = {}, total = 0, error = null } = {}) {
  const finished = FINISHED_STATES.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
  const cancelled = counts.cancelled ?? 0;
  const progress = `${finished} of ${plural(total, "student")} finished${cancelled ? `, ${cancelled} cancelled` : ""}`;
  if (running) return { state: "running", text: `Running: ${progress}` };
  if (outcome === "wrong_address" || error?.wrongEtmaAddress) {
    return { state: "wrong_address", text: "Stopped: check the eTMA address in the options (nothing was fetched)" };
  }
  if (outcome === "needs_login") {
    return { state: "needs_login", text: `Stopped: log in to eTMA, then run it again (${progress})` };
  }
  if (outcome === "cancelled" || (cancelled && !error)) return { state: "cancelled", text: `Cancelled: ${progress}` };
  if (outcome === "disk_full") return { state: "disk_full", text: `Stopped: the disk is nearly full (${progress})` };
  if (outcome === "finished" && !error) return { state: "finished", text: `Finished: ${plural(total, "student")}` };
  return { state: "stopped", text: `Stopped before the end: ${progress}` };
}

/**
 * Students by state, counted from a job's records (the background's live view of a job).
 * @param {Object<string, {state: string}>} students
 */
export function countStates(students = {}) {
  const counts = {};
  for (const record of Object.values(students)) counts[record.state] = (counts[record.state] ?? 0) + 1;
  return counts;
}

/**
 * The background's job as JobFacts: its summary when one came, else its live records.
 * @param {Object} job  the background's snapshot (background/jobs.js)
 * @returns {JobFacts & {counts: Object<string, number>}}
 */
export function factsOfJob(job) {
  const counts = job.summary?.counts ?? countStates(job.students);
  return {
    running: Boolean(job.running),
    outcome: job.summary?.outcome ?? null,
    counts,
    total: job.total || Object.keys(job.students ?? {}).length || 0,
    error: job.error ?? null,
  };
}
