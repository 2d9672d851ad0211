/*
 * The toolbar popup: is the helper there and which version, the running job's progress (from the
 * background's state), the helper's recent jobs, and buttons that open the results.
 * Test hooks: #helper[data-state=checking|connected|problem], #etma-address (shown when the eTMA
 * address is not set), #job (its state line [data-state], job-words.js's states), #recent
 * li[data-job-id][data-state], #open-folder, #open-codes, #open-message.
 * A module (popup.html loads it with type="module"): the shared lib/ files are classic scripts
 * imported for their effect, each setting one namespace on globalThis.
 */
import "../lib/protocol.js";
import "../lib/dom.js";
import "../lib/shared.js";
import { factsOfJob, jobVerdict } from "./job-words.js";

const { element, withCommand } = globalThis.etmaDom;
const { api, ask, FINISHED_STATES, countWords } = globalThis.etmaShared;
const REFRESH_MS = 1000;
const RECENT_LIMIT = 5;

const helperLine = document.getElementById("helper");
const jobBox = document.getElementById("job");
const recentList = document.getElementById("recent");
const openMessage = document.getElementById("open-message");
const openButtons = [document.getElementById("open-folder"), document.getElementById("open-codes")];

/** The module the codes button opens: the current job's, else the newest recent job's. */
let latestModule = "";
let helperConnected = false;

const actionWords = (action) => (action === "codes" ? "Confirmation codes" : "Download scripts");

function showHelper(status) {
  helperConnected = Boolean(status.connected);
  if (status.connected) {
    helperLine.dataset.state = "connected";
    helperLine.replaceChildren(
      element("strong", {}, "Connected"),
      ` · helper version ${status.version || "unknown"}`,
    );
    if (status.downloadRoot) {
      helperLine.append(element("br"), element("span", { class: "muted" }, `Saves to ${status.downloadRoot}`));
    }
  } else {
    helperLine.dataset.state = "problem";
    withCommand(helperLine, status.problem?.text ?? "The eTMA Helper program is not available.",
      status.problem?.command ?? "");
  }
  for (const button of openButtons) button.disabled = !helperConnected;
}

/** Each count's colour: what went well, what went wrong; cancelled is neither. */
const COUNT_CLASS = { done: "done", not_submitted: "not-submitted", failed: "failed", needs_login: "failed" };

function countsLine(counts) {
  const line = element("p", { class: "counts" });
  for (const { state, text } of countWords(counts)) {
    line.append(element("span", COUNT_CLASS[state] ? { class: COUNT_CLASS[state] } : {}, text));
  }
  return line;
}

/** The job the background shows as current (its snapshot), for the recent list to agree with. */
let currentJob = null;

function showJob(job) {
  currentJob = job;
  if (!job) {
    jobBox.replaceChildren(element("p", { class: "muted" }, "No job since the browser started."));
    return false;
  }
  latestModule = job.module || latestModule;
  const facts = factsOfJob(job);
  // Cancelled students are not finished: they are counted apart.
  const finished = FINISHED_STATES.reduce((sum, state) => sum + (facts.counts[state] ?? 0), 0);
  const total = facts.total;
  const title = element("p", {}, `${actionWords(job.action)} · ${job.module}${job.assignment ? ` ${job.assignment}` : ""}`);
  const progress = element("progress", { max: String(Math.max(total, 1)), value: String(Math.min(finished, total)),
    "aria-label": "Progress of the current job" });
  const verdict = jobVerdict(facts);
  const parts = [title, progress, element("p", { class: "muted", "data-state": verdict.state }, verdict.text),
    countsLine(facts.counts)];
  if (job.error) {
    const why = element("p", { class: "failed" });
    withCommand(why, job.error.text, job.error.command ?? "");
    parts.push(why);
  }
  if (job.summary?.stopped_because) parts.push(element("p", { class: "failed" }, String(job.summary.stopped_because)));
  jobBox.replaceChildren(...parts);
  return Boolean(job.running);
}

