"""A hostile page in real Chromium and Firefox: what a page's own script does can never start,
cancel or fill a job, change the selection, or read what another tab's job fetched; and pages
that are not OSCAR's get nothing at all.

The pages are served by the test itself on 127.0.0.1 (``HostilePages``): over http under
``/oscar/`` (a path the practice build's content script covers, so the extension really runs
there), and over https under ``*.open.ac.uk`` names, which the test browsers resolve to 127.0.0.1
(``tests/browsers/chromium.py``, ``tests/browsers/firefox.py``), to check the shipped OSCAR
pattern on the university's own domain.

The toolbar's shadow root is closed: the page's script finds ``host.shadowRoot`` null, while the
test reaches the toolbar through the browser's automation (chromedriver's element shadow root,
BiDi's ``locateNodes`` with ``includeShadowTree``) to check what it shows.
"""

from __future__ import annotations

import html
import http.server
import ssl
import subprocess
import threading
from pathlib import Path

import pytest

from tests.browsers import BROWSERS, chromium, firefox
from tests.browsers.session import CHECKBOX, TOOLBAR
from tests.e2e.files import codes_table_pis

# How long a job a page managed to start would take to reach eTMA (the helper answers in well
# under a second); nothing may arrive in this time.
SETTLE_SECONDS = 2.5
# How long a page is watched for a toolbar or a job's state that must never come (content
# scripts run at document_idle, and the page's state request is answered within a frame).
WATCH_SECONDS = 1.0
EXTENSION_IDS = {"chromium": chromium.EXTENSION_ID, "firefox": firefox.EXTENSION_ID}

# Everything a page's own script can try: see the file's comments.
ATTACK_SCRIPT = (Path(__file__).parent / "hostile_attack.js").read_text()


def allocation_page(students, *, module: bool = True, script: str = "") -> str:
    """An OSCAR-like allocation table of ``students``: a "PI" column, names, code fields."""
    heading = (
        "<h1>Work allocation</h1><h2>Module TM351 &ndash; Assignment TMA 02</h2>"
        if module
        else "<h1>Students</h1>"
    )
    rows = "".join(
        f"<tr><td>{html.escape(s.name)}</td><td>{s.pi}</td>"
        f'<td><input type="text" name="confirmation_code" id="code_{s.pi}"></td></tr>'
        for s in students
    )
    table = (
        '<table border="1"><tr><th>Name</th><th>PI</th><th>Confirmation code</th></tr>'
        f"{rows}</table>"
    )
    code = f"<script>{script}</script>" if script else ""
    head = "<!doctype html><html><head><title>Students</title></head>"
    return f"{head}<body>{heading}{table}{code}</body></html>"


class _PageHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        page = self.server.pages.get(self.path.split("?", 1)[0])
        body = (page or "not here").encode()
        self.send_response(200 if page else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        """Quiet: the test's output is the assertions."""


class HostilePages:
    """The test's own pages: one server over http, one over https (a self-signed certificate for
    ``*.open.ac.uk``), both on 127.0.0.1 at free ports, stopped with ``stop()``."""

    def __init__(self, folder: Path, pages: dict[str, str]):
        self.servers = []
        for secure in (False, True):
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
            server.daemon_threads = True
            server.pages = pages
            if secure:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(*self_signed_certificate(folder))
                server.socket = context.wrap_socket(server.socket, server_side=True)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)

    def http(self, path: str) -> str:
        return f"http://127.0.0.1:{self.servers[0].server_address[1]}{path}"

    def https(self, host: str, path: str) -> str:
        return f"https://{host}:{self.servers[1].server_address[1]}{path}"

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


def self_signed_certificate(folder: Path) -> tuple[str, str]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=oscar.open.ac.uk", "-addext", "subjectAltName=DNS:*.open.ac.uk",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return str(cert), str(key)


