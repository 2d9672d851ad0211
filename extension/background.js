/*
 * eTMA Helper — background.
 *
 * Owns the one native-messaging port to the helper (docs/PROTOCOL.md), the eTMA cookies and the
 * state of every job. Content scripts ask it to start or cancel jobs; it relays the helper's
 * messages to the tab that asked, and keeps the latest state so a reloaded page can catch up.
 * Cookie values never reach a log line or storage.
 *
 * A tab sees only its own jobs: the one it started, or, once that tab is gone or has left the
 * page, a job started on the very same page address (a reloaded or reopened OSCAR page). Another
 * open tab's job, its codes and its paths never reach a page; the popup and options page (the
 * extension's own pages) see every job.
 */
"use strict";

const api = globalThis.browser ?? globalThis.chrome;

const HOST_NAME = "etma_helper";
const PROTOCOL_VERSION = 1;
const INSTALL_COMMAND = "python3 install.py";
const HELLO_TIMEOUT_MS = 15000;
const REPLY_TIMEOUT_MS = 30000;
const MAX_PIS = 5000;
const KEPT_JOBS = 5;
const PI_PATTERN = /^[A-Z]\d{6,8}[A-Z0-9]?$/i;
const MODULE_PATTERN = /^[A-Z]{1,5}\d{1,4}[A-Z]?$/i;
const ASSIGNMENT_PATTERN = /^[A-Z]{2,5} ?\d{1,3}$/i;

// No eTMA address until the tutor sets one on the options page. A build may package defaults in
// defaults.json: the shipped one names none; the practice build (tests/practice_extension.py)
// names the practice eTMA.
const DEFAULT_SETTINGS = Object.freeze({ etmaUrl: "", oscarPatterns: [] });
const NO_ETMA_ADDRESS = "Set the eTMA address in the options first: right-click the eTMA Helper icon, choose Options, and enter your eTMA address.";

// The OSCAR pages built into the manifest; the user may add more on the options page.
const BUILT_IN_OSCAR_PAGES = api.runtime.getManifest().content_scripts[0].matches;
const CUSTOM_SCRIPT_ID = "etma-helper-custom-oscar";

const MENU_ITEMS = [
  { id: "etma-download-student", title: "Download this student's scripts", action: "download" },
  { id: "etma-codes-student", title: "Get this student's confirmation code", action: "codes" },
  { id: "etma-open-student", title: "Open this student's eTMA page", action: "open_student" },
];

// Requests only the extension's own pages (popup, options) may send through the background.
const PAGE_ACTIONS = new Set(["jobs", "settings", "open"]);
const TAB_LOAD_TIMEOUT_MS = 30000;

/**
 * @typedef {Object} StudentRecord
 * @property {string} pi
 * @property {"queued"|"working"|"done"|"failed"|"needs_login"|"cancelled"} state
 * @property {string} [reason]
 * @property {string} [code]
 * @property {string[]} [files]
 * @property {number} [files_total]
 * @property {string} [folder]
 *
 * @typedef {Object} HelperProblem  what the page shows when the helper cannot do the job
 * @property {string} text      a sentence for a person, saying what to do next
 * @property {string} [command] a command inside `text` the person may need to copy
 * @property {number} [code]    the protocol error code, when the helper sent one
 *
 * @typedef {Object} Watcher  a page following a job
 * @property {number} tabId
 * @property {string} address    the page's origin, path and query when it asked
 * @property {string} [documentId] the page's document, where the browser names it (Chromium)
 *
 * @typedef {Object} JobState
 * @property {string} id          the request id, which is also the helper's job id
 * @property {"download"|"codes"} action
 * @property {number} tabId     the tab it belongs to: the one that started it, or the one that
 *                              reopened its page after that tab left
 * @property {string} address   the page address it was started on (origin, path and query)
 * @property {Watcher[]} watchers the pages that get its messages
 * @property {string} module
 * @property {string} assignment
 * @property {string[]} pis
 * @property {number} total
 * @property {boolean} running
 * @property {boolean} accepted  the helper replied ok to the request
 * @property {Object<string, StudentRecord>} students  by upper-case PI
 * @property {Object|null} summary
 * @property {HelperProblem|null} error
 */

