"""The helper's smaller actions, through the real process: jobs, settings, open, student_search."""

from __future__ import annotations

import json
import os
import stat

import pytest
import requests

from etma_helper import PROTOCOL_VERSION
from tests.conftest import etma_admin_url, login_cookies
from tests.hostproc import HostProcess
from tests.integration.test_crash_safety import download_request, helper_env


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


@pytest.fixture
def host(home):
    env = {**helper_env(home), "HOME": str(home)}
    process = HostProcess(env)
    process.send({"id": "hello", "action": "hello", "protocol": PROTOCOL_VERSION})
    assert process.receive()["status"] == "ok"
    yield process
    process.close()


def ask(host, message: dict) -> dict:
    host.send({"id": "q", **message})
    return host.receive()


def test_jobs_lists_the_finished_job_with_its_counts(host, fresh_sites, cohort):
    pis = [s.pi for s in cohort.students[:6]]
    host.send(download_request(fresh_sites, pis, "job-1"))
    host.receive_until("summary", "job-1")
    reply = ask(host, {"action": "jobs"})
    [job] = reply["data"]["jobs"]
    missing = sum(1 for s in cohort.students[:6] if not s.files)
    assert job["job_id"] == "job-1" and job["module"] == "TM351" and job["outcome"] == "finished"
    counts = {"done": 6 - missing, "not_submitted": missing}
    assert job["counts"] == {k: v for k, v in counts.items() if v}
    assert reply["data"]["running"] is None
    assert ask(host, {"action": "jobs", "limit": 0})["code"] == 3


def test_settings_are_checked_then_saved(host, home):
    reply = ask(host, {"action": "settings"})
    assert reply["data"]["concurrency"] == 4
    reply = ask(
        host,
        {"action": "settings", "set": {"concurrency": 6, "download_root": str(home / "Scripts")}},
    )
    assert reply["status"] == "ok", reply
    saved = json.loads((home / "config" / "etma_helper" / "config.json").read_text())
    assert saved["concurrency"] == 6 and saved["download_root"] == str(home / "Scripts")
    assert (home / "Scripts").is_dir()


@pytest.mark.parametrize(
    "change, code",
    [
        ({"download_root": "/etc/etma"}, 8),
        ({"download_root": "relative/folder"}, 8),
        ({"download_root": "~/../../tmp/x"}, 8),
        ({"concurrency": 99}, 3),
        ({"concurrency": True}, 3),  # a boolean is an int to Python, not a number of students
        ({"profile": "/nonexistent/profile.json"}, 11),
        ({"shell": "rm -rf ~"}, 3),
    ],
)
def test_unsafe_or_wrong_settings_are_refused_and_nothing_changes(host, home, change, code):
    before = (home / "config" / "etma_helper" / "config.json").read_text()
    reply = ask(host, {"action": "settings", "set": change})
    assert reply["status"] == "error" and reply["code"] == code and reply["message"]
    assert (home / "config" / "etma_helper" / "config.json").read_text() == before


def test_open_refuses_what_does_not_exist_yet(host):
    reply = ask(host, {"action": "open", "what": "codes", "module": "TM351"})
    assert reply["code"] == 12
    assert ask(host, {"action": "open", "what": "/etc/passwd"})["code"] == 3


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"module": "TM351", "assignment": "TMA02", "pi": "../../etc"}, "pi"),
        ({"module": "TM351", "assignment": "TMA02", "pi": ["A1234567"]}, "pi"),
        ({"module": "TM351", "pi": "A1234567"}, "assignment"),
        ({"pi": "A1234567"}, "assignment"),
    ],
)
def test_open_a_students_folder_takes_a_pi_within_a_module_and_assignment(host, fields, field):
    reply = ask(host, {"action": "open", "what": "folder", **fields})
    assert reply["code"] == 3 and reply["params"]["field"] == field


def test_open_hands_the_helpers_own_folder_to_the_desktop(home, tmp_path, fresh_sites):
    # A stand-in for the desktop's opener, which records what it was asked to open.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    opener = bin_dir / "xdg-open"
    opener.write_text(f'#!/bin/sh\necho "$1" > {tmp_path / "opened.txt"}\n')
    opener.chmod(opener.stat().st_mode | stat.S_IEXEC)
    env = {**helper_env(home), "HOME": str(home), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    student = home / "eTMA" / "TM351" / "TMA02" / "A1234567"
    student.mkdir(parents=True)
    host = HostProcess(env)
    try:
        reply = ask(host, {"action": "open", "what": "folder", "module": "tm351"})
        assert reply["data"]["opened"] == str(home / "eTMA" / "TM351")
        opened = tmp_path / "opened.txt"
        for _ in range(100):
            if opened.exists() and opened.read_text().strip():
                break
            __import__("time").sleep(0.05)
        assert opened.read_text().strip() == str(home / "eTMA" / "TM351")
        opened.unlink()
        request = {"module": "TM351", "assignment": "TMA 02", "pi": "a1234567"}
        reply = ask(host, {"action": "open", "what": "folder", **request})
        assert reply["data"]["opened"] == str(student)
        for _ in range(100):
            if opened.exists() and opened.read_text().strip():
                break
            __import__("time").sleep(0.05)
        assert opened.read_text().strip() == str(student)
    finally:
        host.close()


def test_student_search_returns_a_form_that_opens_the_students_page(host, fresh_sites, cohort):
    student = cohort.students[3]
    cookies = [
        {"name": c.name, "value": c.value, "domain": c.domain, "path": c.path, "secure": c.secure}
        for c in login_cookies(fresh_sites)
    ]
    reply = ask(
        host,
        {
            "action": "student_search",
            "etma_url": etma_admin_url(fresh_sites),
            "module": "TM351",
            "pi": student.pi,
            "cookies": cookies,
        },
    )
    data = reply["data"]
    assert data["method"] == "post" and data["action"].startswith(fresh_sites.etma_url)
    assert [data["pi_field"], student.pi] in data["fields"]
    browser = requests.Session()
    fresh_sites.etma_login(browser)
    page = browser.post(data["action"], data=[tuple(pair) for pair in data["fields"]])
    assert student.code in page.text


def test_student_search_without_a_session_asks_to_log_in(host, fresh_sites, cohort):
    reply = ask(
        host,
        {
            "action": "student_search",
            "etma_url": etma_admin_url(fresh_sites),
            "module": "TM351",
            "pi": cohort.students[0].pi,
            "cookies": [],
        },
    )
    assert reply["code"] == 14 and "log in" in reply["message"]
