/*
 * What the OSCAR content script, the popup and the options page do and say the same way: reach
 * the browser's extension API, ask the background something, count in words ("1 file",
 * "3 files"), and word a job's counts ("25 done, 5 failed, 1 need an eTMA login, 2 cancelled").
 *
 * Loaded like lib/dom.js: a classic script that only assigns one frozen namespace,
 * globalThis.etmaShared. The content script lists it in the manifest after lib/protocol.js, which
 * it needs; the module pages `import "../lib/protocol.js"` and then `import "../lib/shared.js"`
 * (a module's imports run in the order written).
 */
"use strict";

(() => {
  const api = globalThis.browser ?? globalThis.chrome;
  const { FINAL_STATES } = globalThis.etmaProtocol;

  /** What a page says when the background could not be asked (it was stopped or is gone). */
  const backgroundSilent = (error) => `The extension's background did not answer (${error?.message ?? error}).`;

  /**
   * Send `message` to the background and return its answer. Never throws: when the background
   * cannot be reached, the answer is `{error: {text}}`, the text from `unreachable(error)`.
   * @param {object} message
   * @param {(error: unknown) => string} [unreachable]
   */
  async function ask(message, unreachable = backgroundSilent) {
    try {
      return await api.runtime.sendMessage(message);
    } catch (error) {
      return { error: { text: unreachable(error) } };
    }
  }

  /** "1 student", "2 students"; `many` for irregular plurals. */
  const plural = (count, one, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

  /**
   * The states in which a student counts as finished: every final state but `cancelled`. A
   * cancelled student did not finish; pages count it apart ("12 of 30 finished, 18 cancelled").
   */
  const FINISHED_STATES = Object.freeze(FINAL_STATES.filter((state) => state !== "cancelled"));

  /** How each state's count is said: "done" always, the others only when there are any. */
  const COUNT_WORDS = [
    ["done", (count) => `${count} done`],
    ["not_submitted", (count) => `${count} with nothing submitted`],
    ["failed", (count) => `${count} failed`],
    ["needs_login", (count) => `${count} need an eTMA login`],
    ["cancelled", (count) => `${count} cancelled`],
  ];

  /**
   * A job's counts by state, in words: `[{state: "done", text: "25 done"}, …]`. The toolbar joins
   * the texts; the popup gives each its own coloured span.
   * @param {Record<string, number>} counts
   * @returns {{state: string, text: string}[]}
   */
  function countWords(counts = {}) {
    return COUNT_WORDS
      .filter(([state]) => state === "done" || counts[state])
      .map(([state, words]) => ({ state, text: words(counts[state] ?? 0) }));
  }

  globalThis.etmaShared = Object.freeze({ api, ask, plural, FINISHED_STATES, countWords });
})();