/** @type {Map<string, JobState>} jobs by id, oldest first */
const jobs = new Map();
let jobCounter = 0;

// ---------------------------------------------------------------------------------------------
// Settings

/** The defaults this build packages (defaults.json); only the known settings are taken. */
const packagedDefaults = fetch(api.runtime.getURL("defaults.json"))
  .then((response) => response.json())
  .then((packaged) => ({ etmaUrl: typeof packaged?.etmaUrl === "string" ? packaged.etmaUrl : "" }))
  .catch(() => ({}));

/** Settings: the defaults, overridden by what the user saved on the options page. */
async function loadSettings() {
  const defaults = { ...DEFAULT_SETTINGS, ...(await packagedDefaults) };
  const synced = await api.storage.sync.get(defaults).catch(() => ({}));
  return { ...defaults, ...synced };
}

/** The eTMA address, or a HelperError telling the tutor to set it. */
async function etmaAddress() {
  const { etmaUrl } = await loadSettings();
  if (!etmaUrl) throw new HelperError({ text: NO_ETMA_ADDRESS, needsEtmaAddress: true });
  return etmaUrl;
}

// ---------------------------------------------------------------------------------------------
// Saying what went wrong

/** Turn the browser's terse native-messaging error into a sentence with the fix. */
function explainPortError(raw) {
  const detail = String(raw || "");
  if (/not found|no such native application/i.test(detail)) {
    return {
      text: `The eTMA Helper program is not installed on this computer. In the eTMA Helper folder run: ${INSTALL_COMMAND} — then reload this page.`,
      command: INSTALL_COMMAND,
    };
  }
  if (/forbidden/i.test(detail)) {
    return {
      text: `The eTMA Helper program is registered for a different copy of this extension. In the eTMA Helper folder run: ${INSTALL_COMMAND} again — then reload this page.`,
      command: INSTALL_COMMAND,
    };
  }
  if (/exited|communicating/i.test(detail)) {
    return {
      text: `The eTMA Helper program stopped unexpectedly. In the eTMA Helper folder run: ${INSTALL_COMMAND} again — then reload this page. If it happens again, the helper's log says why.`,
      command: INSTALL_COMMAND,
    };
  }
  return {
    text: `The eTMA Helper program could not be reached${detail ? ` (${detail})` : ""}. In the eTMA Helper folder run: ${INSTALL_COMMAND} — then reload this page.`,
    command: INSTALL_COMMAND,
  };
}

function outdatedHelperProblem(helperProtocol, helperVersion) {
  const theirs = helperVersion ? ` (helper ${helperVersion}, protocol ${helperProtocol ?? "unknown"})` : "";
  return {
    text: `The eTMA Helper program on this computer does not match this extension${theirs}. Update it: in the eTMA Helper folder run: ${INSTALL_COMMAND} — then reload this page.`,
    command: INSTALL_COMMAND,
    code: 4,
  };
}

/** The helper answered the handshake but does not know an action this extension needs. */
async function requireAction(action) {
  const hello = await ensureHelper();
  if (Array.isArray(hello.actions) && !hello.actions.includes(action)) {
    throw new HelperError({
      text: `The eTMA Helper program on this computer (version ${hello.version || "unknown"}) is older than this extension and cannot do this. Update it: in the eTMA Helper folder run: ${INSTALL_COMMAND} — then try again.`,
      command: INSTALL_COMMAND,
      code: 2,
    });
  }
  return hello;
}

/** An error reply from the helper, as a problem for the page. */
function helperErrorProblem(message) {
  if (message.code === 4) return outdatedHelperProblem(message.params?.protocol, message.version);
  if (message.code === 2) {
    return {
      text: `The eTMA Helper program on this computer is older than this extension. Update it: in the eTMA Helper folder run: ${INSTALL_COMMAND} — then try again.`,
      command: INSTALL_COMMAND,
      code: 2,
    };
  }
  return {
    text: String(message.message || "The eTMA Helper program refused the request."),
    code: message.code,
    params: message.params && typeof message.params === "object" ? message.params : {},
  };
}

class HelperError extends Error {
  /** @param {HelperProblem} problem */
  constructor(problem) {
    super(problem.text);
    this.problem = problem;
  }
}

// ---------------------------------------------------------------------------------------------
// The native port: one, long-lived, reconnected on demand after it closes.

let port = null;
/** @type {Promise<Object>|null} resolves with the hello reply's data once the helper is ready */
let helperReady = null;
/** @type {Map<string, {resolve: Function, reject: Function, timer: number}>} */
const pendingReplies = new Map();

function nextId(prefix) {
  jobCounter += 1;
  return `${prefix}${Date.now().toString(36)}-${jobCounter}`;
}

function connect() {
  const newPort = api.runtime.connectNative(HOST_NAME);
  newPort.onMessage.addListener((message) => onHelperMessage(newPort, message));
  newPort.onDisconnect.addListener((closed) => {
    // Chromium reports through runtime.lastError, Firefox through port.error.
    const reason = closed?.error?.message ?? api.runtime.lastError?.message ?? "";
    onHelperGone(newPort, reason);
  });
  return newPort;
}

/** Send a request and wait for its `reply`. Rejects with a HelperError. */
function request(message, timeoutMs = REPLY_TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pendingReplies.delete(message.id);
      reject(new HelperError({
        text: `The eTMA Helper program did not answer. In the eTMA Helper folder run: ${INSTALL_COMMAND} again — then reload this page.`,
        command: INSTALL_COMMAND,
      }));
    }, timeoutMs);
    pendingReplies.set(message.id, { resolve, reject, timer });
    try {
      port.postMessage(message);
    } catch (error) {
      clearTimeout(timer);
      pendingReplies.delete(message.id);
      reject(new HelperError(explainPortError(error?.message)));
    }
  });
}

/** Connect if needed and complete the handshake; resolves with the hello data. */
function ensureHelper() {
  if (port && helperReady) return helperReady;
  try {
    port = connect();
  } catch (error) {
    port = null;
    return Promise.reject(new HelperError(explainPortError(error?.message)));
  }
  const hello = {
    id: nextId("hello-"),
    action: "hello",
    protocol: PROTOCOL_VERSION,
    extension_version: api.runtime.getManifest().version,
  };
  const thisPort = port;
  helperReady = request(hello, HELLO_TIMEOUT_MS).then((reply) => {
    if (reply.status !== "ok") throw new HelperError(helperErrorProblem(reply));
    if (reply.data?.protocol !== PROTOCOL_VERSION) {
      throw new HelperError(outdatedHelperProblem(reply.data?.protocol, reply.version));
    }
    return { ...reply.data, version: String(reply.version ?? "") };
  });
  helperReady.catch(() => {
    // A failed handshake leaves nothing worth keeping: the next job starts afresh.
    if (port === thisPort) {
      try { thisPort.disconnect(); } catch { /* already closed */ }
      port = null;
      helperReady = null;
    }
  });
  return helperReady;
}

function onHelperGone(gonePort, reason) {
  if (port !== gonePort) return;
  port = null;
  helperReady = null;
  const problem = explainPortError(reason);
  for (const [id, pending] of pendingReplies) {
    clearTimeout(pending.timer);
    pending.reject(new HelperError(problem));
    pendingReplies.delete(id);
  }
  for (const job of jobs.values()) {
    if (job.running) failJob(job, problem);
  }
}

function onHelperMessage(fromPort, message) {
  if (fromPort !== port || !message || typeof message !== "object") return;
  const id = String(message.id ?? "");
  if (message.type === "reply") {
    const pending = pendingReplies.get(id);
    if (pending) {
      clearTimeout(pending.timer);
      pendingReplies.delete(id);
      pending.resolve(message);
    }
  }
  const job = jobs.get(id);
  if (!job) return;
  if (message.type === "progress" && message.data?.pi) {
    job.students[String(message.data.pi).toUpperCase()] = message.data;
  } else if (message.type === "summary") {
    if (message.status === "error") {
      // The job itself broke: students still waiting or working did not finish.
      failJob(job, helperErrorProblem(message), String(message.message || ""));
      return;
    }
    job.summary = message.data ?? null;
    job.running = false;
  }
  notifyTab(job, { type: "helperMessage", jobId: job.id, message });
  saveJobsSoon();
}

