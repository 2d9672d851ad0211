"""The extension's vocabulary (extension/lib/protocol.js), the helper and docs/PROTOCOL.md agree.

The extension and the helper are written in two languages; each keeps its own copy of the error
catalogue, the student states and the identifier patterns. These tests read all three and fail
on any difference, so a change to one that forgets another cannot land.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

import etma_helper
from etma_helper import identity, protocol, records
from etma_helper.errors import ErrorCode

ROOT = Path(__file__).resolve().parents[2]
VOCABULARY = ROOT / "extension" / "lib" / "protocol.js"
PROTOCOL_MD = ROOT / "docs" / "PROTOCOL.md"

# Runs the classic script in a fresh context and prints its namespace, patterns as their source.
DUMP = """
const fs = require("fs"), vm = require("vm");
vm.runInThisContext(fs.readFileSync(process.argv[1], "utf8"), { filename: process.argv[1] });
process.stdout.write(JSON.stringify(globalThis.etmaProtocol,
  (key, value) => value instanceof RegExp ? { source: value.source, flags: value.flags } : value));
"""


@pytest.fixture(scope="module")
def vocabulary() -> dict:
    node = shutil.which("node")
    assert node, "node is needed to read the extension's vocabulary; scripts/setup installs it"
    done = subprocess.run(
        [node, "-e", DUMP, str(VOCABULARY)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def helper_error_params() -> dict[str, set[str]]:
    """Every ProtocolError the helper can raise, by code name, with the params it sends."""
    found: dict[str, set[str]] = defaultdict(set)
    for source in (ROOT / "host" / "etma_helper").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            code = node.args[0]
            if name == "ProtocolError" and isinstance(code, ast.Attribute):
                assert all(k.arg for k in node.keywords), f"{source}:{node.lineno}: name each param"
                found[code.attr] |= {k.arg for k in node.keywords if k.arg}
    return found


def documented_errors() -> dict[int, tuple[str, set[str]]]:
    """PROTOCOL.md's error table: code → (name, params)."""
    rows = re.findall(r"^\| (\d+) \| `([a-z_]+)` \| ([^|]*) \|", PROTOCOL_MD.read_text(), re.M)
    return {
        int(code): (name, set(re.findall(r"`([a-z_]+)`", params))) for code, name, params in rows
    }


def test_error_codes_match_the_helpers_catalogue(vocabulary):
    assert {name: entry["code"] for name, entry in vocabulary["ERRORS"].items()} == {
        code.name: code.value for code in ErrorCode
    }


def test_error_params_match_what_the_helper_sends(vocabulary):
    sent = helper_error_params()
    for name, entry in vocabulary["ERRORS"].items():
        assert set(entry["params"]) == sent.get(name, set()), name


def test_protocol_md_lists_every_error_with_its_params(vocabulary):
    documented = documented_errors()
    assert set(documented) == {entry["code"] for entry in vocabulary["ERRORS"].values()}
    for name, entry in vocabulary["ERRORS"].items():
        doc_name, doc_params = documented[entry["code"]]
        assert doc_name == name.lower()
        assert doc_params == set(entry["params"]), name


def test_states_match_the_helper_and_protocol_md(vocabulary):
    assert vocabulary["STATES"] == list(records.STATES)
    assert vocabulary["FINAL_STATES"] == list(records.FINAL_STATES)
    line = re.search(r"`state` is one of (.*?)\.", PROTOCOL_MD.read_text(), re.S)
    assert line, "PROTOCOL.md should say which states a student can be in"
    assert re.findall(r"`([a-z_]+)`", line.group(1)) == list(records.STATES)


def test_patterns_are_the_helpers_patterns(vocabulary):
    helper = {
        "pi": protocol.PI_PATTERN,
        "module": protocol.MODULE_PATTERN,
        "assignment": protocol.ASSIGNMENT_PATTERN,
    }
    assert set(vocabulary["PATTERNS"]) == set(helper)
    for name, pattern in helper.items():
        assert vocabulary["PATTERNS"][name] == {"source": pattern.pattern, "flags": ""}, name


def test_names_and_limits_match(vocabulary):
    assert vocabulary["HOST_NAME"] == identity.HOST_NAME  # install.py and the doctor use it
    assert vocabulary["PROTOCOL_VERSION"] == etma_helper.PROTOCOL_VERSION
    assert f"Protocol version: **{vocabulary['PROTOCOL_VERSION']}**" in PROTOCOL_MD.read_text()
    assert vocabulary["MAX_PIS"] == protocol.MAX_PIS


def test_built_in_oscar_pages_are_the_manifests(vocabulary):
    manifest = json.loads((ROOT / "extension" / "manifest.json").read_text(encoding="utf-8"))
    matches = [m for script in manifest["content_scripts"] for m in script["matches"]]
    assert vocabulary["BUILT_IN_OSCAR_PAGES"] == matches