function whenWords(seconds) {
  if (!Number.isFinite(seconds)) return "";
  const date = new Date(seconds * 1000);
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? `today ${date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`
    : date.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

async function showRecentJobs() {
  if (!helperConnected) {
    recentList.replaceChildren(element("li", { class: "muted" }, "Shown once the helper program is connected."));
    return;
  }
  const answer = await ask({ type: "helperRequest", action: "jobs", limit: RECENT_LIMIT });
  if (answer?.error) {
    const item = element("li", { class: "failed" });
    withCommand(item, answer.error.text, answer.error.command ?? "");
    recentList.replaceChildren(item);
    return;
  }
  const list = answer?.data?.jobs ?? [];
  if (list.length === 0) {
    recentList.replaceChildren(element("li", { class: "muted" }, "No jobs yet."));
    return;
  }
  if (!latestModule) latestModule = list[0].module || "";
  recentList.replaceChildren(...list.map((job) => {
    const item = element("li", { "data-job-id": String(job.job_id) });
    // The job the popup shows as current is told from the same facts, so the two always agree;
    // any other from the helper's ledger.
    const facts = currentJob && String(currentJob.id) === String(job.job_id)
      ? factsOfJob(currentJob)
      : { running: answer.data.running === job.job_id, outcome: job.outcome ?? null,
        counts: job.counts ?? {}, total: job.total ?? 0 };
    const verdict = jobVerdict(facts);
    item.dataset.state = verdict.state;
    item.append(
      element("span", { class: "what" }, `${job.module}${job.assignment ? ` ${job.assignment}` : ""} · ${actionWords(job.action).toLowerCase()}`),
      element("span", { class: "when" }, `${whenWords(job.started)} · ${verdict.text}`),
    );
    // The same counts, in the same words, as the current job and the OSCAR page: one per line.
    const result = element("span", { class: "result" });
    countWords(facts.counts).forEach(({ state, text }, index) => {
      if (index) result.append(element("br"));
      result.append(element("span", COUNT_CLASS[state] ? { class: COUNT_CLASS[state] } : {}, text));
    });
    item.append(result);
    return item;
  }));
}

async function openResult(what) {
  openMessage.dataset.kind = "info";
  openMessage.textContent = "Opening…";
  // The folder button opens the download root itself; the codes table belongs to one module.
  const module = what === "codes" && latestModule ? latestModule : undefined;
  const answer = await ask({ type: "helperRequest", action: "open", what, module });
  const error = answer?.error;
  if (!error) {
    openMessage.textContent = `Opened ${answer?.data?.opened ?? ""}`;
    return;
  }
  openMessage.dataset.kind = "error";
  if (error.code === 12) {
    openMessage.textContent = what === "codes"
      ? `There is no codes table${latestModule ? ` for ${latestModule}` : ""} yet: get confirmation codes first.`
      : "The downloads folder does not exist yet: download some scripts first.";
  } else if (error.code === 13 && error.params?.path) {
    openMessage.replaceChildren("This computer has no program to open it. It is here: ",
      element("code", {}, String(error.params.path)));
  } else {
    withCommand(openMessage, error.text, error.command ?? "");
  }
}

let lastRunning = false;

/** Without an eTMA address nothing can run: say where to set it. */
function showEtmaAddress(missing) {
  document.getElementById("etma-address").hidden = !missing;
}

async function refresh() {
  const status = await ask({ type: "helperStatus" });
  showHelper(status ?? {});
  showEtmaAddress(Boolean(status?.etmaAddressMissing));
  const running = showJob(status?.job ?? null);
  // While a job runs its entry changes every tick; otherwise the list changes when a job ends.
  if (running || running !== lastRunning || !refresh.listed) {
    refresh.listed = true;
    await showRecentJobs();
  }
  lastRunning = running;
  setTimeout(refresh, REFRESH_MS);
}

document.getElementById("open-folder").addEventListener("click", () => openResult("folder"));
document.getElementById("open-codes").addEventListener("click", () => openResult("codes"));
for (const link of [document.getElementById("options-link"), document.getElementById("etma-address-link")]) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    api.runtime.openOptionsPage();
  });
}
refresh();
