/*
 * The native port to the helper (docs/PROTOCOL.md): one, long-lived, opened on demand and opened
 * again after it closes. Owns the handshake, the request ids and the replies still awaited. Every
 * other message the helper sends (progress, summaries, and the replies too) goes to the one
 * listener set with listenToHelper, and a closed port is reported there as well.
 */
import "../lib/protocol.js";
import { api } from "./browser-api.js";
import { HelperError, asProblem, explainPortError, helperErrorProblem, missingActionProblem,
  outdatedHelperProblem, silentHelperProblem } from "./problems.js";

const { HOST_NAME, PROTOCOL_VERSION } = globalThis.etmaProtocol;

const HELLO_TIMEOUT_MS = 15000;
const REPLY_TIMEOUT_MS = 30000;

/**
 * @typedef {Object} HelperListener
 * @property {(message: Object) => void} onMessage every well-formed message from the helper
 * @property {(problem: import("./problems.js").HelperProblem) => void} onGone the port closed
 */

/** @type {HelperListener} */
let listener = { onMessage: () => {}, onGone: () => {} };

/** @type {chrome.runtime.Port|null} */
let port = null;
/** @type {Promise<Object>|null} resolves with the hello reply's data once the helper is ready */
let helperReady = null;
/** @type {Map<string, {resolve: Function, reject: Function, timer: number}>} */
const pendingReplies = new Map();
let idCounter = 0;

/** Who hears what the helper sends, beyond the replies `request` waits for. */
export function listenToHelper(newListener) {
  listener = newListener;
}

/** A fresh id for a request or a job (the helper uses a job request's id as the job's id). */
export function nextId(prefix) {
  idCounter += 1;
  return `${prefix}${Date.now().toString(36)}-${idCounter}`;
}

/** Is a port open now? (A job can be cancelled only on the port that runs it.) */
export function isConnected() {
  return port !== null;
}

/** Ports the helper has sent something on: it was running there, not missing. */
const heardFrom = new WeakSet();

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

/**
 * Send a request and wait for its `reply`. Rejects with a HelperError.
 * @param {{id: string, action: string}} message
 * @returns {Promise<Object>} the reply, whether its status is ok or error
 */
export function request(message, timeoutMs = REPLY_TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pendingReplies.delete(message.id);
      reject(new HelperError(silentHelperProblem()));
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
export function ensureHelper() {
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

/** Connect, and check the helper knows `action` (an older helper may not); resolves with the hello data. */
export async function requireAction(action) {
  const hello = await ensureHelper();
  if (Array.isArray(hello.actions) && !hello.actions.includes(action)) {
    throw new HelperError(missingActionProblem(hello.version));
  }
  return hello;
}

function onHelperGone(gonePort, reason) {
  if (port !== gonePort) return;
  port = null;
  helperReady = null;
  const problem = explainPortError(reason, { wasRunning: heardFrom.has(gonePort) });
  for (const [id, pending] of pendingReplies) {
    clearTimeout(pending.timer);
    pending.reject(new HelperError(problem));
    pendingReplies.delete(id);
  }
  listener.onGone(problem);
}

function onHelperMessage(fromPort, message) {
  if (fromPort !== port || !message || typeof message !== "object") return;
  heardFrom.add(fromPort);
  if (message.type === "reply") {
    const id = String(message.id ?? "");
    const pending = pendingReplies.get(id);
    if (pending) {
      clearTimeout(pending.timer);
      pendingReplies.delete(id);
      pending.resolve(message);
    }
  }
  // A job's pages see its reply as well as its progress.
  listener.onMessage(message);
}

/** The helper's state for the popup and the options page: installed, version, connected. */
export async function helperStatus() {
  try {
    const hello = await ensureHelper();
    return { connected: true, version: hello.version, protocol: hello.protocol,
      downloadRoot: hello.download_root, actions: hello.actions ?? [] };
  } catch (error) {
    return { connected: false, problem: asProblem(error) };
  }
}
