"""The helper answers hello without loading what only jobs need, and says the same folder.

The browser waits for the answer to ``hello`` each time it starts the helper (the benchmark's
``cold_start_ms``), so that path stays free of the heavy modules: dataclasses (and the inspect
module under it), typing, the job records, the network and page libraries, pandas.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from etma_helper import PROTOCOL_VERSION
from etma_helper.config import Settings, config_path
from tests.hostproc import HostProcess

ROOT = Path(__file__).resolve().parents[2]
#: Modules the answer to hello must not pay for.
HEAVY = ("dataclasses", "typing", "etma_helper.records", "requests", "bs4", "pandas", "openpyxl")


def test_the_hello_path_imports_none_of_the_heavy_modules():
    code = (
        "import sys\n"
        "import etma_helper.native_host, etma_helper.actions.hello\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "host")}
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == []


def hello_download_root() -> str:
    host = HostProcess()  # the test's private XDG folders, from the environment
    try:
        host.send({"id": "h", "action": "hello", "protocol": PROTOCOL_VERSION})
        answer = host.receive(timeout=30)
    finally:
        host.close()
    assert answer["status"] == "ok", answer
    return answer["data"]["download_root"]


@pytest.mark.parametrize(
    "content",
    [
        None,  # no settings file
        json.dumps({"download_root": "~/marking/eTMA", "concurrency": 3}),
        json.dumps({"download_root": ""}),  # blank: the default folder
        json.dumps([1, 2]),  # not an object
        "{not json",
    ],
    ids=["missing", "named", "blank", "not-an-object", "broken"],
)
def test_hello_names_the_folder_the_settings_name(content):
    path = config_path()
    if content is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    assert hello_download_root() == str(Settings.load().download_root)
