"""The extension's JavaScript passes ESLint, web-ext lint and its own unit tests (tests/js).

The tools are npm packages pinned in package-lock.json; scripts/setup installs Node and npm (with
apt) and runs `npm ci`. A missing or stale tool fails these tests with the command to run: it is
never a reason to skip them. None of them needs the network.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"
LOCKFILE = ROOT / "package-lock.json"
JS_TESTS = ROOT / "tests" / "js"
# The file names `node --test` picks up by default.
JS_TEST_NAME = re.compile(r"^(test|test-.+|.+[.\-_]test)\.[cm]?js$")
OLDEST_NODE = (18, 18)
SETUP = "run scripts/setup (it installs Node and npm with apt, then the tools with `npm ci`)"

# No colours in the output, and no update check (web-ext would ask the npm registry).
QUIET = {"NO_COLOR": "1", "FORCE_COLOR": "0", "NO_UPDATE_NOTIFIER": "1"}


@pytest.fixture(scope="module")
def node() -> str:
    """The node executable, checked to be new enough for ESLint 9."""
    path = shutil.which("node")
    if path is None:
        pytest.fail(f"node is not installed: {SETUP}")
    version = subprocess.run(
        [path, "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout.strip()
    found = re.match(r"v(\d+)\.(\d+)", version)
    if not found or tuple(map(int, found.groups())) < OLDEST_NODE:
        pytest.fail(f"node {version or '(no version)'} at {path} is too old: ESLint 9 needs 18.18+")
    return path


def tool(node: str, package: str, script: str) -> list[str]:
    """The command that runs an installed npm package's script, after checking it is current."""
    installed = NODE_MODULES / ".package-lock.json"
    if not installed.exists():
        pytest.fail(f"the JavaScript tools are not installed (no node_modules): {SETUP}")
    if installed.stat().st_mtime < LOCKFILE.stat().st_mtime:
        pytest.fail(f"node_modules is older than package-lock.json: {SETUP}")
    path = NODE_MODULES / package / script
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} is missing: {SETUP}")
    return [node, str(path)]


def run(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run a command at the project's top; fail the test when it hangs."""
    try:
        return subprocess.run(
            command,
            cwd=ROOT,
            env={**os.environ, **QUIET},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        # What the tool printed before it was stopped comes as bytes, or None, whatever `text` says.
        printed = b"".join(out or b"" for out in (error.stdout, error.stderr))
        pytest.fail(
            f"{shown(command)} took longer than {timeout} s:\n{printed.decode(errors='replace')}"
        )


def shown(command: list[str]) -> str:
    """The command as a person would type it at the project's top."""
    return " ".join(["node", *(part.removeprefix(f"{ROOT}/") for part in command[1:])])


def test_eslint_finds_no_problems(node):
    command = [*tool(node, "eslint", "bin/eslint.js"), "--max-warnings", "0", "."]
    done = run(command, timeout=180)
    if done.returncode != 0:
        pytest.fail(f"{shown(command)} found problems:\n{done.stdout}{done.stderr}", pytrace=False)


def test_web_ext_lint_finds_no_errors(node):
    # --self-hosted: the extension is not published on addons.mozilla.org, so AMO's own listing
    # rules do not apply. Warnings are allowed and shown with `pytest -rP`.
    command = [
        *tool(node, "web-ext", "bin/web-ext.js"),
        "lint",
        "--source-dir",
        "extension",
        "--self-hosted",
        "--no-config-discovery",
        "--output",
        "json",
    ]
    done = run(command, timeout=180)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"{shown(command)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    lines = [
        f"{kind[:-1]} {message['code']} {message.get('file') or ''}"
        f"{':' + str(message['line']) if message.get('line') else ''}: {message['message']}"
        for kind in ("errors", "warnings", "notices")
        for message in report.get(kind, [])
    ]
    print("\n".join(lines))
    if report["summary"]["errors"] or done.returncode != 0:
        pytest.fail(f"{shown(command)}:\n" + "\n".join(lines) + done.stderr, pytrace=False)


def test_javascript_unit_tests_pass(node):
    files = sorted(
        str(path.relative_to(ROOT)) for path in JS_TESTS.rglob("*") if JS_TEST_NAME.match(path.name)
    )
    assert files, f"no JavaScript tests in {JS_TESTS.relative_to(ROOT)}"
    command = [node, "--test", *files]
    done = run(command, timeout=180)
    if done.returncode != 0:
        pytest.fail(f"{shown(command)} failed:\n{done.stdout}{done.stderr}", pytrace=False)
