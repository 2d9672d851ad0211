"""Sign-in through the university's sign-on host, in both of its forms (SAML and SAMS).

The practice eTMA runs in sign-on mode: a session that ends sends the visitor to the sign-on host
on another loopback address. A job whose session ends part-way stops with ``needs_login``: the
students already fetched are done, the rest are not, and the sign-on host hears nothing from the
helper (never eTMA's cookies: it records every Cookie header it receives). Signing in again
through the sign-on host as a browser does (the login form, then SAML's self-posting form or
SAMS's redirect back) and running the same job again fetches exactly the rest.
"""

from __future__ import annotations

import json

import pytest
import requests

from etma_helper import PROTOCOL_VERSION
from etma_helper.batch import NEEDS_LOGIN
from etma_helper.cookies_txt import load_cookies_txt
from etma_helper.records import Cookie
from tests.conftest import etma_admin_url
from tests.hostproc import HostProcess
from tests.integration.test_batch import expected_files, make_job, run
from tests.integration.test_cli import etma_helper
from tests.integration.test_crash_safety import helper_env
from tests.sites import ETMA_HOST, Faults, PracticeSites

BOTH_MODES = pytest.mark.parametrize(
    "fresh_sites", [{"signon": "saml"}, {"signon": "sams"}], indirect=True, ids=["saml", "sams"]
)
STUDENTS = 10
#: Requests a fresh session serves before it ends: the page the sign-in lands on, the search
#: page, then a search and a download for each of four students.
EXPIRES_AFTER = 1 + 1 + 4 * 2
DONE_BEFORE_EXPIRY = 4


def etma_cookies(session: requests.Session) -> tuple[Cookie, ...]:
    """The session's cookies for eTMA, as the extension forwards them (eTMA's alone)."""
    return tuple(
        Cookie(name=c.name, value=c.value, domain=c.domain, path=c.path, secure=bool(c.secure))
        for c in session.cookies
        if c.domain.lstrip(".") == ETMA_HOST
    )


def signed_in(sites: PracticeSites, browser: requests.Session) -> tuple[Cookie, ...]:
    """Sign in through the sign-on host, with the password (no earlier sign-in is still live)."""
    sites.expire_signon_sessions()
    before = len(sites.signon_requests)
    sites.signon_login(browser)
    asked = [r for r in sites.signon_requests[before:] if r.method == "POST"]
    assert asked, "the sign-on host did not ask for the password"
    cookies = etma_cookies(browser)
    assert [c.name for c in cookies] == ["ETMA_SESSION"]
    return cookies


def assert_no_etma_cookie_reached_the_sign_on_host(sites: PracticeSites, secrets: list[str]):
    for request in sites.signon_requests:
        assert "ETMA_SESSION" not in request.cookie, request
        for secret in secrets:
            assert secret not in request.cookie and secret not in request.path, request


def with_files(cohort) -> list[str]:
    return [s.pi for s in cohort.students if s.files][:STUDENTS]


@BOTH_MODES
def test_a_session_ending_mid_job_is_needs_login_and_a_rerun_after_sign_in_does_the_rest(
    fresh_sites, cohort, settings
):
    sites = fresh_sites
    pis = with_files(cohort)
    browser = requests.Session()
    first = signed_in(sites, browser)
    sites.faults = Faults(session_expires_after=EXPIRES_AFTER)
    one_worker = type(settings)(download_root=settings.download_root, concurrency=1)
    heard_before = len(sites.signon_requests)

    summary, events = run(make_job(sites, pis, cookies=first), one_worker)

    final = {e.pi: e for e in events if e.state != "working"}
    done, rest = pis[:DONE_BEFORE_EXPIRY], pis[DONE_BEFORE_EXPIRY:]
    assert summary.outcome == "needs_login"
    assert [final[pi].state for pi in pis] == ["done"] * len(done) + ["needs_login"] * len(rest)
    assert {final[pi].reason for pi in rest} == {NEEDS_LOGIN}
    module = settings.download_root / "TM351" / "TMA02"
    for pi in rest:
        assert not (module / pi).exists()
    # eTMA sent the helper to the sign-on host; the helper did not go
    assert len(sites.signon_requests) == heard_before
    assert_no_etma_cookie_reached_the_sign_on_host(sites, [c.value for c in first])

    sites.faults = Faults()
    again = signed_in(sites, browser)
    assert again != first
    sites.reset_hits()
    summary, events = run(make_job(sites, pis, cookies=again), one_worker)

    final = {e.pi: e for e in events if e.state != "working"}
    assert summary.outcome == "finished"
    assert all(final[pi].state == "done" for pi in pis)
    assert summary.how.get("already_downloaded") == len(done)
    assert sites.etma_hits[("POST", "/etma/student")] == len(rest)
    assert sites.etma_hits[("POST", "/etma/download")] == len(rest)
    for pi in pis:
        assert {
            p.relative_to(module / pi).as_posix(): p.read_bytes()
            for p in (module / pi).rglob("*")
            if p.is_file()
        } == expected_files(cohort, pi)
    assert_no_etma_cookie_reached_the_sign_on_host(sites, [c.value for c in first + again])


@BOTH_MODES
def test_a_job_with_no_live_session_stops_at_once_without_touching_the_sign_on_host(
    fresh_sites, cohort, settings
):
    """Cookies from a session that has ended (or none at all): eTMA redirects the very first
    request to the sign-on host, so every student is needs login and nothing else happens."""
    sites = fresh_sites
    pis = with_files(cohort)[:3]
    first = signed_in(sites, requests.Session())
    sites.expire_etma_sessions()
    heard_before = len(sites.signon_requests)
    for cookies in (first, ()):
        sites.reset_hits()
        summary, events = run(make_job(sites, pis, cookies=cookies), settings)
        assert summary.outcome == "needs_login"
        assert {e.state for e in events if e.state != "working"} == {"needs_login"}
        assert sum(sites.etma_hits.values()) == 1  # the search page, once, for the whole job
    assert sites.signon_requests[heard_before:] == []


