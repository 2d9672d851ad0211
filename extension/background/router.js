/*
 * What the extension's own pages and the OSCAR pages' content script may ask of the background:
 * one table, message type → who may send it and what answers it. Every sender rule lives in the
 * table: which kind of page may send each type, which jobs a tab's page may touch, and which
 * helper actions the popup and options page may relay. Anything else gets an error reply saying
 * why, never silence and never a throw.
 *
 * A tab sees only its own jobs: the one it started, or, once that tab is gone or has left the
 * page, a job started on the very same page address (a reloaded or reopened OSCAR page). Another
 * open tab's job, its codes and its paths never reach a page; the popup and options page (the
 * extension's own pages) see every job.
 */
import "../lib/protocol.js";
import { api } from "./browser-api.js";
import { checkEtmaAddress } from "./connection-check.js";
import { cancelJob, jobById, latestJobFor, newestJob, restored, snapshot, startJob } from "./jobs.js";
import { syncOscarPages } from "./oscar-pages.js";
import { helperStatus, nextId, request, requireAction } from "./port.js";
import { asProblem, helperErrorProblem, noEtmaAddressProblem } from "./problems.js";
import { saveJobsSoon } from "./saved-jobs.js";
import { loadSettings } from "./settings.js";
import { exportRequest, keepFlagged, savedRule, takeFlagged, worksheetMarksFields } from "./third-marking.js";
import { follow, originOf, tabShows, watcherOf } from "./watchers.js";

const { PATTERNS } = globalThis.etmaProtocol;

// ---------------------------------------------------------------------------------------------
// Who sent it

/** A content script, on a web page in a tab: its requests stand for that page. */
const TAB = "tab";
/** One of the extension's own pages: the popup or the options page. */
const EXTENSION_PAGE = "extension page";
/** Either of them. */
const BOTH = "both";

/** @typedef {typeof TAB | typeof EXTENSION_PAGE | typeof BOTH} From */

const SENDER_WORDS = { [TAB]: "an OSCAR page", [EXTENSION_PAGE]: "the extension's own pages" };

/** @param {chrome.runtime.MessageSender} sender */
function isExtensionPage(sender) {
  return typeof sender.url === "string" && sender.url.startsWith(api.runtime.getURL(""));
}

/**
 * What kind of sender this is, or null for none the background answers. An extension page
 * opened in a tab (the options page) is an extension page, not a tab's page.
 * @param {chrome.runtime.MessageSender} sender
 * @returns {typeof TAB | typeof EXTENSION_PAGE | null}
 */
function senderKind(sender) {
  if (sender.id !== api.runtime.id) return null;
  if (isExtensionPage(sender)) return EXTENSION_PAGE;
  const page = watcherOf(sender);
  return Number.isInteger(page.tabId) && page.tabId >= 0 && page.address ? TAB : null;
}

// ---------------------------------------------------------------------------------------------
// Which jobs a tab's page may touch

/** Does this page own the job: its tab, still on the site it was started on? */
function pageOwns(job, page) {
  return job.tabId === page.tabId && originOf(job.address) === originOf(page.address)
    && Boolean(page.address);
}

/**
 * May this page follow the job? Yes if its tab owns the job; yes if the page is at the very
 * address the job was started on and the job's own tab is gone or shows another page (the page
 * was reopened): the job then belongs to this tab. Never for any other tab's page.
 */
async function mayFollow(job, page) {
  if (pageOwns(job, page)) return true;
  if (!page.address || job.address !== page.address) return false;
  if (await tabShows(job.tabId, job.address)) return false;
  job.tabId = page.tabId;
  return true;
}

// ---------------------------------------------------------------------------------------------
// The table

/**
 * @typedef {Object} Context
 * @property {import("./watchers.js").Watcher} page  the sending page (its tab, address, document)
 * @property {Route} route  the table entry being answered
 *
 * @typedef {Object} Route
 * @property {From} from  who may send it
 * @property {(job: Object, page: import("./watchers.js").Watcher) => boolean|Promise<boolean>} [mayTouch]
 *   which jobs the sending page may reach through it
 * @property {Object<string, (message: Object) => Object>} [actions]  helper actions it may relay,
 *   each with the fields it passes on from the message
 * @property {(message: Object, context: Context) => Promise<Object>} handler  the answer
 */

