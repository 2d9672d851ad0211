/*
 * The words the extension shares with the helper: its name, the protocol version, the error
 * catalogue with each error's parameters, the student states, the identifier patterns, the default
 * settings and the built-in OSCAR pages. tests/unit/test_vocabulary.py checks every entry against
 * the helper (host/etma_helper), docs/PROTOCOL.md and manifest.json, so the three cannot drift.
 *
 * A classic script, not a module, because content scripts cannot be modules: it adds one frozen
 * namespace, globalThis.etmaProtocol. Modules load it with `import "../lib/protocol.js"`.
 */
"use strict";

(() => {
  const deepFreeze = (value) => {
    if (value && typeof value === "object" && !(value instanceof RegExp)) {
      for (const inner of Object.values(value)) deepFreeze(inner);
      Object.freeze(value);
    }
    return value;
  };

  globalThis.etmaProtocol = deepFreeze({
    /** The native-messaging host's registered name. */
    HOST_NAME: "etma_helper",
    /** The protocol this extension speaks; the helper refuses any other with PROTOCOL_MISMATCH. */
    PROTOCOL_VERSION: 1,
    /** Most students one job may name. */
    MAX_PIS: 5000,

    /** Error codes (append-only) and the names of the values each one carries in `params`. */
    ERRORS: {
      BAD_MESSAGE: { code: 1, params: [] },
      UNKNOWN_ACTION: { code: 2, params: ["action"] },
      INVALID_FIELD: { code: 3, params: ["field", "cookie"] },
      PROTOCOL_MISMATCH: { code: 4, params: ["extension_protocol", "helper_protocol"] },
      JOB_RUNNING: { code: 5, params: ["job_id"] },
      NO_SUCH_JOB: { code: 6, params: ["job_id"] },
      MESSAGE_TOO_LARGE: { code: 7, params: ["size"] },
      DOWNLOAD_ROOT_UNUSABLE: { code: 8, params: ["folder"] },
      INTERNAL: { code: 9, params: [] },
      CALLER_NOT_ALLOWED: { code: 10, params: [] },
      SITE_PROFILE_UNUSABLE: { code: 11, params: ["profile"] },
      NOT_FOUND: { code: 12, params: ["path"] },
      CANNOT_OPEN: { code: 13, params: ["path"] },
      NEEDS_LOGIN: { code: 14, params: [] },
      SEARCH_FORM_MISSING: { code: 15, params: [] },
      DISK_FULL: { code: 16, params: ["folder"] },
      WRONG_ETMA_ADDRESS: { code: 17, params: ["etma_url", "problem", "verdict"] },
      WORKSHEET_UNUSABLE: { code: 18, params: ["path", "problems"] },
    },

    /** Every state a student of a job can be in, in the order a job moves through them. */
    STATES: ["queued", "working", "done", "not_submitted", "failed", "needs_login", "cancelled"],
    /**
     * The states a student ends in; a job is over when every student is in one. `not_submitted`:
     * eTMA's page says the student submitted nothing; finished, like `done`, and not a failure.
     */
    FINAL_STATES: ["done", "not_submitted", "failed", "needs_login", "cancelled"],

    /** What a personal identifier, a module code and an assignment look like (as the helper checks). */
    PATTERNS: {
      pi: /^[A-Za-z]\d{6,8}[A-Za-z0-9]?$/,
      module: /^[A-Za-z]{1,5}\d{1,4}[A-Za-z]?$/,
      assignment: /^[A-Za-z]{2,5} ?\d{1,3}$/,
    },

    /** Settings before the tutor saves any (defaults.json in a build may add to them). */
    DEFAULT_SETTINGS: { etmaUrl: "", oscarPatterns: [] },

    /** The OSCAR pages the extension enhances without asking (manifest.json's content script). */
    BUILT_IN_OSCAR_PAGES: ["https://*.open.ac.uk/oscar/*"],
  });
})();