def write_browser_cookies(session: requests.Session, path) -> None:
    """Every cookie the browser holds, eTMA's and the sign-on host's, as a cookies.txt export
    writes them: the helper must keep eTMA's and leave the rest."""
    lines = ["# Netscape HTTP Cookie File"]
    for c in session.cookies:
        lines.append(f"#HttpOnly_{c.domain}\tFALSE\t{c.path}\tFALSE\t0\t{c.name}\t{c.value}")
    path.write_text("\n".join(lines) + "\n")


@BOTH_MODES
def test_the_command_line_says_in_one_line_to_log_in_again_and_the_rerun_does_the_rest(
    fresh_sites, cohort, tmp_path
):
    sites = fresh_sites
    pis = with_files(cohort)
    browser = requests.Session()
    signed_in(sites, browser)
    assert any(c.domain != ETMA_HOST for c in browser.cookies), "no sign-on cookie to leave out"
    cookies = tmp_path / "cookies.txt"
    write_browser_cookies(browser, cookies)
    kept = load_cookies_txt(cookies, etma_admin_url(sites))
    assert [c.name for c in kept] == ["ETMA_SESSION"]  # the sign-on host's cookie stays behind
    sites.faults = Faults(session_expires_after=EXPIRES_AFTER)
    heard_before = len(sites.signon_requests)
    out = tmp_path / "out"
    command = [
        "download",
        "--etma-url",
        etma_admin_url(sites),
        "--module",
        "TM351",
        "--assignment",
        "TMA02",
        "--pis",
        *pis,
        "--cookies",
        str(cookies),
        "--out",
        str(out),
        "--concurrency",
        "1",
    ]

    result = etma_helper(*command)

    assert result.returncode == 3, result.stdout + result.stderr
    rest = len(pis) - DONE_BEFORE_EXPIRY
    ended = [line for line in result.stdout.splitlines() if "session ended before" in line]
    assert ended == [
        f"The eTMA session ended before {rest} students could be fetched: log in to eTMA "
        "again, export fresh cookies and run the same command; finished students are skipped."
    ]
    assert "Traceback" not in result.stderr and "Students not done" not in result.stdout
    assert sites.signon_requests[heard_before:] == []

    sites.faults = Faults()
    signed_in(sites, browser)
    write_browser_cookies(browser, cookies)
    sites.reset_hits()
    result = etma_helper(*command)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Skipped {DONE_BEFORE_EXPIRY} students already downloaded" in result.stdout
    assert sites.etma_hits[("POST", "/etma/student")] == rest
    assert sites.etma_hits[("POST", "/etma/download")] == rest
    for pi in pis:
        assert (out / "TM351" / "TMA02" / pi).is_dir()
    assert_no_etma_cookie_reached_the_sign_on_host(sites, [])


@BOTH_MODES
def test_the_real_helper_reports_needs_login_and_the_page_can_run_the_rest_again(
    fresh_sites, cohort, tmp_path
):
    """Through native messaging, as the extension drives it: the summary says needs login, each
    student not fetched has that state, and the same job sent again after sign-in finishes."""
    sites = fresh_sites
    pis = with_files(cohort)
    browser = requests.Session()
    wire = [c.__dict__ for c in signed_in(sites, browser)]
    sites.faults = Faults(session_expires_after=EXPIRES_AFTER)
    home = tmp_path / "home"
    env = helper_env(home)
    config = home / "config" / "etma_helper" / "config.json"
    config.write_text(json.dumps({"download_root": str(home / "eTMA"), "concurrency": 1}))
    job = {
        "etma_url": etma_admin_url(sites),
        "module": "TM351",
        "assignment": "TMA02",
        "pis": pis,
        "cookies": wire,
    }
    heard_before = len(sites.signon_requests)
    host = HostProcess(env)
    try:
        host.send({"id": "hello", "action": "hello", "protocol": PROTOCOL_VERSION})
        host.receive()
        host.send({"id": "first", "action": "download", "job": job})
        seen = host.receive_until("summary", "first", timeout=120)
        final = {m["data"]["pi"]: m["data"]["state"] for m in seen if m["type"] == "progress"}
        summary = seen[-1]["data"]
        assert summary["outcome"] == "needs_login"
        assert summary["counts"]["done"] == DONE_BEFORE_EXPIRY
        assert summary["counts"]["needs_login"] == len(pis) - DONE_BEFORE_EXPIRY
        assert [final[pi] for pi in pis[DONE_BEFORE_EXPIRY:]] == ["needs_login"] * (
            len(pis) - DONE_BEFORE_EXPIRY
        )
        assert sites.signon_requests[heard_before:] == []

        sites.faults = Faults()
        unfinished = [pi for pi in pis if final[pi] != "done"]
        wire = [c.__dict__ for c in signed_in(sites, browser)]
        sites.reset_hits()
        host.send(
            {
                "id": "again",
                "action": "download",
                "job": {**job, "pis": unfinished, "cookies": wire},
            }
        )
        seen = host.receive_until("summary", "again", timeout=120)
        assert seen[-1]["data"]["outcome"] == "finished"
        assert seen[-1]["data"]["counts"]["done"] == len(unfinished)
        assert sites.etma_hits[("POST", "/etma/student")] == len(unfinished)
    finally:
        assert host.close() == 0
    assert_no_etma_cookie_reached_the_sign_on_host(sites, [c["value"] for c in wire])