// ---------------------------------------------------------------------------------------------
// Jobs

/** A page's address as jobs are matched on: origin, path and query (not the #fragment). */
function pageAddress(url) {
  try {
    const parsed = new URL(String(url ?? ""));
    return `${parsed.origin}${parsed.pathname}${parsed.search}`;
  } catch {
    return "";
  }
}

const originOf = (address) => {
  try {
    return new URL(address).origin;
  } catch {
    return "";
  }
};

/** Is the tab still showing this page address? False when it is gone or elsewhere. */
async function tabShows(tabId, address) {
  const tab = await api.tabs.get(tabId).catch(() => null);
  // No url: the tab shows a page this extension may not see, so not an OSCAR page of ours.
  return Boolean(tab && address && pageAddress(tab.url) === address);
}

/** Per tab, the delivery in progress: messages reach each tab in the order they were sent. */
const deliveries = new Map();

/**
 * Send to one following page, after checking that its tab still shows that page: a tab that
 * went to another page since (a reload asks again through getState) gets nothing.
 */
function deliver(watcher, payload) {
  const previous = deliveries.get(watcher.tabId) ?? Promise.resolve();
  const next = previous.then(async () => {
    if (!(await tabShows(watcher.tabId, watcher.address))) return;
    const target = watcher.documentId ? { documentId: watcher.documentId } : { frameId: 0 };
    // The page may be closing; the state stays here for getState.
    api.tabs.sendMessage(watcher.tabId, payload, target).catch(() => {});
  }).catch(() => {});
  deliveries.set(watcher.tabId, next);
  next.then(() => {
    if (deliveries.get(watcher.tabId) === next) deliveries.delete(watcher.tabId);
  });
}

/** Tell every page following the job (the one that started it, and any it was handed to). */
function notifyTab(job, payload) {
  for (const watcher of watchersOf(job)) deliver(watcher, payload);
}

/** The job's followers (jobs saved by an older version kept bare tab ids: they follow no one). */
function watchersOf(job) {
  return (Array.isArray(job.watchers) ? job.watchers : [])
    .filter((watcher) => watcher && Number.isInteger(watcher.tabId) && watcher.tabId >= 0);
}

/** Let a page follow the job (replacing what its tab followed it from before). */
function follow(job, watcher) {
  job.watchers = [...watchersOf(job).filter((other) => other.tabId !== watcher.tabId), watcher];
}

/** The page that sent a message, as a follower. */
function watcherOf(sender) {
  const watcher = { tabId: sender.tab?.id, address: pageAddress(sender.url ?? sender.tab?.url) };
  if (typeof sender.documentId === "string") watcher.documentId = sender.documentId;
  return watcher;
}

/**
 * End a job that cannot go on. Students the helper never accepted go back to idle; students of an
 * accepted job that were still waiting or working end as failed, with the reason.
 */
function failJob(job, problem, studentReason = "The eTMA Helper program stopped.") {
  job.running = false;
  job.error = problem;
  for (const record of Object.values(job.students)) {
    if (record.state !== "queued" && record.state !== "working") continue;
    job.students[record.pi] = job.accepted
      ? { pi: record.pi, state: "failed", reason: studentReason }
      : { pi: record.pi, state: "idle", reason: "" };
  }
  notifyTab(job, { type: "jobError", jobId: job.id, error: problem, job: snapshot(job) });
  saveJobsSoon();
}

/** The browser's cookies for the eTMA site, as the protocol carries them (never logged or stored). */
async function etmaCookies(etmaUrl) {
  return (await api.cookies.getAll({ url: etmaUrl })).map((cookie) => ({
    name: cookie.name,
    value: cookie.value,
    domain: cookie.domain,
    path: cookie.path,
    secure: cookie.secure,
  }));
}

/** Check a job request from a page once, here at the edge. Returns the problem, or null. */
function invalidJobRequest({ action, module, assignment, pis }) {
  if (action !== "download" && action !== "codes") return "Unknown job.";
  if (typeof module !== "string" || !MODULE_PATTERN.test(module)) {
    return "The module code was not found on this page (such as TM351).";
  }
  if (assignment && (typeof assignment !== "string" || !ASSIGNMENT_PATTERN.test(assignment))) {
    return `"${String(assignment).slice(0, 20)}" is not an assignment (such as TMA 02).`;
  }
  if (!Array.isArray(pis) || pis.length === 0) return "Select at least one student first.";
  if (pis.length > MAX_PIS) return `Select at most ${MAX_PIS} students at a time.`;
  if (!pis.every((pi) => typeof pi === "string" && PI_PATTERN.test(pi))) {
    return "One of the selected rows does not hold a student PI.";
  }
  return null;
}

/** What a page may know of a job: its own state, nothing of which tabs or pages follow it. */
const SNAPSHOT_FIELDS = ["id", "action", "module", "assignment", "pis", "total", "running",
  "accepted", "students", "summary", "error"];

/** The job's state as the page needs it (a plain, cloneable object). */
function snapshot(job) {
  if (!job) return null;
  return JSON.parse(JSON.stringify(Object.fromEntries(SNAPSHOT_FIELDS.map((key) => [key, job[key]]))));
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
 */
async function startJob(watcher, { action, module, assignment, pis }) {
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
  notifyTab(job, { type: "jobStarted", job: snapshot(job) });

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
        cookies,
      },
    });
    if (reply.status !== "ok") throw new HelperError(helperErrorProblem(reply));
    if (Number.isInteger(reply.data?.total)) job.total = reply.data.total;
  } catch (error) {
    const problem = error instanceof HelperError
      ? error.problem
      : { text: `Something went wrong in the extension: ${error?.message ?? error}` };
    if (job.running) failJob(job, problem);
    return { error: problem, job: snapshot(job) };
  }
  job.accepted = true;
  saveJobsSoon();
  return { job: snapshot(job) };
}

/** Does this page own the job: its tab, still on the site it was started on? */
function pageOwns(job, watcher) {
  return job.tabId === watcher.tabId && originOf(job.address) === originOf(watcher.address)
    && Boolean(watcher.address);
}

/** Cancel a job, for the page that owns it only. */
async function cancelJob(jobId, watcher) {
  const job = jobs.get(jobId);
  if (!job || !pageOwns(job, watcher) || !job.running || !port) return { cancelled: false };
  try {
    const reply = await request({ id: nextId("cancel-"), action: "cancel", job_id: jobId });
    if (reply.status !== "ok") return { cancelled: false, error: helperErrorProblem(reply) };
    return { cancelled: true };
  } catch (error) {
    return { cancelled: false, error: error.problem ?? { text: String(error?.message ?? error) } };
  }
}

/**
 * May this page follow the job? Yes if its tab owns the job; yes if the page is at the very
 * address the job was started on and the job's own tab is gone or shows another page (the page
 * was reopened): the job then belongs to this tab. Never for any other tab's page.
 */
async function mayFollow(job, watcher) {
  if (pageOwns(job, watcher)) return true;
  if (!watcher.address || job.address !== watcher.address) return false;
  if (await tabShows(job.tabId, job.address)) return false;
  job.tabId = watcher.tabId;
  return true;
}

/**
 * The newest job this page may follow (for its module, when the page names one). Jobs the helper
 * never accepted are left out: after "install, then reload this page" the old error must not
 * come back.
 */
async function latestJobFor(watcher, module) {
  const wanted = String(module || "").toUpperCase();
  const candidates = [...jobs.values()].reverse()
    .filter((job) => (job.accepted || job.running) && (!wanted || job.module === wanted));
  for (const job of candidates) {
    if (await mayFollow(job, watcher)) return job;
  }
  return null;
}

/** The job the popup shows: the running one, else the newest the helper accepted. */
function newestJob() {
  const newestFirst = [...jobs.values()].reverse();
  return newestFirst.find((job) => job.running) ?? newestFirst.find((job) => job.accepted) ?? null;
}

/** Any thrown thing as a problem a page can show. */
function asProblem(error) {
  return error instanceof HelperError
    ? error.problem
    : { text: `Something went wrong in the extension: ${error?.message ?? error}` };
}

/** The helper's state for the popup and the options page: installed, version, connected. */
async function helperStatus() {
  try {
    const hello = await ensureHelper();
    return { connected: true, version: hello.version, protocol: hello.protocol,
      downloadRoot: hello.download_root, actions: hello.actions ?? [] };
  } catch (error) {
    return { connected: false, problem: asProblem(error) };
  }
}

/** A `jobs`, `settings` or `open` request for the popup or options page; answers {data} or {error}. */
async function pageRequest(message) {
  const action = String(message.action ?? "");
  if (!PAGE_ACTIONS.has(action)) return { error: { text: "Unknown request." } };
  try {
    await requireAction(action);
    const fields = {};
    if (action === "jobs" && Number.isInteger(message.limit)) fields.limit = message.limit;
    if (action === "settings" && message.set && typeof message.set === "object") fields.set = message.set;
    if (action === "open") {
      fields.what = message.what === "codes" ? "codes" : "folder";
      if (typeof message.module === "string" && MODULE_PATTERN.test(message.module)) fields.module = message.module.toUpperCase();
    }
    const reply = await request({ id: nextId(`${action}-`), action, ...fields });
    if (reply.status !== "ok") return { error: helperErrorProblem(reply) };
    return { data: reply.data ?? {} };
  } catch (error) {
    return { error: asProblem(error) };
  }
}

function isExtensionPage(sender) {
  return typeof sender.url === "string" && sender.url.startsWith(api.runtime.getURL(""));
}

// ---------------------------------------------------------------------------------------------
// Keeping state across a background restart (the service worker or event page may be stopped
// when idle). storage.session lives in memory only and is cleared when the browser closes.

let saveTimer = null;

function saveJobsSoon() {
  if (!api.storage.session || saveTimer) return;
  saveTimer = setTimeout(() => {
    saveTimer = null;
    api.storage.session.set({ jobs: [...jobs.values()] }).catch(() => {});
  }, 500);
}

const restored = (api.storage.session?.get("jobs") ?? Promise.resolve({}))
  .then(({ jobs: saved }) => {
    for (const job of saved ?? []) {
      if (jobs.has(job.id)) continue;
      jobs.set(job.id, job);
      // The port that ran it closed with the old background.
      if (job.running) failJob(job, explainPortError("Native host has exited."));
    }
  })
  .catch(() => {});

// ---------------------------------------------------------------------------------------------
// Messages from the content scripts

api.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (!message || typeof message !== "object" || sender.id !== api.runtime.id) return false;
  // A page's requests stand for the page that sent them: its tab, its address, its document.
  const page = watcherOf(sender);
  const fromPage = Number.isInteger(page.tabId) && page.tabId >= 0 && Boolean(page.address);
  let answer;
  switch (message.type) {
    case "startJob":
      if (!fromPage) return false;
      answer = restored.then(() => startJob(page, message));
      break;
    case "cancelJob":
      if (!fromPage) return false;
      answer = restored.then(() => cancelJob(String(message.jobId ?? ""), page));
      break;
    case "getState":
      if (!fromPage) return false;
      answer = restored.then(async () => {
        const job = await latestJobFor(page, message.module);
        if (job) {
          follow(job, page);
          saveJobsSoon();
        }
        return { job: snapshot(job) };
      });
      break;
    case "helperStatus":
      if (!isExtensionPage(sender)) return false;
      answer = restored.then(async () => ({
        ...(await helperStatus()),
        job: snapshot(newestJob()),
        etmaAddressMissing: !(await loadSettings()).etmaUrl,
      }));
      break;
    case "helperRequest":
      if (!isExtensionPage(sender)) return false;
      answer = pageRequest(message);
      break;
    case "oscarPagesChanged":
      if (!isExtensionPage(sender)) return false;
      answer = syncOscarPages().then(() => ({ ok: true }), (error) => ({ error: asProblem(error) }));
      break;
    default:
      return false;
  }
  answer.then(sendResponse, (error) => sendResponse({ error: { text: String(error?.message ?? error) } }));
  return true; // answered asynchronously
});

