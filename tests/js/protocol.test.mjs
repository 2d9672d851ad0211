// The extension's shared vocabulary (extension/lib/protocol.js) as the extension itself sees it.
// protocol.js is a classic script that sets globalThis.etmaProtocol; importing it runs it.
// tests/unit/test_vocabulary.py checks the same entries against the helper and docs/PROTOCOL.md.
import assert from "node:assert/strict";
import { test } from "node:test";

import "../../extension/lib/protocol.js";

const protocol = globalThis.etmaProtocol;

test("the script publishes one namespace with the vocabulary", () => {
  assert.equal(typeof protocol, "object");
  assert.equal(protocol.HOST_NAME, "etma_helper");
  assert.ok(Number.isInteger(protocol.PROTOCOL_VERSION) && protocol.PROTOCOL_VERSION > 0);
});

test("every final state is a state, and a job starts in a state that is not final", () => {
  for (const state of protocol.FINAL_STATES) {
    assert.ok(protocol.STATES.includes(state), `${state} is not in STATES`);
  }
  assert.equal(protocol.STATES[0], "queued");
  assert.ok(!protocol.FINAL_STATES.includes("queued"));
  assert.ok(!protocol.FINAL_STATES.includes("working"));
  assert.equal(new Set(protocol.STATES).size, protocol.STATES.length, "STATES has a duplicate");
});

test("error codes are distinct and each names its params", () => {
  const codes = Object.values(protocol.ERRORS).map((error) => error.code);
  assert.equal(new Set(codes).size, codes.length, "two errors share a code");
  for (const [name, error] of Object.entries(protocol.ERRORS)) {
    assert.ok(Number.isInteger(error.code) && error.code > 0, `${name} has no code`);
    assert.ok(Array.isArray(error.params), `${name} has no params list`);
  }
});

const SAMPLES = {
  pi: {
    accepts: ["P1234567", "q7654321", "A123456", "B12345678", "X1234567Z", "Y12345678"],
    refuses: ["", "1234567", "P12345", "P123456789X1", "PP1234567", "P1234567 ", " P1234567",
      "P123-4567", "P1234567\n", "P1234567<script>"],
  },
  module: {
    accepts: ["TM351", "M250", "s112", "ABCDE1234", "TM112X"],
    refuses: ["", "TM", "351", "ABCDEF1", "TM 351", "TM12345", "TM351/../x", "TM351XY"],
  },
  assignment: {
    accepts: ["TMA02", "TMA 02", "cma41", "EMA1", "TMA123"],
    refuses: ["", "TMA", "02", "T02", "TMA  02", "TMA1234", "TMA02;", "TMA02\n"],
  },
};

for (const [kind, { accepts, refuses }] of Object.entries(SAMPLES)) {
  test(`PATTERNS.${kind} accepts well-formed and refuses malformed identifiers`, () => {
    const pattern = protocol.PATTERNS[kind];
    assert.ok(pattern instanceof RegExp, `no pattern for ${kind}`);
    for (const sample of accepts) assert.ok(pattern.test(sample), `refused ${JSON.stringify(sample)}`);
    for (const sample of refuses) assert.ok(!pattern.test(sample), `accepted ${JSON.stringify(sample)}`);
  });
}

test("the namespace cannot be changed by the code that shares it", () => {
  assert.throws(() => {
    protocol.STATES.push("lost");
  }, TypeError);
  assert.throws(() => {
    protocol.ERRORS.INTERNAL.code = 99;
  }, TypeError);
  assert.throws(() => {
    protocol.DEFAULT_SETTINGS.etmaUrl = "https://example.com/";
  }, TypeError);
  assert.ok(!protocol.STATES.includes("lost"));
});

test("nothing submitted is a final state of its own, right after done", () => {
  assert.deepEqual(protocol.FINAL_STATES, ["done", "not_submitted", "failed", "needs_login", "cancelled"]);
  assert.deepEqual(protocol.STATES.slice(2), protocol.FINAL_STATES);
});
