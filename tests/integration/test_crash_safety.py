"""The helper killed (SIGKILL) in the middle of a batch: the next run finishes the job exactly."""

from __future__ import annotations

import hashlib
import json
import signal
import sqlite3
from pathlib import Path

import pytest

from etma_helper import PROTOCOL_VERSION
from tests.conftest import etma_admin_url, login_cookies
from tests.hostproc import HostProcess


def helper_env(home: Path) -> dict[str, str]:
    config = home / "config" / "etma_helper" / "config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"download_root": str(home / "eTMA"), "concurrency": 4}))
    return {
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
    }


def download_request(sites, pis, request_id):
    cookies = [
        {"name": c.name, "value": c.value, "domain": c.domain, "path": c.path, "secure": c.secure}
        for c in login_cookies(sites)
    ]
    return {
        "id": request_id,
        "action": "download",
        "job": {
            "etma_url": etma_admin_url(sites),
            "module": "TM351",
            "assignment": "TMA02",
            "pis": pis,
            "cookies": cookies,
        },
    }


def start_job(env, sites, pis, request_id) -> HostProcess:
    host = HostProcess(env)
    host.send({"id": "hello", "action": "hello", "protocol": PROTOCOL_VERSION})
    assert host.receive()["status"] == "ok"
    host.send(download_request(sites, pis, request_id))
    return host


@pytest.mark.parametrize("kill_after", [0, 3, 11])
def test_killed_helper_leaves_a_ledger_and_files_the_next_run_completes(
    fresh_sites, cohort, tmp_path, kill_after
):
    fresh_sites.latency = 0.01
    fresh_sites.zip_pad_to = 300_000
    env = helper_env(tmp_path)
    pis = [s.pi for s in cohort.students if s.files][:16]

    first = start_job(env, fresh_sites, pis, "first")
    finished = 0
    while finished < kill_after:
        message = first.receive()
        if message["type"] == "progress" and message["data"]["state"] == "done":
            finished += 1
    first.proc.send_signal(signal.SIGKILL)
    first.close()

    fresh_sites.reset_hits()
    second = start_job(env, fresh_sites, pis, "second")
    summary = second.receive_until("summary", "second")[-1]
    assert second.close() == 0
    assert summary["data"]["outcome"] == "finished"
    assert summary["data"]["counts"]["done"] == len(pis)
    assert fresh_sites.etma_hits[("POST", "/etma/download")] <= len(pis) - kill_after

    ledger = sqlite3.connect(tmp_path / "data" / "etma_helper" / "ledger.sqlite3")
    assert ledger.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    rows = ledger.execute("SELECT pi, state, folder, files FROM students WHERE job_id = 'second'")
    module = tmp_path / "eTMA" / "TM351" / "TMA02"
    checked = 0
    for pi, state, folder, files in rows:
        assert state == "done" and Path(folder) == module / pi
        for path, size, sha256 in json.loads(files):
            data = (module / pi / path).read_bytes()
            assert len(data) == size and hashlib.sha256(data).hexdigest() == sha256
        checked += 1
    assert checked == len(pis)
    assert not (module / ".etma-partial").exists()
    assert not list(module.rglob("*.part"))


def test_killed_at_random_moments_again_and_again_then_finished(fresh_sites, cohort, tmp_path):
    """Ten SIGKILLs at random moments (seeded), each on a job resuming the last, then a full run."""
    import random
    import time

    fresh_sites.latency = 0.01
    fresh_sites.zip_pad_to = 300_000
    env = helper_env(tmp_path)
    pis = [s.pi for s in cohort.students if s.files][:16]
    moments = random.Random(6).sample([i / 20 for i in range(1, 16)], 10)
    for round_number, delay in enumerate(moments):
        host = start_job(env, fresh_sites, pis, f"round-{round_number}")
        time.sleep(delay)
        host.proc.send_signal(signal.SIGKILL)
        host.close()

    final = start_job(env, fresh_sites, pis, "final")
    summary = final.receive_until("summary", "final")[-1]
    assert final.close() == 0
    assert summary["data"]["outcome"] == "finished"
    assert summary["data"]["counts"]["done"] == len(pis)
    ledger = sqlite3.connect(tmp_path / "data" / "etma_helper" / "ledger.sqlite3")
    assert ledger.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    module = tmp_path / "eTMA" / "TM351" / "TMA02"
    for folder, files in ledger.execute(
        "SELECT folder, files FROM students WHERE job_id = 'final'"
    ):
        for path, size, sha256 in json.loads(files):
            data = (Path(folder) / path).read_bytes()
            assert len(data) == size and hashlib.sha256(data).hexdigest() == sha256
    assert not list(module.rglob("*.part")) and not (module / ".etma-partial").exists()
