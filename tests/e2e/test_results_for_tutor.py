"""Results a tutor can read and act on, in real Chromium and Firefox: OSCAR's names reach the
codes table, a row says its reason and folder as text and opens its folder, the students with
nothing submitted are listed, a job stopped for login offers "Log in to eTMA" and "Run again"
(which finishes exactly the rest), and "Retry failed" reruns only the failed."""

from __future__ import annotations

import base64
from pathlib import Path

from tests.browsers.session import REPO, row_selector
from tests.e2e.page_checks import (
    codes_table_rows,
    counts,
    next_steps,
    press_log_in_to_etma,
    run_again_fetches_exactly,
    ticked_pis,
)
from tests.sites import Faults

DOC_IMAGES = REPO / "docs" / "images"
FINISHED_WELL = {"done", "not_submitted"}


def run_for_everyone(browser, sites, action: str = "download") -> None:
    browser.open_allocation(sites)
    browser.press("select-all")
    sites.reset_hits()
    browser.press(action)


def test_session_expiry_offers_log_in_and_run_again_finishes_exactly_the_rest(
    browser, sites, cohort, installed
):
    # The eTMA session dies part-way through: the rest of the students need a login.
    sites.faults = Faults(session_expires_after=20)
    run_for_everyone(browser, sites)
    message = browser.wait_for_message("Log in to eTMA again", timeout=120)
    assert "Run again" in message
    states = browser.wait_for_finished_rows(len(cohort.students))
    rest = [pi for pi, state in states.items() if state not in FINISHED_WELL]
    assert rest and len(rest) < len(cohort.students)
    assert {states[pi] for pi in rest} == {"needs_login"}
    assert next_steps(browser) == ["login-etma", "run-again"]
    live = counts(browser)
    assert live["needs_login"] == f"{len(rest)} need login"

    # OSCAR's names reach the codes table, even for students eTMA never showed the helper.
    module_folder = installed.download_root / "TM351" / "TMA02"
    table = codes_table_rows(module_folder)
    for pi in rest:
        assert table[pi]["Name"] == cohort.student(pi).name
        assert table[pi]["Status"] == "needs login"

    # "Log in to eTMA" opens the eTMA address in a new tab; the tutor logs in there.
    sites.faults = Faults()  # the new session lasts
    press_log_in_to_etma(browser, sites)
    assert ticked_pis(browser) == set(states)  # the selection is untouched so far

    # Exactly the rest is fetched again, and the selection is now (and stays) those students.
    run_again_fetches_exactly(browser, sites, cohort, rest)
    assert browser.toolbar_text("count").startswith(f"{len(rest)} of")
    assert next_steps(browser) == []
    assert codes_table_rows(module_folder)[rest[0]]["Status"] in {"done", "not submitted"}


def test_retry_failed_reruns_only_the_failed_students(browser, sites, cohort):
    failing = [s.pi for s in cohort.students if s.files][3:5]
    sites.faults = Faults(per_pi={failing[0]: "corrupt", failing[1]: "wrong_type"}, times=1)
    run_for_everyone(browser, sites)
    message = browser.wait_for_message("2 failed", timeout=120)
    assert "25 done" not in message
    states = browser.wait_for_finished_rows(len(cohort.students))
    assert sorted(pi for pi, state in states.items() if state == "failed") == sorted(failing)
    assert next_steps(browser) == ["retry-failed"]
    # The reason is text in the row, not only a tooltip.
    assert "not a valid zip" in browser.status_text(failing[0]).lower()

    sites.reset_hits()
    browser.press("retry-failed")
    browser.wait_for_message("Finished: 2 done", timeout=120)
    after = browser.wait_for_rows(
        lambda s: all(s[pi] == "done" for pi in failing), "the retried students done"
    )
    assert sites.etma_hits[("POST", "/etma/download")] == 2
    assert sites.etma_hits[("POST", "/etma/student")] == 2
    assert ticked_pis(browser) == set(failing)
    assert {pi: s for pi, s in after.items() if pi not in failing} == {
        pi: s for pi, s in states.items() if pi not in failing
    }


