"""A wrong or unreachable eTMA address stops a job at once, with what to change and where; a
login page at the right address is "log in", never "wrong address". The same look answers the
options page's Test connection (``check_etma``) and the command line."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from etma_helper.address_check import check_address, check_limits
from etma_helper.batch import BatchRunner
from etma_helper.errors import ProtocolError
from etma_helper.etma_session import EtmaSession, Limits
from etma_helper.ledger import Ledger
from tests.conftest import etma_admin_url, login_cookies
from tests.hostproc import HostProcess
from tests.integration.test_batch import make_job
from tests.integration.test_cli import etma_helper, write_cookies_txt
from tests.integration.test_crash_safety import helper_env

NOT_ETMA_PAGE = b"""<!doctype html><html><head><title>Library search</title></head><body>
<h1>Find a book</h1><form action="/find" method="get">
<label for="q">Title or author</label><input id="q" name="q" type="text">
<button>Search</button></form></body></html>"""

SIGN_ON_PAGE = b"""<!doctype html><html><head><title>Sign in</title></head><body>
<form action="/signon" method="post"><label>Username <input name="user"></label>
<label>Password <input name="password" type="password"></label>
<button>Sign in</button></form></body></html>"""


def closed_port(host: str = "127.0.0.1") -> int:
    """A loopback port nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@contextmanager