// ---------------------------------------------------------------------------------------------
// The OSCAR pages: the manifest's, plus the user's own (options page), which get the content
// script through scripting.registerContentScripts once the user granted their host permission.

/** The host permission a match pattern needs: `https://oscar.example/x/*` → `https://oscar.example/*`. */
function originOfPattern(pattern) {
  const match = /^(https?|\*):\/\/(\*|(?:\*\.)?[^/*]+)\//.exec(pattern);
  return match ? `${match[1]}://${match[2]}/*` : null;
}

/** The user's OSCAR patterns that the browser lets this extension run on. */
async function grantedCustomPatterns() {
  const { oscarPatterns } = await loadSettings();
  const wanted = (Array.isArray(oscarPatterns) ? oscarPatterns : [])
    .filter((pattern) => typeof pattern === "string" && !BUILT_IN_OSCAR_PAGES.includes(pattern));
  const granted = [];
  for (const pattern of wanted) {
    const origin = originOfPattern(pattern);
    if (origin && await api.permissions.contains({ origins: [origin] }).catch(() => false)) granted.push(pattern);
  }
  return granted;
}

/** Register the content script and the row menu for the user's OSCAR pages; idempotent. */
async function syncOscarPages() {
  const custom = await grantedCustomPatterns().catch(() => []);
  const registered = await api.scripting.getRegisteredContentScripts({ ids: [CUSTOM_SCRIPT_ID] }).catch(() => []);
  if (registered.length) await api.scripting.unregisterContentScripts({ ids: [CUSTOM_SCRIPT_ID] }).catch(() => {});
  if (custom.length) {
    await api.scripting.registerContentScripts([{
      id: CUSTOM_SCRIPT_ID,
      matches: custom,
      js: ["content/oscar.js"],
      css: ["content/oscar.css"],
      runAt: "document_idle",
    }]);
  }
  for (const item of MENU_ITEMS) {
    await Promise.resolve(api.contextMenus.update(item.id, {
      documentUrlPatterns: [...BUILT_IN_OSCAR_PAGES, ...custom],
    })).catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Context menu on a student row

function createMenus() {
  return grantedCustomPatterns().catch(() => []).then((custom) =>
    Promise.resolve(api.contextMenus.removeAll()).then(() => {
      for (const item of MENU_ITEMS) {
        api.contextMenus.create({
          id: item.id,
          title: item.title,
          contexts: ["page", "selection", "link", "editable"],
          documentUrlPatterns: [...BUILT_IN_OSCAR_PAGES, ...custom],
        });
      }
    }));
}

api.runtime.onInstalled.addListener(() => {
  createMenus().then(syncOscarPages).catch(() => {});
});
api.runtime.onStartup?.addListener(() => {
  syncOscarPages().catch(() => {});
});

/** Tell the OSCAR tab something about a menu action (it shows it on the toolbar's message line). */
function noticeTab(tabId, notice) {
  api.tabs.sendMessage(tabId, { type: "notice", ...notice }).catch(() => {});
}

/** Resolve once a tab has finished loading a page of `origin`. */
function tabLoaded(tabId, origin) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      api.tabs.onUpdated.removeListener(listener);
      reject(new HelperError({ text: "The eTMA page did not load. Check the eTMA address on the options page." }));
    }, TAB_LOAD_TIMEOUT_MS);
    function listener(updatedId, change, tab) {
      if (updatedId !== tabId || change.status !== "complete") return;
      if (tab.url && !tab.url.startsWith(origin)) return;
      clearTimeout(timer);
      api.tabs.onUpdated.removeListener(listener);
      resolve(tab);
    }
    api.tabs.onUpdated.addListener(listener);
  });
}

/** The reply's `page_fields` (names of fields too large to send) as a short list of names. */
function pageFieldNames(names) {
  if (!Array.isArray(names)) return [];
  return names.filter((name) => typeof name === "string" && name.length > 0 && name.length <= 200).slice(0, 50);
}

/**
 * Runs in the eTMA tab: build eTMA's search form from the helper's description and submit it.
 * Same-origin, so the browser sends its own eTMA cookies (SameSite=Lax ones included). Fields
 * named in `pageFields` were too large for the helper's reply (an ASP.NET __VIEWSTATE of hundreds
 * of KB): their values come from the same form on the eTMA page this tab has just loaded, and a
 * field that page does not hold is left out.
 */
