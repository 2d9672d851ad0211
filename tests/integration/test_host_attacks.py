"""Attacks on the helper's native-messaging edge, through the real process: messages that used to
kill it, block it, leak through its log, or leave its files readable by others."""

from __future__ import annotations

import json
import os
import stat
import time
import zipfile

import pytest

from etma_helper import PROTOCOL_VERSION
from etma_helper.framing import MAX_OUTGOING
from tests.conftest import etma_admin_url, login_cookies
from tests.hostproc import HostProcess
from tests.integration.test_crash_safety import download_request, helper_env


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


@pytest.fixture
def host(home):
    process = HostProcess({**helper_env(home), "HOME": str(home)})
    yield process
    process.close()


def hello(host, rid: str = "hello") -> dict:
    host.send({"id": rid, "action": "hello", "protocol": PROTOCOL_VERSION})
    return host.receive(timeout=10)


def wire_cookies(sites) -> list[dict]:
    return [
        {"name": c.name, "value": c.value, "domain": c.domain, "path": c.path, "secure": c.secure}
        for c in login_cookies(sites)
    ]


def search_request(sites, pi: str) -> dict:
    """``student_search`` for one student, as the extension sends it."""
    return {
        "id": "search",
        "action": "student_search",
        "etma_url": etma_admin_url(sites),
        "module": "TM351",
        "pi": pi,
        "cookies": wire_cookies(sites),
    }


def test_deeply_nested_json_gets_bad_message_and_the_helper_keeps_serving(host):
    host.send_raw(b"[" * 100_000 + b"]" * 100_000)
    reply = host.receive(timeout=10)
    assert reply["status"] == "error" and reply["code"] == 1
    host.send_raw(b'{"id": "x", "action": "hello", "a": ' + b"{" * 70 + b"}" * 70 + b"}")
    assert host.receive(timeout=10)["code"] == 1
    assert hello(host)["status"] == "ok"


def test_a_cookie_holding_cr_lf_is_refused_and_never_logged(host, home, fresh_sites):
    request = download_request(fresh_sites, ["P1000001"], "job")
    secret = "s3cr3t-value-never-logged"
    request["job"]["cookies"].append(
        {"name": "ETMA_X", "value": f"a\r\nX-Injected: {secret}", "domain": "127.0.0.2"}
    )
    host.send(request)
    reply = host.receive(timeout=10)
    assert reply["status"] == "error" and reply["code"] == 3
    assert reply["params"]["field"] == "cookies" and secret not in json.dumps(reply)
    assert hello(host)["status"] == "ok"
    host.close()
    log = home / "state" / "etma_helper" / "log" / "helper.log"
    assert secret not in (log.read_text() if log.exists() else "")


@pytest.mark.parametrize(
    "address", ["http://:secret@127.0.0.2/etma/admin", "http://tutor:pw@127.0.0.2/", "http://a@b/"]
)
def test_an_etma_address_with_user_information_is_refused(host, fresh_sites, address):
    request = download_request(fresh_sites, ["P1000001"], "job")
    request["job"]["etma_url"] = address
    host.send(request)
    reply = host.receive(timeout=10)
    assert reply["status"] == "error" and reply["params"]["field"] == "etma_url"


def test_hello_and_cancel_answer_at_once_while_a_student_search_waits_on_etma(
    host, fresh_sites, cohort
):
    hello(host)
    fresh_sites.latency = 3.0  # every eTMA page takes three seconds
    host.send(search_request(fresh_sites, cohort.students[0].pi))
    started = time.monotonic()
    host.send({"id": "ping", "action": "hello", "protocol": PROTOCOL_VERSION})
    first = host.receive(timeout=10)
    assert first["id"] == "ping" and time.monotonic() - started < 1.0
    host.send({"id": "c", "action": "cancel", "job_id": "none"})
    assert host.receive(timeout=10)["code"] == 6 and time.monotonic() - started < 1.0
    search = host.receive(timeout=30)
    assert search["id"] == "search" and search["status"] == "ok", search


def test_student_search_works_against_a_form_with_a_300_kb_hidden_field(host, fresh_sites, cohort):
    hello(host)
    fresh_sites.etma_viewstate_bytes = 300_000
    try:
        host.send(search_request(fresh_sites, cohort.students[0].pi))
        reply = host.receive(timeout=30)
    finally:
        fresh_sites.etma_viewstate_bytes = 0
    assert reply["status"] == "ok", reply
    data = reply["data"]
    sent = dict(data["fields"])
    assert sent[data["pi_field"]] == cohort.students[0].pi
    # the 300 KB field travels, or is named for the extension to take from the page
    assert len(sent.get("__VIEWSTATE", "")) >= 300_000 or "__VIEWSTATE" in data["page_fields"]
    assert hello(host, "after")["status"] == "ok"


def deep_names_zip(path, count: int = 200, depth: int = 20) -> None:
    """A zip of ``count`` files, each ``depth`` folders deep with 100-character folder names."""
    with zipfile.ZipFile(path, "w") as archive:
        for n in range(count):
            folders = "/".join(f"{d:02d}" + "f" * 98 for d in range(depth - 1))
            archive.writestr(f"{folders}/{n:03d}" + "n" * 90 + ".txt", b"x")


def test_a_zip_of_deeply_nested_long_names_finishes_and_every_message_fits(
    host, home, fresh_sites, cohort, tmp_path, monkeypatch
):
    student = next(s for s in cohort.students if s.files)
    crafted = tmp_path / "deep.zip"
    deep_names_zip(crafted)
    real_zip_path = fresh_sites.zip_path
    monkeypatch.setattr(
        fresh_sites, "zip_path", lambda pi: crafted if pi == student.pi else real_zip_path(pi)
    )
    hello(host)
    for attempt in ("first", "again"):  # a re-run used to break the same way
        host.send({**download_request(fresh_sites, [student.pi], attempt)})
        seen = host.receive_until("summary", attempt, timeout=60)
        summary = seen[-1]
        assert summary["status"] == "ok", summary
        assert summary["data"]["counts"]["done"] == 1
        final = [m for m in seen if m["type"] == "progress" and m["data"]["state"] == "done"]
        assert final and final[0]["data"]["files_total"] == 200
        for message in seen:
            assert len(json.dumps(message, ensure_ascii=False).encode()) < MAX_OUTGOING


def test_a_new_job_sent_the_moment_a_summary_arrives_is_accepted(host, fresh_sites, cohort):
    hello(host)
    pis = [s.pi for s in cohort.students[:2]]
    request = download_request(fresh_sites, pis, "job-0")
    request["action"] = "codes"
    for n in range(15):
        host.send({**request, "id": f"job-{n}"})
        reply = host.receive(timeout=10)
        assert reply["status"] == "ok", reply  # never job_running
        host.receive_until("summary", f"job-{n}", timeout=30)


def test_the_helpers_files_and_folders_are_private_whatever_the_umask(home, fresh_sites, cohort):
    old = os.umask(0o022)
    try:
        host = HostProcess({**helper_env(home), "HOME": str(home)})
    finally:
        os.umask(old)
    try:
        hello(host)
        pis = [s.pi for s in cohort.students[:3] if s.files]
        host.send(download_request(fresh_sites, pis, "job"))
        assert host.receive_until("summary", "job", timeout=60)[-1]["status"] == "ok"
    finally:
        host.close()
    made = [
        p
        for top in (home / "eTMA", home / "data" / "etma_helper", home / "state" / "etma_helper")
        for p in [top, *top.rglob("*")]
    ]
    assert any(p.suffix == ".csv" for p in made) and any(p.name == "helper.log" for p in made)
    for path in made:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