def test_rows_say_their_folder_and_open_it_and_nothing_submitted_is_listed(
    browser, sites, cohort, installed
):
    run_for_everyone(browser, sites)
    browser.wait_for_message("25 done, 5 with nothing submitted", timeout=120)
    browser.wait_for_finished_rows(len(cohort.students))
    done = next(s for s in cohort.students if s.files)
    # The folder is text a keyboard or screen-reader user reaches, beside an Open folder button.
    detail = browser.text(row_selector(done.pi, ".etma-helper-detail"))
    assert detail == f"Folder …/TM351/TMA02/{done.pi}"
    assert browser.attribute(row_selector(done.pi, ".etma-helper-open"), "aria-label") == (
        f"Open the folder with {done.name}'s files"
    )
    nothing = [s for s in cohort.students if not s.files]
    for student in nothing:  # no folder, so nothing to open
        assert not browser.shown(row_selector(student.pi, ".etma-helper-open"))

    # The students with nothing submitted, listed in OSCAR's order under the message.
    listed = browser.run_in_toolbar(
        "(root) => { const box = root.querySelector('[data-role=\"not-submitted\"]');"
        " return box.hidden ? null : [box.querySelector('summary').textContent,"
        " [...box.querySelectorAll('li')].map(li => li.textContent)]; }"
    )
    assert listed is not None
    summary, lines = listed
    assert summary == "5 students with nothing submitted for TMA 02"
    # The practice eTMA shows neither a date nor a late flag for them (tests/js covers both).
    assert lines == [f"{s.name} ({s.pi})" for s in nothing]

    # A page's own script cannot press it: only the tutor's real click opens anything.
    before = browser.message()
    browser.run(
        "(s) => document.querySelector(s).click()", row_selector(done.pi, ".etma-helper-open")
    )
    browser.stays(lambda: browser.message() == before, 1, "no folder opened for a synthetic click")

    browser.click(row_selector(done.pi, ".etma-helper-open"))
    # The student's own folder, which the helper names (the page only says whose).
    folder = installed.download_root / "TM351" / "TMA02" / done.pi
    assert browser.wait_for_message("Opened") == f"Opened {folder}."


def test_a_job_with_problems_shows_every_next_step(browser, sites, cohort, artefacts):
    """The picture for the README: done, failed, nothing submitted and needs-login rows, with
    the buttons each problem offers (headless Chromium's into docs/images)."""
    # The first student fails, and the session ends after the first student with nothing
    # submitted (the sixth): the first screenful holds every kind of row. The failure is the
    # first student's so that it comes before the end whichever worker gets a connection first.
    failing = [cohort.students[0].pi]
    sites.faults = Faults(per_pi=dict.fromkeys(failing, "corrupt"), session_expires_after=15)
    run_for_everyone(browser, sites)
    browser.wait_for_message("Log in to eTMA again", timeout=120)
    states = browser.wait_for_finished_rows(len(cohort.students))
    assert {"done", "failed", "not_submitted", "needs_login"} <= set(states.values())
    assert next_steps(browser) == ["login-etma", "run-again", "retry-failed"]
    # The toolbar stuck at the top of the window with the first rows under it.
    browser.run(
        "() => { document.activeElement.blur();"
        " window.scrollTo(0, document.querySelector('#etma-helper-toolbar').offsetTop); }"
    )
    where = DOC_IMAGES if browser.name == "chromium" and not browser.headed else artefacts
    picture = screenshot_of_the_job(browser, Path(where) / "job-with-problems.png")
    assert picture.stat().st_size < (150_000 if where == DOC_IMAGES else 1_000_000)


def screenshot_of_the_job(browser, path: Path) -> Path:
    """The toolbar, its next steps and the first rows under it: the window's top, as wide as
    the table and about seven rows high (small enough for the README)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if browser.name != "chromium":
        return browser.screenshot(path)
    top, width, height = browser.run(
        "() => { const rows = document.querySelectorAll('tr[data-etma-pi]');"
        " const toolbar = document.querySelector('#etma-helper-toolbar');"
        " return [window.scrollY, Math.ceil(toolbar.getBoundingClientRect().right) + 8,"
        " Math.ceil(rows[Math.min(6, rows.length - 1)].getBoundingClientRect().bottom) + 4]; }"
    )
    clip = {"x": 0, "y": top, "width": width, "height": height, "scale": 1}
    shot = browser.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "clip": clip})
    path.write_bytes(base64.b64decode(shot["data"]))
    return path
