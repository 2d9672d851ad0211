"""A hostile page in real Chromium: what a page's own script does can never start, cancel or fill a
job, change the selection, or read what another tab's job fetched; and pages that are not OSCAR's
get nothing at all.

The pages are served by the test itself on 127.0.0.1 (``HostilePages``): over http under
``/oscar/`` (a path the practice build's content script covers, so the extension really runs
there), and over https under ``*.open.ac.uk`` names, which the e2e browser resolves to 127.0.0.1
(``chromium.E2E_FLAGS``), to check the shipped OSCAR pattern on the university's own domain.
"""

from __future__ import annotations

import csv
import html
import http.server
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from tests import chromium

# How long a job a page managed to start would take to reach eTMA (the helper answers in well
# under a second); nothing may arrive in this time.
SETTLE_SECONDS = 2.5

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
    script = ATTACK_SCRIPT.replace("EXTENSION_ID", repr(chromium.EXTENSION_ID))
    served = HostilePages(
        tmp_path_factory.mktemp("hostile"),
        {
            "/oscar/hostile": allocation_page(students, script=script),
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
def tab(driver):
    """A second tab for the test; closed afterwards, back on the first."""
    first = driver.current_window_handle
    driver.switch_to.new_window("tab")
    yield first
    driver.close()
    driver.switch_to.window(first)


def toolbar_of(driver):
    host = chromium.wait(driver, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#etma-helper-toolbar")
    )[0]
    return host.shadow_root


def status_texts(driver) -> dict[str, str]:
    return {
        row.get_attribute("data-etma-pi"): row.find_element(
            By.CSS_SELECTOR, "td.etma-helper-status"
        ).text
        for row in driver.find_elements(By.CSS_SELECTOR, "tr[data-etma-pi]")
    }


def assert_nothing_reached_the_page(driver, cohort) -> None:
    """No row of this tab shows a state, a code or a reason, and its toolbar says nothing."""
    states = chromium.row_states(driver)
    assert set(states) == {s.pi for s in cohort.students}
    assert set(states.values()) <= {None, "idle"}, states
    assert set(status_texts(driver).values()) == {""}
    toolbar = toolbar_of(driver)
    assert chromium.message_line(toolbar) == ""
    progress = toolbar.find_element(By.CSS_SELECTOR, '[data-role="progress-text"]').text
    assert progress == ""


def test_a_pages_script_cannot_start_a_job_select_rows_or_reach_the_toolbar(
    driver, sites, cohort, installed, pages
):
    sites.reset_hits()
    driver.get(pages.http("/oscar/hostile?module=TM351&assignment=TMA02"))
    log = chromium.wait(driver, 15).until(
        lambda d: d.execute_script("return window.etmaAttack?.done && window.etmaAttack")
    )
    time.sleep(SETTLE_SECONDS)

    assert not log.get("noToolbar"), "the extension did not run on the test's /oscar/ page"
    assert log["shadowRoot"] is False  # closed: the page cannot reach the buttons or messages
    assert "message" not in log
    assert log["runtime"] == "undefined"  # no web page may message the extension
    assert sum(sites.etma_hits.values()) == 0, dict(sites.etma_hits)
    assert not installed.download_root.exists() or not any(installed.download_root.iterdir())
    toolbar = toolbar_of(driver)
    count = toolbar.find_element(By.CSS_SELECTOR, '[data-role="count"]').text
    assert count == f"0 of {len(cohort.students)} selected"
    assert_nothing_reached_the_page(driver, cohort)

    # The tutor's own click still works on the same page, after all that.
    driver.find_elements(By.CSS_SELECTOR, "input.etma-helper-select")[3].click()
    assert toolbar.find_element(By.CSS_SELECTOR, '[data-role="count"]').text.startswith("1 of")


def test_a_job_uses_the_rows_the_tutor_ticked_not_attributes_the_page_rewrote(
    driver, sites, cohort, installed
):
    ticked, other = cohort.students[0], cohort.students[5]
    toolbar = chromium.open_allocation(driver, sites)
    driver.find_element(
        By.CSS_SELECTOR, f'tr[data-etma-pi="{ticked.pi}"] input.etma-helper-select'
    ).click()
    # After the tick, the page relabels the ticked row as another student.
    driver.execute_script(
        "document.querySelector(`tr[data-etma-pi='${arguments[0]}']`)"
        ".dataset.etmaPi = arguments[1]",
        ticked.pi,
        other.pi,
    )
    chromium.click_toolbar(driver, toolbar, "codes")
    chromium.wait_for_message(driver, toolbar, "1 done")
    (table,) = installed.download_root.rglob("confirmation_codes.csv")
    with open(table, newline="", encoding="utf-8") as rows:
        assert [row["PI"] for row in csv.DictReader(rows)] == [ticked.pi]


def test_another_tab_never_gets_a_job_it_did_not_start(driver, sites, cohort, pages, tab):
    first = tab
    sites.latency = 0.1  # the job is still running while the other tab opens
    driver.switch_to.window(first)
    toolbar = chromium.open_allocation(driver, sites)
    chromium.click_toolbar(driver, toolbar, "select-all")
    sites.reset_hits()
    chromium.click_toolbar(driver, toolbar, "codes")
    chromium.wait(driver, 60).until(lambda d: sites.etma_hits[("POST", "/etma/student")] >= 3)

    second = [handle for handle in driver.window_handles if handle != first][0]
    driver.switch_to.window(second)
    driver.get(pages.http("/oscar/copy?module=TM351&assignment=TMA02"))
    toolbar_of(driver)
    driver.switch_to.window(first)
    summary = chromium.wait_for_message(driver, toolbar, "30 done", timeout=120)
    assert "codes in" in summary

    driver.switch_to.window(second)
    assert_nothing_reached_the_page(driver, cohort)
    for page in ("/oscar/copy?module=TM351&assignment=TMA02", "/oscar/nomodule"):
        driver.get(pages.http(page))
        toolbar_of(driver)
        time.sleep(1)  # the page's state request and a frame to paint it
        assert_nothing_reached_the_page(driver, cohort)


def test_a_reopened_page_at_the_same_address_picks_its_job_up(driver, sites, cohort, tab):
    first = tab
    sites.latency = 0.1
    toolbar = chromium.open_allocation(driver, sites)  # in the second tab
    chromium.click_toolbar(driver, toolbar, "select-all")
    sites.reset_hits()
    chromium.click_toolbar(driver, toolbar, "codes")
    chromium.wait(driver, 60).until(lambda d: sites.etma_hits[("POST", "/etma/student")] >= 3)
    driver.close()  # the job's own tab is gone
    driver.switch_to.window(first)
    driver.switch_to.new_window("tab")  # the fixture closes this one
    toolbar = chromium.open_allocation(driver, sites)
    chromium.wait_for_message(driver, toolbar, "30 done", timeout=120)
    assert set(status_texts(driver).values()) == {f"Code {s.code}" for s in cohort.students}


def test_pages_elsewhere_on_the_university_domain_get_nothing(driver, pages, cohort):
    driver.get(pages.https("www.open.ac.uk", "/students/list?module=TM351"))
    chromium.wait(driver, 10).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )
    assert len(driver.find_elements(By.CSS_SELECTOR, "tr")) == len(cohort.students) + 1
    time.sleep(1)  # content scripts run at document_idle
    assert not driver.find_elements(By.CSS_SELECTOR, "#etma-helper-toolbar")
    assert not driver.find_elements(By.CSS_SELECTOR, "input.etma-helper-select, [data-etma-pi]")

    # The same table on an OSCAR page of the domain gets the toolbar.
    driver.get(pages.https("oscar.open.ac.uk", "/oscar/workAllocation?module=TM351"))
    toolbar_of(driver)
    assert len(driver.find_elements(By.CSS_SELECTOR, "input.etma-helper-select")) == len(
        cohort.students
    )


def save_oscar_patterns(driver, patterns: str, expected: str) -> None:
    """Write the OSCAR pages on the options page and save them, as a tutor would."""
    chromium.open_extension_page(driver, "options/options.html")
    field = chromium.wait(driver).until(EC.element_to_be_clickable((By.ID, "oscar-patterns")))
    field.clear()
    if patterns:
        field.send_keys(patterns)
    driver.find_element(By.CSS_SELECTOR, "#oscar-pages button[type=submit]").click()
    chromium.wait(driver).until(EC.text_to_be_present_in_element((By.ID, "oscar-status"), expected))


def test_a_tutor_adds_their_own_oscar_address_on_the_options_page(driver, pages, cohort):
    page = pages.http("/tutor/allocation?module=TM351")
    driver.get(page)
    time.sleep(1)  # content scripts run at document_idle
    assert not driver.find_elements(By.CSS_SELECTOR, "#etma-helper-toolbar")
    try:
        save_oscar_patterns(driver, "http://127.0.0.1/tutor/*", "Reload those OSCAR pages")
        driver.get(page)
        toolbar_of(driver)
        boxes = driver.find_elements(By.CSS_SELECTOR, "input.etma-helper-select")
        assert len(boxes) == len(cohort.students)
    finally:
        save_oscar_patterns(driver, "", "Saved.")
    driver.get(page)
    time.sleep(1)
    assert not driver.find_elements(By.CSS_SELECTOR, "#etma-helper-toolbar")