@pytest.fixture(scope="module")
def pages(cohort, tmp_path_factory):
    students = cohort.students
    hostile = {
        f"/oscar/hostile/{name}": allocation_page(
            students, script=ATTACK_SCRIPT.replace("EXTENSION_ID", repr(EXTENSION_IDS[name]))
        )
        for name in BROWSERS
    }
    served = HostilePages(
        tmp_path_factory.mktemp("hostile"),
        {
            **hostile,
            "/oscar/copy": allocation_page(students),
            "/oscar/nomodule": allocation_page(students, module=False),
            "/students/list": allocation_page(students),
            "/oscar/workAllocation": allocation_page(students),
            "/tutor/allocation": allocation_page(students),
        },
    )
    yield served
    served.stop()


@pytest.fixture
def tab(browser):
    """A second tab for the test, the current one; returns the first (closed afterwards)."""
    first = browser.current_tab()
    browser.new_tab()
    return first


def assert_nothing_reached_the_page(browser, cohort) -> None:
    """No row of this tab shows a state, a code or a reason, and its toolbar says nothing."""
    states = browser.row_states()
    assert set(states) == {s.pi for s in cohort.students}
    assert set(states.values()) <= {None, "idle"}, states
    assert set(browser.status_texts().values()) == {""}
    assert browser.message() == ""
    assert browser.toolbar_text("progress-text") == ""


def nothing_reached_the_page(browser, cohort) -> bool:
    try:
        assert_nothing_reached_the_page(browser, cohort)
    except AssertionError:
        return False
    return True


def no_controls(browser) -> bool:
    """The page has no toolbar, no row checkbox and no row the extension marked."""
    return not browser.count(f"{TOOLBAR}, {CHECKBOX}, [data-etma-pi]")


def test_a_pages_script_cannot_start_a_job_select_rows_or_reach_the_toolbar(
    browser, sites, cohort, installed, pages
):
    sites.reset_hits()
    browser.navigate(pages.http(f"/oscar/hostile/{browser.name}?module=TM351&assignment=TMA02"))
    log = browser.wait(
        lambda: browser.run("() => window.etmaAttack?.done && window.etmaAttack"),
        "the page's attack to finish",
        15,
    )
    browser.stays(
        lambda: sum(sites.etma_hits.values()) == 0, SETTLE_SECONDS, "no request reaching eTMA"
    )

    assert not log.get("noToolbar"), "the extension did not run on the test's /oscar/ page"
    assert log["shadowRoot"] is False  # closed: the page cannot reach the buttons or messages
    assert "message" not in log
    assert log["runtime"] == "undefined"  # no web page may message the extension
    assert not installed.download_root.exists() or not any(installed.download_root.iterdir())
    assert browser.toolbar_text("count") == f"0 of {len(cohort.students)} selected"
    assert_nothing_reached_the_page(browser, cohort)

    # The tutor's own click still works on the same page, after all that.
    browser.tick(cohort.students[3].pi)
    assert browser.toolbar_text("count").startswith("1 of")


def test_a_job_uses_the_rows_the_tutor_ticked_not_attributes_the_page_rewrote(
    browser, sites, cohort, installed
):
    ticked, other = cohort.students[0], cohort.students[5]
    browser.open_allocation(sites)
    browser.tick(ticked.pi)
    # After the tick, the page relabels the ticked row as another student.
    browser.run(
        "(pi, other) => { document.querySelector(`tr[data-etma-pi='${pi}']`)"
        ".dataset.etmaPi = other; }",
        ticked.pi,
        other.pi,
    )
    browser.press("codes")
    browser.wait_for_message("1 done")
    assert codes_table_pis(installed.download_root) == [ticked.pi]


