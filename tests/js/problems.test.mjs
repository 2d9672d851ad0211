// The sentences the background shows when the helper cannot do a job (extension/background/problems.js):
// each names what went wrong and the fix, for the errors as the browser and the helper really send them.
// Run with: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  HelperError, INSTALL_COMMAND, WINDOWS_INSTALL_COMMAND, asProblem, connectionWords, explainPortError,
  helperErrorProblem, installCommand, missingActionProblem, usePlatform,
} from "../../extension/background/problems.js";

const { ERRORS, PROTOCOL_VERSION } = globalThis.etmaProtocol;

test("a protocol mismatch names the helper's version and protocol, and says to update it", () => {
  // As the helper sends it (host/etma_helper/actions/hello.py).
  const reply = {
    type: "reply",
    id: "hello-1",
    status: "error",
    code: 4,
    message: "The extension speaks protocol 1 but this helper speaks 2. Update both: run python3 install.py from the latest eTMA Helper.",
    params: { extension_protocol: PROTOCOL_VERSION, helper_protocol: 2 },
    version: "0.2.0",
  };
  const problem = helperErrorProblem(reply);
  assert.match(problem.text, /helper 0\.2\.0, protocol 2\)/);
  assert.doesNotMatch(problem.text, /unknown/);
  assert.match(problem.text, /Update it/);
  assert.equal(problem.command, INSTALL_COMMAND);
  assert.equal(problem.code, ERRORS.PROTOCOL_MISMATCH.code);
});

test("the protocol mismatch is read by the names the vocabulary gives its params", () => {
  assert.deepEqual(ERRORS.PROTOCOL_MISMATCH.params, ["extension_protocol", "helper_protocol"]);
});

test("an unknown action says the helper is older and gives the install command", () => {
  const problem = helperErrorProblem({
    status: "error", code: ERRORS.UNKNOWN_ACTION.code, message: "Unknown action 'open'.",
    params: { action: "open" }, version: "0.0.9",
  });
  assert.match(problem.text, /older than this extension/);
  assert.ok(problem.text.includes(INSTALL_COMMAND));
  assert.equal(problem.code, ERRORS.UNKNOWN_ACTION.code);
});

test("a handshake without a needed action names the helper's version", () => {
  const problem = missingActionProblem("0.0.9");
  assert.match(problem.text, /version 0\.0\.9\) is older/);
  assert.equal(problem.code, ERRORS.UNKNOWN_ACTION.code);
  assert.match(missingActionProblem("").text, /version unknown/);
});

test("any other helper error keeps the helper's sentence, code and params", () => {
  const problem = helperErrorProblem({
    status: "error", code: ERRORS.JOB_RUNNING.code, message: "A job is already running.",
    params: { job_id: "job-1" },
  });
  assert.deepEqual(problem, {
    text: "A job is already running.", code: ERRORS.JOB_RUNNING.code, params: { job_id: "job-1" },
  });
  assert.deepEqual(helperErrorProblem({ status: "error", code: 99 }).params, {});
  assert.match(helperErrorProblem({ status: "error" }).text, /refused the request/);
});

// The port errors as Chromium and Firefox word them.
const PORT_ERRORS = [
  ["Specified native messaging host not found.", /is not installed on this computer/],
  ["No such native application etma_helper", /is not installed on this computer/],
  ["Access to the specified native messaging host is forbidden.", /registered for a different copy/],
  ["Native host has exited.", /stopped unexpectedly/],
  ["Error when communicating with the native messaging host.", /stopped unexpectedly/],
];

for (const [raw, expected] of PORT_ERRORS) {
  test(`the port error "${raw}" becomes a sentence with the install command`, () => {
    const problem = explainPortError(raw);
    assert.match(problem.text, expected);
    assert.ok(problem.text.includes(INSTALL_COMMAND));
    assert.equal(problem.command, INSTALL_COMMAND);
  });
}

test("an unrecognised port error is quoted; none at all is not", () => {
  assert.match(explainPortError("Something odd").text, /could not be reached \(Something odd\)/);
  assert.match(explainPortError(undefined).text, /could not be reached\. /);
});

test("a port closed with no error after the helper answered on it means the helper stopped", () => {
  // Firefox's port.error is null when the helper dies mid-job; Chromium says "Native host has exited."
  assert.match(explainPortError(undefined, { wasRunning: true }).text, /stopped unexpectedly/);
  assert.match(explainPortError("", { wasRunning: true }).text, /stopped unexpectedly/);
  assert.match(explainPortError("Specified native messaging host not found.", { wasRunning: true }).text,
    /is not installed/);
});

test("anything thrown becomes a problem a page can show", () => {
  const problem = { text: "Set the eTMA address in the options first." };
  assert.equal(asProblem(new HelperError(problem)), problem);
  assert.match(asProblem(new TypeError("x is undefined")).text,
    /^Something went wrong in the extension: x is undefined$/);
});

test("'not installed' says to run the command in the folder that holds install.py", () => {
  const problem = explainPortError("Specified native messaging host not found.");
  assert.match(problem.text, /in the eTMA Helper folder \(the unpacked folder that holds install\.py\)/);
  assert.match(problem.text, /Open a terminal/);
  // The command itself is where the pages show it (as code, with a Copy button).
  assert.ok(problem.text.includes(`and run: ${INSTALL_COMMAND} — then reload this page.`));
});

test("on Windows every install command is py install.py, in a Command Prompt", () => {
  usePlatform("win");
  try {
    assert.equal(installCommand(), WINDOWS_INSTALL_COMMAND);
    for (const raw of ["No such native application etma_helper", "Native host has exited.", "odd"]) {
      const problem = explainPortError(raw);
      assert.equal(problem.command, "py install.py");
      assert.ok(problem.text.includes("run: py install.py"));
      assert.match(problem.text, /Open a Command Prompt in the eTMA Helper folder/);
      assert.doesNotMatch(problem.text, /python3/);
    }
    assert.equal(missingActionProblem("0.1").command, "py install.py");
  } finally {
    usePlatform("linux");
  }
  assert.equal(installCommand(), INSTALL_COMMAND);
  usePlatform("mac");
  assert.equal(installCommand(), INSTALL_COMMAND);
  usePlatform("");
});

test("a wrong eTMA address (error 17) names the address, what is wrong and where to change it", () => {
  // As the helper sends it in a job's summary (host/etma_helper/address_check.py).
  const problem = helperErrorProblem({
    type: "summary", status: "error", code: ERRORS.WRONG_ETMA_ADDRESS.code,
    message: "Check the eTMA address in eTMA Helper's options: http://127.0.0.1:9/ could not be reached (connection refused).",
    params: { etma_url: "http://127.0.0.1:9/", problem: "could not be reached (connection refused)", verdict: "unreachable" },
  });
  assert.ok(problem.text.startsWith(
    "Check the eTMA address in eTMA Helper's options: http://127.0.0.1:9/ could not be reached (connection refused)."));
  assert.match(problem.text, /Test connection/);
  assert.equal(problem.wrongEtmaAddress, true);
  assert.equal(problem.code, 17);
  assert.deepEqual(ERRORS.WRONG_ETMA_ADDRESS.params, ["etma_url", "problem", "verdict"]);
});

test("Test connection's four answers each say what to do, and only a login offers a link", () => {
  const address = "https://etma.example/etma/admin";
  const ok = connectionWords({ verdict: "ok", etma_url: address, problem: "", page_url: address });
  assert.match(ok.text, /^Reachable, and you are logged in to eTMA/);
  assert.equal(ok.link, undefined);
  const login = connectionWords({ verdict: "needs_login", etma_url: address, problem: "asks you to log in to eTMA" });
  assert.match(login.text, /you need to log in to eTMA/);
  assert.equal(login.link, address);
  const other = connectionWords({ verdict: "not_etma", etma_url: address, problem: "answered with an error (HTTP 404 Not Found)" });
  assert.match(other.text, /^This is not eTMA's admin page: .* \(HTTP 404 Not Found\)\. /);
  const down = connectionWords({ verdict: "unreachable", etma_url: address, problem: "could not be reached (connection refused)" });
  assert.match(down.text, /^eTMA cannot be reached: .*connection refused/);
  assert.equal(connectionWords({ verdict: "later" }).verdict, "unknown");
});