/** @type {Object<string, Route>} */
const ROUTES = {
  startJob: {
    from: TAB,
    handler: (message, { page }) => startJob(page, message),
  },
  cancelJob: {
    from: TAB,
    mayTouch: pageOwns,
    handler: async ({ jobId }, { page, route }) => {
      const job = jobById(String(jobId ?? ""));
      if (!job || !(await route.mayTouch(job, page))) return { cancelled: false };
      return cancelJob(job);
    },
  },
  getState: {
    from: TAB,
    mayTouch: mayFollow,
    handler: async ({ module }, { page, route }) => {
      const job = await latestJobFor(module, (candidate) => route.mayTouch(candidate, page));
      if (job) {
        follow(job, page);
        saveJobsSoon();
      }
      return { job: snapshot(job) };
    },
  },
  helperStatus: {
    from: EXTENSION_PAGE,
    handler: async () => ({
      ...(await helperStatus()),
      job: snapshot(newestJob()),
      etmaAddressMissing: !(await loadSettings()).etmaUrl,
    }),
  },
  helperRequest: {
    from: EXTENSION_PAGE,
    actions: {
      jobs: (message) => (Number.isInteger(message.limit) ? { limit: message.limit } : {}),
      settings: (message) => (message.set && typeof message.set === "object" ? { set: message.set } : {}),
      open: (message) => ({
        what: message.what === "codes" ? "codes" : "folder",
        ...(typeof message.module === "string" && PATTERNS.module.test(message.module)
          ? { module: message.module.toUpperCase() } : {}),
      }),
    },
    handler: (message, { route }) => relayToHelper(message, route.actions),
  },
  openFromPage: {
    // An OSCAR page's next steps: the eTMA address in a new tab (to log in again), or a
    // student's folder (or the page's module and assignment's) on the desktop: the helper's own
    // path, named by module, assignment and PI, never by a path from the page.
    from: TAB,
    actions: {
      open: (message) => ({
        what: "folder",
        ...(typeof message.module === "string" && PATTERNS.module.test(message.module)
          ? { module: message.module.toUpperCase() } : {}),
        ...(typeof message.assignment === "string" && PATTERNS.assignment.test(message.assignment)
          ? { assignment: message.assignment } : {}),
        ...(typeof message.pi === "string" && PATTERNS.pi.test(message.pi) ? { pi: message.pi.toUpperCase() } : {}),
      }),
    },
    handler: async (message, { page, route }) => {
      if (message.what === "folder") return relayToHelper({ ...message, action: "open" }, route.actions);
      if (message.what !== "etma") return { error: { text: "Unknown request." } };
      const { etmaUrl } = await loadSettings();
      if (!/^https?:\/\//i.test(etmaUrl || "")) return { error: noEtmaAddressProblem() };
      await api.tabs.create({ url: etmaUrl, openerTabId: page.tabId, active: true });
      return { opened: "eTMA" };
    },
  },
  thirdMarking: {
    // The marks page: who needs third marking (the helper's `flags`, with the tutor's own rule
    // from the options page, never one a page chooses), and keeping the flagged students for the
    // work-allocation page, which takes them.
    from: TAB,
    actions: {
      flags: (message) => ({ rows: Array.isArray(message.rows) ? message.rows : [], ...message.rule }),
      export_worksheet: exportRequest,
      worksheet_marks: worksheetMarksFields,
    },
    handler: async (message, { route }) => {
      switch (message.what) {
        case "flags": return relayToHelper({ rows: message.rows, action: "flags", rule: await savedRule() }, route.actions);
        case "export": return relayToHelper({ ...message, action: "export_worksheet", rule: await savedRule() }, route.actions);
        case "keep": return keepFlagged(message);
        case "take": return takeFlagged(message);
        case "worksheet": return relayToHelper({ ...message, action: "worksheet_marks" }, route.actions);
        default: return { error: { text: "Unknown request." } };
      }
    },
  },
  checkEtma: {
    from: EXTENSION_PAGE,
    handler: ({ etmaUrl }) => checkEtmaAddress(etmaUrl),
  },
  oscarPagesChanged: {
    from: EXTENSION_PAGE,
    handler: () => syncOscarPages().then(() => ({ ok: true }), (error) => ({ error: asProblem(error) })),
  },
};

/**
 * Relay one of the `actions` the route allows to the helper; answers {data} or {error}.
 * @param {{action?: string}} message
 * @param {Object<string, (message: Object) => Object>} actions
 */
async function relayToHelper(message, actions) {
  const action = String(message.action ?? "");
  if (!Object.hasOwn(actions, action)) return { error: { text: "Unknown request." } };
  try {
    await requireAction(action);
    const reply = await request({ id: nextId(`${action}-`), action, ...actions[action](message) });
    if (reply.status !== "ok") return { error: helperErrorProblem(reply) };
    return { data: reply.data ?? {} };
  } catch (error) {
    return { error: asProblem(error) };
  }
}

// ---------------------------------------------------------------------------------------------
// Answering

/** The answer to one message: its route's, or an error saying why there is none. */
async function answer(message, sender) {
  if (!message || typeof message !== "object") return { error: { text: "Not a request." } };
  const type = String(message.type ?? "");
  const route = Object.hasOwn(ROUTES, type) ? ROUTES[type] : null;
  if (!route) return { error: { text: `Unknown request "${type.slice(0, 40)}".` } };
  const from = senderKind(sender);
  if (!from || (route.from !== BOTH && route.from !== from)) {
    const who = route.from === BOTH ? "the extension's pages" : SENDER_WORDS[route.from];
    return { error: { text: `Only ${who} may ask "${type}".` } };
  }
  // A restarted background first takes back the jobs it saved, so no page sees them missing.
  await restored;
  return route.handler(message, { page: watcherOf(sender), route });
}

/** runtime.onMessage: answers every message, asynchronously. */
export function onRuntimeMessage(message, sender, sendResponse) {
  answer(message, sender).then(sendResponse,
    (error) => sendResponse({ error: { text: String(error?.message ?? error) } }));
  return true; // answered asynchronously
}
