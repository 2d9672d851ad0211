"""The OSCAR page for a keyboard and screen-reader user, in real Chromium and Firefox: Enter on
Download or Get codes keeps the focus on the toolbar (on Cancel while the job runs), the start and
the end are announced through a polite live region, and every state colour reads at 4.5:1 or
better on OSCAR's white and banded rows (measured in the browser, per WCAG)."""

from __future__ import annotations

import pytest

from tests.browsers.helper_install import install_helper
from tests.e2e.page_checks import contrasts, counts, focus, next_steps, press_log_in_to_etma
from tests.sites import Faults

WHITE_ROW = "rgba(0, 0, 0, 0)"  # no background of its own: the page's white shows through
BANDED_ROW = "rgb(238, 238, 238)"  # the practice OSCAR's bgcolor="#eeeeee"


def announced(browser) -> str:
    return browser.toolbar_text("announce")


@pytest.fixture
def keyboard_user(request, browser_name):
    """A browser whose keys press buttons as a real keyboard's do: Chromium's WebDriver keys
    do; Firefox's do not (see FirefoxSession.press_keys), so there the headed Firefox takes real
    key presses on its X screen."""
    return request.getfixturevalue("browser" if browser_name == "chromium" else "headed")


def tab_to(browser, action: str, presses: int = 40) -> None:
    """Press Tab (real key presses) until the toolbar's ``action`` button has the focus."""
    for _ in range(presses):
        if focus(browser) == action:
            return
        browser.press_keys("Tab")
    raise AssertionError(f"Tab never reached the toolbar's {action!r} button")


def start_with_enter(browser, sites, action: str) -> None:
    """Select everyone with a click on Select all, then Tab to ``action`` and press Enter."""
    browser.open_allocation(sites)
    browser.press("select-all")
    tab_to(browser, action)
    sites.reset_hits()
    browser.press_keys("Return")


def assert_readable(found: list[dict], states: set[str]) -> None:
    low = [entry for entry in found if entry["ratio"] < 4.5]
    assert not low, low
    assert states <= {entry["state"] for entry in found}, found


def test_enter_on_get_codes_keeps_the_focus_on_the_toolbar_and_announces_start_and_end(
    keyboard_user, sites, cohort
):
    browser = keyboard_user
    sites.latency = 0.2  # long enough to look at the running job
    start_with_enter(browser, sites, "codes")
    # The pressed button is disabled while the job runs: the focus moves to Cancel.
    browser.wait(lambda: focus(browser) == "cancel", "the focus on Cancel", 30)
    assert announced(browser) == f"Getting confirmation codes for {len(cohort.students)} students."
    assert browser.run_in_toolbar(
        "(root) => { const live = root.querySelector('[data-role=\"announce\"]');"
        " return [live.getAttribute('role'), live.getAttribute('aria-live')]; }"
    ) == ["status", "polite"]
    assert sites.etma_hits[("POST", "/etma/student")] < len(cohort.students)

    browser.wait_for_message("25 done, 5 with nothing submitted", timeout=120)
    # Cancel is disabled at the end: the focus goes back to the button that started the job.
    browser.wait(lambda: focus(browser) == "codes", "the focus back on Get confirmation codes")
    assert announced(browser) == "Finished: 25 done, 5 with nothing submitted."
    assert_readable(contrasts(browser), {"done", "not_submitted"})


def test_every_state_colour_reads_at_4_5_to_1_on_white_and_banded_rows(
    keyboard_user, sites, cohort
):
    browser = keyboard_user
    # Failed, needs-login, done and nothing-submitted rows, after Enter on Download.
    failing = [s.pi for s in cohort.students if s.files][:2]
    sites.faults = Faults(per_pi=dict.fromkeys(failing, "corrupt"), session_expires_after=20)
    sites.latency = 0.05
    start_with_enter(browser, sites, "download")
    browser.wait(lambda: focus(browser) in {"cancel", "login-etma"}, "the focus on the toolbar", 30)
    browser.wait_for_message("Log in to eTMA again", timeout=120)
    browser.wait_for_finished_rows(len(cohort.students))
    # Cancel is gone: the focus is on the first next step.
    browser.wait(lambda: focus(browser) == "login-etma", "the focus on Log in to eTMA")
    assert next_steps(browser) == ["login-etma", "run-again", "retry-failed"]
    assert announced(browser).startswith("Log in to eTMA again")

    found = contrasts(browser)
    assert_readable(found, {"done", "failed", "not_submitted", "needs_login", "error"})
    rows = [entry for entry in found if ".etma-helper-words" in entry["selector"]]
    for state in ("done", "failed", "needs_login"):
        assert {WHITE_ROW, BANDED_ROW} <= {e["band"] for e in rows if e["state"] == state}, state

    # Logged in again, Enter on Run again: its button goes, and the focus stays on the toolbar.
    sites.faults = Faults()
    press_log_in_to_etma(browser, sites)
    tab_to(browser, "run-again")
    sites.reset_hits()
    browser.press_keys("Return")
    browser.wait(lambda: sites.etma_hits[("POST", "/etma/student")] > 0, "the job running again")
    browser.stays(lambda: focus(browser) in {"cancel", "download"}, 1, "the focus on the toolbar")
    browser.wait_for_message("Finished", timeout=120)
    browser.wait(lambda: focus(browser) == "download", "the focus back on Download scripts")


def test_a_job_that_never_started_shows_no_progress_words(tmp_path, sites, cohort, start_browser):
    bare = install_helper(tmp_path / "home", register=False)
    browser = start_browser(bare, signed_in_to=sites)
    browser.download_first_row(sites, cohort.students[0].pi, "not installed")
    browser.wait_for_rows(lambda s: set(s.values()) == {"idle"}, "every row idle", 10)
    browser.stays(
        lambda: browser.toolbar_text("progress-text") == "" and counts(browser) == {},
        1,
        "no progress words and no counts",
    )
    assert next_steps(browser) == []
    assert "not installed" in announced(browser)