def tiny_site(answer, host: str = "127.0.0.1") -> Iterator[str]:
    """A small loopback web server: ``answer(request)`` (http.server's handler: ``path``,
    ``headers``) gives (status, headers, body); yields its address."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            status, headers, body = answer(self)
            self.send_response(status)
            for name, value in {"Content-Type": "text/html", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET  # noqa: N815

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def look(url: str, cookies=()) -> object:
    with EtmaSession(url, tuple(cookies), limits=check_limits(Limits()), retries=1) as session:
        return check_address(session)


def run_job(sites, url: str, settings, pis, cookies=None, ledger=None):
    """Run a download job at ``url``; (summary or the ProtocolError raised, events, s)."""
    job = make_job(sites, pis, cookies=cookies)
    job = dataclasses.replace(job, etma_url=url)
    events = []
    started = time.monotonic()
    runner = BatchRunner(job, settings, emit=events.append, ledger=ledger)
    try:
        result = runner.run()
    except ProtocolError as err:
        result = err
    return result, events, time.monotonic() - started


def test_a_closed_port_stops_thirty_students_in_seconds_with_every_one_unfinished(
    fresh_sites, cohort, settings, tmp_path
):
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    url = f"http://127.0.0.1:{closed_port()}/etma/admin"
    pis = [s.pi for s in cohort.students]
    assert len(pis) == 30
    result, events, seconds = run_job(fresh_sites, url, settings, pis, ledger=ledger)
    assert isinstance(result, ProtocolError), result
    assert seconds < 3, f"took {seconds:.2f} s"
    assert events == []  # no student was tried, so none failed: all are left unfinished
    assert result.code == 17
    assert result.message == (
        f"Check the eTMA address in eTMA Helper's options: {url} could not be reached "
        "(connection refused)."
    )
    assert result.params == {
        "etma_url": url,
        "problem": "could not be reached (connection refused)",
        "verdict": "unreachable",
    }
    (job,) = ledger.recent_jobs()
    assert job["outcome"] == "wrong_address" and job["counts"] == {} and job["total"] == 30


def test_a_server_answering_404_is_not_etma(fresh_sites, cohort, settings):
    with tiny_site(lambda request: (404, {}, b"<h1>Not Found</h1>")) as address:
        url = address + "etma/admin"
        result, events, seconds = run_job(fresh_sites, url, settings, [cohort.students[0].pi])
    assert isinstance(result, ProtocolError) and events == []
    assert result.params["verdict"] == "not_etma"
    assert result.params["problem"] == "answered with an error (HTTP 404 Not Found)"
    assert seconds < 3


def test_a_page_without_the_search_form_is_not_etmas_admin_page(fresh_sites, cohort, settings):
    with tiny_site(lambda request: (200, {}, NOT_ETMA_PAGE)) as url:
        result, events, _ = run_job(fresh_sites, url, settings, [cohort.students[0].pi])
    assert isinstance(result, ProtocolError) and events == []
    assert result.params["verdict"] == "not_etma"
    assert "is not eTMA's admin page" in result.message
    assert "module code and a student PI" in result.message


def test_https_to_a_plain_http_server_is_a_failed_secure_connection():
    with tiny_site(lambda request: (200, {}, NOT_ETMA_PAGE)) as address:
        check = look(address.replace("http://", "https://"))
    assert check.verdict == "unreachable"
    assert check.problem.startswith("could not be reached securely (TLS")


def test_a_server_that_never_answers_is_cut_at_the_checks_deadline():
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        started = time.monotonic()
        with EtmaSession(url, (), limits=check_limits(Limits()), retries=0) as session:
            check = check_address(session, deadline=1.5)
        took = time.monotonic() - started
    assert check.verdict == "unreachable" and "did not answer" in check.problem
    assert took < 4


def test_the_practice_etmas_own_login_page_is_needs_login_not_a_wrong_address(
    fresh_sites, cohort, settings
):
    pis = [s.pi for s in cohort.students[:5]]
    result, events, seconds = run_job(fresh_sites, etma_admin_url(fresh_sites), settings, pis, ())
    assert not isinstance(result, ProtocolError)
    assert result.outcome == "needs_login"
    final = [e for e in events if e.state != "working"]
    assert [e.state for e in final] == ["needs_login"] * 5
    # Known at the start: no student's page was asked for.
    assert fresh_sites.etma_hits.get(("POST", "/etma/student"), 0) == 0
    assert seconds < 3


def test_a_redirect_to_a_sign_on_host_is_needs_login_and_gets_no_cookies(
    fresh_sites, cohort, settings
):
    seen_cookies = []

    def sign_on(request):
        seen_cookies.extend(request.headers.get_all("Cookie") or [])
        return 200, {}, SIGN_ON_PAGE

    with tiny_site(sign_on, host="127.0.0.3") as sign_on_url:

        def etma(request):
            return 302, {"Location": f"{sign_on_url}idp/login?URL=etma"}, b""

        with tiny_site(etma) as etma_url:
            cookies = login_cookies(fresh_sites)
            check = look(etma_url + "etma/admin", cookies)
            result, events, _ = run_job(
                fresh_sites, etma_url + "etma/admin", settings, [cohort.students[0].pi], cookies
            )
    assert check.verdict == "needs_login" and not check.wrong_address
    assert result.outcome == "needs_login" and events[-1].state == "needs_login"
    assert seen_cookies == []


def test_an_http_address_etma_moved_to_https_is_a_wrong_address_with_the_new_one(
    fresh_sites, cohort, settings
):
    # eTMA now answers on https and sends http visitors there: the address is out of date, not a
    # login to make; the fix names the https address. Nothing is sent over https.
    def etma(request):
        port = request.server.server_address[1]
        return 301, {"Location": f"https://127.0.0.1:{port}{request.path}?from=http"}, b""

    with tiny_site(etma) as etma_url:
        check = look(etma_url + "etma/admin?tab=eab")
        result, events, seconds = run_job(
            fresh_sites, etma_url + "etma/admin", settings, [cohort.students[0].pi]
        )
    https = etma_url.replace("http://", "https://") + "etma/admin?tab=eab"
    assert check.verdict == "not_etma" and check.wrong_address
    assert check.problem == f"has moved to https: use {https}"
    assert isinstance(result, ProtocolError) and result.code == 17
    assert "has moved to https: use https://" in str(result) and events == []


def test_the_right_address_is_read_once_and_its_form_shared(fresh_sites, cohort, settings):
    check = look(etma_admin_url(fresh_sites), login_cookies(fresh_sites))
    assert check.verdict == "ok" and check.search_form is not None
    fresh_sites.reset_hits()
    pis = [s.pi for s in cohort.students if s.files][:6]
    result, _, _ = run_job(fresh_sites, etma_admin_url(fresh_sites), settings, pis)
    assert result.counts["done"] == 6
    assert fresh_sites.etma_hits[("GET", "/etma/admin")] == 1


def test_a_cancel_during_the_look_cancels_the_job_not_a_wrong_address(
    fresh_sites, cohort, settings
):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        job = make_job(fresh_sites, [cohort.students[0].pi])
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        job = dataclasses.replace(job, etma_url=url)
        runner = BatchRunner(job, settings, emit=lambda record: None)
        threading.Timer(0.5, runner.cancel).start()
        started = time.monotonic()
        summary = runner.run()
    assert summary.outcome == "cancelled" and summary.counts["cancelled"] == 1
    assert time.monotonic() - started < 3


# --- Over native messaging, as the extension sees it ---------------------------------------------


@pytest.fixture
def host(tmp_path):
    home = tmp_path / "home"
    process = HostProcess({**helper_env(home), "HOME": str(home)})
    process.send({"id": "hello", "action": "hello", "protocol": 1})
    hello = process.receive()
    assert "check_etma" in hello["data"]["actions"]
    yield process
    process.close()


def browser_cookies(sites) -> list[dict]:
    return [
        {"name": c.name, "value": c.value, "domain": c.domain, "path": c.path, "secure": c.secure}
        for c in login_cookies(sites)
    ]


def test_a_job_at_a_closed_port_ends_with_error_17_and_no_student_touched(host, cohort):
    url = f"http://127.0.0.1:{closed_port()}/etma/admin"
    pis = [s.pi for s in cohort.students]
    started = time.monotonic()
    host.send(
        {
            "id": "job-wrong",
            "action": "download",
            "job": {"etma_url": url, "module": "TM351", "assignment": "TMA02", "pis": pis},
        }
    )
    messages = host.receive_until("summary", "job-wrong", timeout=10)
    took = time.monotonic() - started
    assert took < 3, f"took {took:.2f} s"
    reply, summary = messages[0], messages[-1]
    assert reply["status"] == "ok" and reply["data"]["total"] == 30
    assert [m["type"] for m in messages] == ["reply", "summary"]  # no progress at all
    assert summary["status"] == "error" and summary["code"] == 17
    assert summary["params"]["etma_url"] == url
    assert "Check the eTMA address in eTMA Helper's options" in summary["message"]
    host.send({"id": "jobs", "action": "jobs"})
    (job,) = host.receive()["data"]["jobs"]
    assert job["outcome"] == "wrong_address" and job["counts"] == {}


@pytest.mark.parametrize(
    ("where", "cookies", "verdict"),
    [
        ("right", True, "ok"),
        ("right", False, "needs_login"),
        ("closed", True, "unreachable"),
        ("not etma", True, "not_etma"),
    ],
)
def test_check_etma_says_which_of_the_four_it_is(host, fresh_sites, where, cookies, verdict):
    with tiny_site(lambda request: (200, {}, NOT_ETMA_PAGE)) as other:
        url = {
            "right": etma_admin_url(fresh_sites),
            "closed": f"http://127.0.0.1:{closed_port()}/etma/",
            "not etma": other,
        }[where]
        host.send(
            {
                "id": "check",
                "action": "check_etma",
                "etma_url": url,
                "cookies": browser_cookies(fresh_sites) if cookies else [],
            }
        )
        reply = host.receive(timeout=25)
    assert reply["status"] == "ok", reply
    data = reply["data"]
    assert data["verdict"] == verdict and data["etma_url"] == url
    assert (data["problem"] == "") == (verdict == "ok")
    for cookie in browser_cookies(fresh_sites):
        assert cookie["value"] not in str(reply)


def test_check_etma_refuses_an_address_that_is_not_one(host):
    host.send({"id": "check", "action": "check_etma", "etma_url": "etma.example", "cookies": []})
    reply = host.receive()
    assert reply["status"] == "error" and reply["code"] == 3
    assert reply["params"]["field"] == "etma_url"


# --- The command line ---------------------------------------------------------------------------


def test_the_command_line_names_the_address_to_fix_and_exits_6(fresh_sites, cohort, tmp_path):
    cookies = tmp_path / "cookies.txt"
    write_cookies_txt(fresh_sites, cookies)
    url = f"http://127.0.0.2:{closed_port('127.0.0.2')}/etma/admin"  # the cookies' host
    result = etma_helper(
        "download",
        "--etma-url",
        url,
        "--module",
        "TM351",
        "--pis",
        *[s.pi for s in cohort.students[:3]],
        "--cookies",
        str(cookies),
        "--out",
        str(tmp_path / "out"),
    )
    assert result.returncode == 6, result.stderr
    assert (
        f"Check the eTMA address (--etma-url): {url} could not be reached (connection refused)."
        in result.stderr
    )
    assert "3 students left as they were" in result.stderr
