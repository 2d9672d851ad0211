"""The helper answers hello without loading what only jobs need, and says the same folder.

The browser waits for the answer to ``hello`` each time it starts the helper (the benchmark's
``cold_start_ms``), so that path stays free of the heavy modules: dataclasses (and the inspect
module under it), typing, logging, the job records, the network and page libraries, pandas.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from etma_helper import PROTOCOL_VERSION, native_host
from etma_helper.actions import Reply
from etma_helper.config import Settings, config_path, log_path
from etma_helper.framing import FrameWriter, frame, read_frames
from tests.hostproc import HostProcess

ROOT = Path(__file__).resolve().parents[2]
#: Modules the answer to hello must not pay for.
HEAVY = (
    "dataclasses",
    "typing",
    "logging",
    "traceback",
    "etma_helper.records",
    "requests",
    "bs4",
    "pandas",
    "openpyxl",
)


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


def test_the_log_is_set_up_once_the_first_answer_is_sent():
    host = HostProcess()
    try:
        host.send({"id": "h", "action": "hello", "protocol": PROTOCOL_VERSION})
        assert host.receive(timeout=30)["status"] == "ok"
    finally:
        host.close()
    assert "helper 0" in log_path().read_text(encoding="utf-8")  # "helper <version> started"


def run_host(messages: list[dict], before_work) -> list[dict]:
    out = io.BytesIO()
    stream = io.BytesIO(b"".join(map(frame, messages)))
    native_host.NativeHost(stream, FrameWriter(out), before_work=before_work).serve()
    return [json.loads(payload) for payload in read_frames(out.getvalue())]


def test_set_up_runs_after_hello_is_answered_and_before_any_other_request(monkeypatch):
    events: list[str] = []

    def recording(host, message):
        events.append(f"handled {message['action']}")
        return Reply({})

    monkeypatch.setitem(native_host.HANDLERS, "hello", recording)
    monkeypatch.setitem(native_host.HANDLERS, "jobs", recording)
    run_host([{"id": "1", "action": "hello"}], lambda: events.append("set up"))
    assert events == ["handled hello", "set up"]
    events.clear()
    run_host(
        [{"id": "1", "action": "jobs"}, {"id": "2", "action": "jobs"}],
        lambda: events.append("set up"),
    )
    assert events == ["set up", "handled jobs", "handled jobs"]  # once, before the first


def test_after_the_first_answer_the_job_machinery_loads_in_the_background():
    code = (
        "import sys\n"
        "from etma_helper import native_host\n"
        "assert 'requests' not in sys.modules and 'bs4' not in sys.modules\n"
        "thread = native_host.warm_up_jobs()\n"
        "thread.join(60)\n"
        "wanted = ('requests', 'bs4', 'etma_helper.batch',\n"
        "          'etma_helper.actions.download_and_codes')\n"
        "print(' '.join(m for m in wanted if m not in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "host")}
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=90, env=env
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == []
