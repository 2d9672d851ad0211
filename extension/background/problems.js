/*
 * Saying what went wrong: turns the browser's native-messaging errors and the helper's error
 * replies into a sentence for the tutor that ends with what to do next. Pure: no browser API, so
 * it is tested on its own under Node (tests/js/problems.test.mjs).
 */
import "../lib/protocol.js";

const { ERRORS } = globalThis.etmaProtocol;

/** The command that installs or repairs the helper, run in the eTMA Helper folder. */
export const INSTALL_COMMAND = "python3 install.py";

/**
 * @typedef {Object} HelperProblem  what the page shows when the helper cannot do the job
 * @property {string} text      a sentence for a person, saying what to do next
 * @property {string} [command] a command inside `text` the person may need to copy
 * @property {number} [code]    the protocol error code, when the helper sent one
 * @property {Object} [params]  the error's parameters, when the helper sent them
 * @property {boolean} [needsEtmaAddress] the tutor has not set the eTMA address yet
 */

/** A failure that carries its problem for the page, thrown by the background's own steps. */
export class HelperError extends Error {
  /** @param {HelperProblem} problem */
  constructor(problem) {
    super(problem.text);
    this.problem = problem;
  }
}

/** The tutor has not set an eTMA address (the shipped build packages none). */
export const noEtmaAddressProblem = () => ({
  text: "Set the eTMA address in the options first: right-click the eTMA Helper icon, choose Options, and enter your eTMA address.",
  needsEtmaAddress: true,
});

/**
 * The browser's terse native-messaging error as a sentence with the fix. The wording differs
 * between browsers, so each case matches Chromium's and Firefox's words.
 * @param {unknown} raw the port error's message, if any
 * @returns {HelperProblem}
 */
export function explainPortError(raw, { wasRunning = false } = {}) {
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
  // Firefox closes the port of a helper that dies with no error to read; Chromium says it exited.
  // Either way, a helper that had answered on this port was running, so it stopped.
  if (wasRunning || /exited|communicating/i.test(detail)) {
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

/** The helper sent no reply in time. */
export const silentHelperProblem = () => ({
  text: `The eTMA Helper program did not answer. In the eTMA Helper folder run: ${INSTALL_COMMAND} again — then reload this page.`,
  command: INSTALL_COMMAND,
});

/**
 * The helper speaks another protocol version than this extension.
 * @param {unknown} helperProtocol the version the helper speaks, if it said
 * @param {unknown} helperVersion the helper's program version, if it said
 * @returns {HelperProblem}
 */
export function outdatedHelperProblem(helperProtocol, helperVersion) {
  const theirs = helperVersion ? ` (helper ${helperVersion}, protocol ${helperProtocol ?? "unknown"})` : "";
  return {
    text: `The eTMA Helper program on this computer does not match this extension${theirs}. Update it: in the eTMA Helper folder run: ${INSTALL_COMMAND} — then reload this page.`,
    command: INSTALL_COMMAND,
    code: ERRORS.PROTOCOL_MISMATCH.code,
  };
}

/**
 * The helper answered the handshake but its list of actions lacks one this extension needs.
 * @param {unknown} helperVersion the helper's program version, from the handshake
 * @returns {HelperProblem}
 */
export function missingActionProblem(helperVersion) {
  return {
    text: `The eTMA Helper program on this computer (version ${helperVersion || "unknown"}) is older than this extension and cannot do this. Update it: in the eTMA Helper folder run: ${INSTALL_COMMAND} — then try again.`,
    command: INSTALL_COMMAND,
    code: ERRORS.UNKNOWN_ACTION.code,
  };
}

/**
 * An error reply (or an error summary) from the helper, as a problem for the page. The two errors
 * that mean "this helper is not the one this extension needs" get the install command; any other
 * keeps the helper's own sentence and its parameters, which the page may use.
 * @param {{code?: number, message?: string, params?: Object, version?: string}} message
 * @returns {HelperProblem}
 */
export function helperErrorProblem(message) {
  if (message.code === ERRORS.PROTOCOL_MISMATCH.code) {
    // The helper names its own protocol `helper_protocol` (ERRORS.PROTOCOL_MISMATCH.params).
    return outdatedHelperProblem(message.params?.helper_protocol, message.version);
  }
  if (message.code === ERRORS.UNKNOWN_ACTION.code) {
    return {
      text: `The eTMA Helper program on this computer is older than this extension. Update it: in the eTMA Helper folder run: ${INSTALL_COMMAND} — then try again.`,
      command: INSTALL_COMMAND,
      code: ERRORS.UNKNOWN_ACTION.code,
    };
  }
  return {
    text: String(message.message || "The eTMA Helper program refused the request."),
    code: message.code,
    params: message.params && typeof message.params === "object" ? message.params : {},
  };
}

/**
 * Anything thrown, as a problem a page can show: a HelperError's own problem, else a sentence
 * that says the fault is the extension's.
 * @param {unknown} error
 * @returns {HelperProblem}
 */
export function asProblem(error) {
  return error instanceof HelperError
    ? error.problem
    : { text: `Something went wrong in the extension: ${error?.message ?? error}` };
}
