/*
 * Download and confirmation-code jobs: checking a page's request, starting the job on the helper,
 * following its progress and summary, ending it when it cannot go on, and the snapshot a page may
 * see. Which page may start, cancel or follow a job is decided by the router (router.js) before
 * it calls in here.
 */
import "../lib/protocol.js";
import { api } from "./browser-api.js";
import { ensureHelper, isConnected, nextId, request } from "./port.js";
import { HelperError, asProblem, explainPortError, helperErrorProblem } from "./problems.js";
import { jobs, saveJobsSoon, savedJobs } from "./saved-jobs.js";
import { etmaAddress, etmaCookies } from "./settings.js";
import { notifyWatchers } from "./watchers.js";

const { FINAL_STATES, MAX_PIS, PATTERNS, STATES } = globalThis.etmaProtocol;

/** The states of a student still waiting or working: every state that is not a final one. */
const UNFINISHED_STATES = STATES.filter((state) => !FINAL_STATES.includes(state));

/** Finished jobs kept for the pages and the popup; older ones are forgotten. */
const KEPT_JOBS = 5;

/**
 * @typedef {Object} StudentRecord
 * @property {string} pi
 * @property {"queued"|"working"|"done"|"not_submitted"|"failed"|"needs_login"|"cancelled"|"idle"} state
 *   (idle: the helper never took the student on)
 * @property {string} [reason]
 * @property {string} [code]
 * @property {string[]} [files]
 * @property {number} [files_total]
 * @property {string} [folder]
 *
 * @typedef {Object} JobState
 * @property {string} id          the request id, which is also the helper's job id
 * @property {"download"|"codes"} action
 * @property {number} tabId     the tab it belongs to: the one that started it, or the one that
 *                              reopened its page after that tab left
 * @property {string} address   the page address it was started on (origin, path and query)
 * @property {import("./watchers.js").Watcher[]} watchers the pages that get its messages
 * @property {string} module
 * @property {string} assignment
 * @property {string[]} pis
 * @property {number} total
 * @property {boolean} running
 * @property {boolean} accepted  the helper replied ok to the request
 * @property {Object<string, StudentRecord>} students  by upper-case PI
 * @property {Object|null} summary
 * @property {import("./problems.js").HelperProblem|null} error
 */

/** What a page may know of a job: its own state, nothing of which tabs or pages follow it. */
const SNAPSHOT_FIELDS = ["id", "action", "module", "assignment", "pis", "total", "running",
  "accepted", "students", "summary", "error"];

/** The job's state as the page needs it (a plain, cloneable object). */
export function snapshot(job) {
  if (!job) return null;
  return JSON.parse(JSON.stringify(Object.fromEntries(SNAPSHOT_FIELDS.map((key) => [key, job[key]]))));
}

/**
 * End a job that cannot go on. Students the helper never accepted, or never tried (`untouched`:
 * the job stopped before its first student, as for a wrong eTMA address), go back to idle, left
 * unfinished rather than failed; students of an accepted job that were still waiting or working
 * end as failed, with the reason.
 */
function failJob(job, problem, studentReason = "The eTMA Helper program stopped.", { untouched = false } = {}) {
  job.running = false;
  job.error = problem;
  for (const record of Object.values(job.students)) {
    if (!UNFINISHED_STATES.includes(record.state)) continue;
    job.students[record.pi] = job.accepted && !untouched
      ? { pi: record.pi, state: "failed", reason: studentReason }
      : { pi: record.pi, state: "idle", reason: "" };
  }
  notifyWatchers(job, { type: "jobError", jobId: job.id, error: problem, job: snapshot(job) });
  saveJobsSoon();
}

/** Resolves once the jobs an earlier run of the background saved are back. */
export const restored = savedJobs()
  .then((saved) => {
    for (const job of saved) {
      if (jobs.has(job.id)) continue;
      jobs.set(job.id, job);
      // The port that ran it closed with the old background.
      if (job.running) failJob(job, explainPortError("Native host has exited."));
    }
  })
  .catch(() => {});

/** Check a job request from a page once, here at the edge. Returns the problem, or null. */
function invalidJobRequest({ action, module, assignment, pis }) {
  if (action !== "download" && action !== "codes") return "Unknown job.";
  if (typeof module !== "string" || !PATTERNS.module.test(module)) {
    return "The module code was not found on this page (such as TM351).";
  }
  if (assignment && (typeof assignment !== "string" || !PATTERNS.assignment.test(assignment))) {
    return `"${String(assignment).slice(0, 20)}" is not an assignment (such as TMA 02).`;
  }
  if (!Array.isArray(pis) || pis.length === 0) return "Select at least one student first.";
  if (pis.length > MAX_PIS) return `Select at most ${MAX_PIS} students at a time.`;
  if (!pis.every((pi) => typeof pi === "string" && PATTERNS.pi.test(pi))) {
    return "One of the selected rows does not hold a student PI.";
  }
  return null;
}

/**
 * The page's names for the job's students, as the protocol's optional `names` ({PI: name});
 * only string names of the job's own PIs are passed on (the helper checks the rest).
 */
function namesFor(pis, names) {
  if (!names || typeof names !== "object") return {};
  const chosen = {};
  for (const pi of pis) {
    const name = Object.hasOwn(names, pi) ? names[pi] : undefined;
    if (typeof name === "string" && name.trim()) chosen[pi] = name;
  }
  return Object.keys(chosen).length ? { names: chosen } : {};
}

function forgetOldJobs() {
  while (jobs.size > KEPT_JOBS) {
    const oldest = [...jobs.values()].find((job) => !job.running);
    if (!oldest) break;
    jobs.delete(oldest.id);
  }
}

/**
 * Start a download/codes job for a page (`watcher`: its tab and address): handshake, read the
 * eTMA cookies, send the request. Resolves with the job's snapshot; on failure the page is told
 * and the promise resolves with `{error}` (the page shows it either way).
 * @param {import("./watchers.js").Watcher} watcher
 */
export async function startJob(watcher, { action, module, assignment, pis, names }) {
  const { tabId } = watcher;
  const invalid = invalidJobRequest({ action, module, assignment, pis });
  if (invalid) {
    const error = { text: invalid };
    api.tabs.sendMessage(tabId, { type: "jobError", jobId: null, error }, { frameId: 0 }).catch(() => {});
    return { error };
  }
  const uniquePis = [...new Set(pis.map((pi) => pi.trim().toUpperCase()))];
  /** @type {JobState} */
  const job = {
    id: nextId("job-"),
    action,
    tabId,
    address: watcher.address,
    watchers: [watcher],
    module: module.toUpperCase(),
    assignment: (assignment || "").replace(/\s+/g, "").toUpperCase(),
    pis: uniquePis,
    total: uniquePis.length,
    running: true,
    accepted: false,
    students: {},
    summary: null,
    error: null,
  };
  for (const pi of uniquePis) job.students[pi] = { pi, state: "queued", reason: "" };
  jobs.set(job.id, job);
  forgetOldJobs();
  notifyWatchers(job, { type: "jobStarted", job: snapshot(job) });

  try {
    const etmaUrl = await etmaAddress();
    await ensureHelper();
    const cookies = await etmaCookies(etmaUrl);
    const reply = await request({
      id: job.id,
      action,
      job: {
        etma_url: etmaUrl,
        module: job.module,
        assignment: job.assignment,
        pis: job.pis,
        ...namesFor(job.pis, names),
        cookies,
      },
    });
    if (reply.status !== "ok") throw new HelperError(helperErrorProblem(reply));
    if (Number.isInteger(reply.data?.total)) job.total = reply.data.total;
  } catch (error) {
    const problem = asProblem(error);
    if (job.running) failJob(job, problem);
    return { error: problem, job: snapshot(job) };
  }
  job.accepted = true;
  saveJobsSoon();
  return { job: snapshot(job) };
}

/** The job of this id, or null. */
export function jobById(jobId) {
  return jobs.get(jobId) ?? null;
}

/** Ask the helper to cancel a running job. The caller has checked who may. */
export async function cancelJob(job) {
  if (!job.running || !isConnected()) return { cancelled: false };
  try {
    const reply = await request({ id: nextId("cancel-"), action: "cancel", job_id: job.id });
    if (reply.status !== "ok") return { cancelled: false, error: helperErrorProblem(reply) };
    return { cancelled: true };
  } catch (error) {
    return { cancelled: false, error: error.problem ?? { text: String(error?.message ?? error) } };
  }
}

/**
 * The newest job `mayFollow` allows (for its module, when one is named). Jobs the helper never
 * accepted are left out: after "install, then reload this page" the old error must not come back.
 * @param {string} [module]
 * @param {(job: JobState) => Promise<boolean>} mayFollow
 */
export async function latestJobFor(module, mayFollow) {
  const wanted = String(module || "").toUpperCase();
  const candidates = [...jobs.values()].reverse()
    .filter((job) => (job.accepted || job.running) && (!wanted || job.module === wanted));
  for (const job of candidates) {
    if (await mayFollow(job)) return job;
  }
  return null;
}

/** The job the popup shows: the running one, else the newest the helper accepted. */
export function newestJob() {
  const newestFirst = [...jobs.values()].reverse();
  return newestFirst.find((job) => job.running) ?? newestFirst.find((job) => job.accepted) ?? null;
}

/** A message from the helper: a job's reply, progress or summary goes to the job's pages. */
export function onJobMessage(message) {
  const job = jobs.get(String(message.id ?? ""));
  if (!job) return;
  if (message.type === "progress" && message.data?.pi) {
    job.students[String(message.data.pi).toUpperCase()] = message.data;
  } else if (message.type === "summary") {
    if (message.status === "error") {
      // The job itself broke, or could not begin: students still waiting or working did not finish.
      const problem = helperErrorProblem(message);
      failJob(job, problem, String(message.message || ""), { untouched: Boolean(problem.wrongEtmaAddress) });
      return;
    }
    job.summary = message.data ?? null;
    job.running = false;
  }
  notifyWatchers(job, { type: "helperMessage", jobId: job.id, message });
  saveJobsSoon();
}

/** The helper's port closed: every running job ends with the problem. */
export function failRunningJobs(problem) {
  for (const job of jobs.values()) {
    if (job.running) failJob(job, problem);
  }
}