def test_another_tab_never_gets_a_job_it_did_not_start(browser, sites, cohort, pages, tab):
    first = tab
    second = browser.current_tab()
    sites.latency = 0.1  # the job is still running while the other tab opens
    browser.switch_to_tab(first)
    browser.open_allocation(sites)
    browser.press("select-all")
    sites.reset_hits()
    browser.press("codes")
    browser.wait(lambda: sites.etma_hits[("POST", "/etma/student")] >= 3, "3 searches", 60)

    browser.switch_to_tab(second)
    browser.navigate(pages.http("/oscar/copy?module=TM351&assignment=TMA02"))
    browser.wait_for_toolbar()
    browser.switch_to_tab(first)
    summary = browser.wait_for_message("25 done, 5 with nothing submitted", timeout=120)
    assert "codes in" in summary

    browser.switch_to_tab(second)
    assert_nothing_reached_the_page(browser, cohort)
    for page in ("/oscar/copy?module=TM351&assignment=TMA02", "/oscar/nomodule"):
        browser.navigate(pages.http(page))
        browser.wait_for_toolbar()
        browser.stays(
            lambda: nothing_reached_the_page(browser, cohort),
            WATCH_SECONDS,
            f"nothing of the job reaching {page}",
        )


def test_a_reopened_page_at_the_same_address_picks_its_job_up(browser, sites, cohort, tab):
    first = tab
    sites.latency = 0.1
    browser.open_allocation(sites)  # in the second tab
    browser.press("select-all")
    sites.reset_hits()
    browser.press("codes")
    browser.wait(lambda: sites.etma_hits[("POST", "/etma/student")] >= 3, "3 searches", 60)
    browser.close_tab()  # the job's own tab is gone
    browser.switch_to_tab(first)
    browser.new_tab()  # closed after the test
    browser.open_allocation(sites)
    browser.wait_for_message("25 done, 5 with nothing submitted", timeout=120)
    texts = browser.wait(
        lambda: (
            (t := browser.status_texts())
            and all(f"Code {s.code}" in t[s.pi] for s in cohort.students)
            and t
        ),
        "every row's code",
    )
    assert texts == {
        s.pi: (f"Code {s.code}" if s.files else f"Nothing submitted · Code {s.code}")
        for s in cohort.students
    }


def test_pages_elsewhere_on_the_university_domain_get_nothing(browser, pages, cohort):
    browser.navigate(pages.https("www.open.ac.uk", "/students/list?module=TM351"))
    browser.wait(browser.ready, "the page to load", 10)
    assert browser.count("tr") == len(cohort.students) + 1
    browser.stays(lambda: no_controls(browser), WATCH_SECONDS, "no eTMA Helper controls")

    # The same table on an OSCAR page of the domain gets the toolbar.
    browser.navigate(pages.https("oscar.open.ac.uk", "/oscar/workAllocation?module=TM351"))
    browser.wait_for_toolbar()
    assert browser.count(CHECKBOX) == len(cohort.students)


def save_oscar_patterns(browser, patterns: str, expected: str) -> None:
    """Write the OSCAR pages on the options page and save them, as a tutor would."""
    browser.open_options()
    browser.wait_for_saved_settings()
    browser.fill("#oscar-patterns", patterns)
    browser.click("#oscar-pages button[type=submit]")
    browser.wait_for_text("#oscar-status", expected)


def test_a_tutor_adds_their_own_oscar_address_on_the_options_page(browser, pages, cohort):
    page = pages.http("/tutor/allocation?module=TM351")
    browser.navigate(page)
    browser.stays(lambda: no_controls(browser), WATCH_SECONDS, "no toolbar on the tutor's page")
    try:
        save_oscar_patterns(browser, "http://127.0.0.1/tutor/*", "Reload those OSCAR pages")
        browser.navigate(page)
        browser.wait_for_toolbar()
        assert browser.count(CHECKBOX) == len(cohort.students)
    finally:
        save_oscar_patterns(browser, "", "Saved.")
    browser.navigate(page)
    browser.stays(lambda: no_controls(browser), WATCH_SECONDS, "no toolbar once removed")
