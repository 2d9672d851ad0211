/*
 * Saying what went wrong: turns the browser's native-messaging errors and the helper's error
 * replies into a sentence for the tutor that ends with what to do next. Pure: no browser API, so
 * it is tested on its own under Node (tests/js/problems.test.mjs).
 */
import "../lib/protocol.js";

const { ERRORS } = globalThis.etmaProtocol;

/** The command that installs or repairs the helper, run in the eTMA Helper folder (Linux, macOS). */
export const INSTALL_COMMAND = "python3 install.py";
/** The same on Windows, where the Python launcher is `py`. */
export const WINDOWS_INSTALL_COMMAND = "py install.py";

/** The browser's operating system, as runtime.getPlatformInfo() names it ("linux", "mac", "win"…). */
let platformOs = "";

/**
 * Word the install command for this computer: main.js passes runtime.getPlatformInfo()'s `os`
 * once it knows it (until then, and for any other system, the Linux and macOS command).
 * @param {string} os
 */
export function usePlatform(os) {
  platformOs = String(os || "");
}

/** The install command for this computer: `py install.py` on Windows, else `python3 install.py`. */
export function installCommand() {
  return platformOs === "win" ? WINDOWS_INSTALL_COMMAND : INSTALL_COMMAND;
}

/**
 * Where and how to run the install command, ending with the command itself (which the pages
 * show as code with a Copy button): the folder is the unpacked eTMA Helper folder, the one that
 * holds install.py.
 */
function runInstall(command, again = "") {
  const shell = platformOs === "win" ? "a Command Prompt" : "a terminal";
  return `Open ${shell} in the eTMA Helper folder (the unpacked folder that holds install.py) and run: ${command}${again}`;
}

/**
 * @typedef {Object} HelperProblem  what the page shows when the helper cannot do the job
 * @property {string} text      a sentence for a person, saying what to do next
 * @property {string} [command] a command inside `text` the person may need to copy
 * @property {number} [code]    the protocol error code, when the helper sent one
 * @property {Object} [params]  the error's parameters, when the helper sent them
 * @property {boolean} [needsEtmaAddress] the tutor has not set the eTMA address yet
 * @property {boolean} [wrongEtmaAddress] the eTMA address is wrong or cannot be reached
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
    const command = installCommand();
    return {
      text: `The eTMA Helper program is not installed on this computer. ${runInstall(command)} — then reload this page.`,
      command,
    };
  }
  if (/forbidden/i.test(detail)) {
    const command = installCommand();
    return {
      text: `The eTMA Helper program is registered for a different copy of this extension. ${runInstall(command, " again")} — then reload this page.`,
      command,
    };
  }
  // Firefox closes the port of a helper that dies with no error to read; Chromium says it exited.
  // Either way, a helper that had answered on this port was running, so it stopped.
  if (wasRunning || /exited|communicating/i.test(detail)) {
    const command = installCommand();
    return {
      text: `The eTMA Helper program stopped unexpectedly. ${runInstall(command, " again")} — then reload this page. If it happens again, the helper's log says why.`,
      command,
    };
  }
  const command = installCommand();
  return {
    text: `The eTMA Helper program could not be reached${detail ? ` (${detail})` : ""}. ${runInstall(command)} — then reload this page.`,
    command,
  };
}

/** The helper sent no reply in time. */
export const silentHelperProblem = () => ({
  text: `The eTMA Helper program did not answer. ${runInstall(installCommand(), " again")} — then reload this page.`,
  command: installCommand(),
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
    text: `The eTMA Helper program on this computer does not match this extension${theirs}. Update it: ${runInstall(installCommand())} — then reload this page.`,
    command: installCommand(),
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
    text: `The eTMA Helper program on this computer (version ${helperVersion || "unknown"}) is older than this extension and cannot do this. Update it: ${runInstall(installCommand())} — then try again.`,
    command: installCommand(),
    code: ERRORS.UNKNOWN_ACTION.code,
  };
}

/**
 * A job stopped before its first student because the eTMA address must change (error 17): the
 * address, what is wrong with it and where to change it. Every surface (the OSCAR page, the popup)
 * shows this same sentence.
 * @param {{etma_url?: string, problem?: string, verdict?: string}} params
 * @returns {HelperProblem}
 */
export function wrongEtmaAddressProblem(params) {
  const address = String(params.etma_url ?? "");
  const problem = String(params.problem || "could not be used");
  return {
    text: `Check the eTMA address in eTMA Helper's options: ${address} ${problem}. Nothing was fetched; after changing it (the options' Test connection button checks it), run the job again.`,
    code: ERRORS.WRONG_ETMA_ADDRESS.code,
    params: { etma_url: address, problem, verdict: String(params.verdict ?? "") },
    wrongEtmaAddress: true,
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
      text: `The eTMA Helper program on this computer is older than this extension. Update it: ${runInstall(installCommand())} — then try again.`,
      command: installCommand(),
      code: ERRORS.UNKNOWN_ACTION.code,
    };
  }
  if (message.code === ERRORS.WRONG_ETMA_ADDRESS.code && message.params?.etma_url) {
    return wrongEtmaAddressProblem(message.params);
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

/**
 * The helper's answer to "Test connection" (`check_etma`), in words for the options page: one of
 * four, each saying what to do next. `link` is the eTMA address to open and log in at, when the
 * tutor needs to.
 * @param {{verdict?: string, etma_url?: string, problem?: string, page_url?: string}} data
 * @returns {{verdict: string, text: string, link?: string}}
 */
export function connectionWords({ verdict, etma_url: address = "", problem = "", page_url: page = "" } = {}) {
  switch (verdict) {
    case "ok":
      return { verdict, text: `Reachable, and you are logged in to eTMA: ${page || address} has the admin (EAB) tab's search form.` };
    case "needs_login":
      return { verdict, link: address,
        text: `eTMA is reachable, but you need to log in to eTMA in this browser first: open ${address}, log in as usual, then test again.` };
    case "not_etma":
      return { verdict,
        text: `This is not eTMA's admin page: ${address} ${problem}. Use the address of the eTMA page whose admin (EAB) tab asks for a module code and a student PI.` };
    case "unreachable":
      return { verdict,
        text: `eTMA cannot be reached: ${address} ${problem}. Check the address for typing mistakes, and that this computer is online (and on the university's network, if your eTMA needs it).` };
    default:
      return { verdict: "unknown", text: `The eTMA Helper program gave an answer this extension does not know (${String(verdict).slice(0, 40)}). Update it, then test again.` };
  }
}