function submitSearchForm(form) {
  const action = new URL(form.action, location.href);
  if (action.origin !== location.origin) return "The eTMA search form points to another site.";
  const element = document.createElement("form");
  element.method = form.method === "get" ? "get" : "post";
  element.action = action.href;
  element.style.display = "none";
  const onPage = [...document.forms];
  const postsTo = (candidate) => new URL(candidate.getAttribute("action") || "", location.href).href;
  // The page's own search form (posting where the helper's does) first, then any form holding it.
  const sources = [...onPage.filter((candidate) => postsTo(candidate) === action.href), ...onPage];
  const pageValue = (name) => {
    const field = sources.map((candidate) => candidate.elements.namedItem(name)).find(Boolean);
    // Several fields of one name: the first one's value (a hidden state field is one field).
    const single = field instanceof RadioNodeList ? field[0] : field;
    return single && "value" in single ? String(single.value) : null;
  };
  const fields = [...form.fields];
  for (const name of form.pageFields ?? []) {
    const value = pageValue(name);
    if (value !== null) fields.push([name, value]);
  }
  for (const [name, value] of fields) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    element.append(input);
  }
  document.body.append(element);
  HTMLFormElement.prototype.submit.call(element);
  return "";
}

/** "Open this student's eTMA page": ask the helper how to search, then search in a new tab. */
async function openStudentPage(fromTabId, row) {
  if (!PI_PATTERN.test(row.pi) || !MODULE_PATTERN.test(row.module || "")) {
    throw new HelperError({ text: "The module code (such as TM351) was not found on this page." });
  }
  const etmaUrl = await etmaAddress();
  await requireAction("student_search");
  const reply = await request({
    id: nextId("search-"),
    action: "student_search",
    etma_url: etmaUrl,
    module: row.module.toUpperCase(),
    pi: row.pi.toUpperCase(),
    cookies: await etmaCookies(etmaUrl),
  });
  if (reply.status !== "ok") throw new HelperError(helperErrorProblem(reply));
  const form = reply.data ?? {};
  if (typeof form.action !== "string" || !Array.isArray(form.fields)) {
    throw new HelperError({ text: "The eTMA Helper program sent an unusable search form." });
  }
  const origin = new URL(etmaUrl).origin;
  const opener = await api.tabs.get(fromTabId).catch(() => null);
  const tab = await api.tabs.create({ url: etmaUrl, index: opener ? opener.index + 1 : undefined });
  await tabLoaded(tab.id, origin);
  const [result] = await api.scripting.executeScript({
    target: { tabId: tab.id },
    func: submitSearchForm,
    args: [{ action: form.action, method: String(form.method || "post").toLowerCase(),
      fields: form.fields.map(([name, value]) => [String(name), String(value)]),
      pageFields: pageFieldNames(form.page_fields) }],
  });
  if (result?.result) throw new HelperError({ text: result.result });
  noticeTab(fromTabId, { text: `Opened ${row.pi}'s eTMA page in a new tab.` });
}

api.contextMenus.onClicked.addListener(async (info, tab) => {
  const item = MENU_ITEMS.find((entry) => entry.id === info.menuItemId);
  if (!item || !tab?.id || tab.id < 0) return;
  let row = null;
  try {
    row = await api.tabs.sendMessage(tab.id, { type: "contextRow" }, { frameId: info.frameId ?? 0 });
  } catch {
    row = null;
  }
  if (!row?.pi) {
    const error = { text: "Right-click on a student's row in the table to use this menu." };
    api.tabs.sendMessage(tab.id, { type: "jobError", jobId: null, error }).catch(() => {});
    return;
  }
  if (item.action === "open_student") {
    await openStudentPage(tab.id, row).catch((error) => noticeTab(tab.id, { error: asProblem(error) }));
    return;
  }
  await startJob({ tabId: tab.id, address: pageAddress(info.pageUrl ?? tab.url) }, {
    action: item.action,
    module: row.module,
    assignment: row.assignment,
    pis: [row.pi],
  });
});
