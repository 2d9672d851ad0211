"""A tutor with 300 students, in real Chromium and Firefox: the toolbar stays in view with live
counts while the page scrolls, "Show problems only" hides exactly the done rows and brings them
back, and a cancelled job says how many of the 300 finished."""

from __future__ import annotations

import re

import pytest

from tests.e2e.page_checks import contrasts, counts
from tests.sites import Cohort, PracticeSites

SIZE = 300

# Where the toolbar and its counts are, relative to the window.
IN_VIEW = """
(root) => {
  const inside = (rect) => rect.height > 0 && rect.top >= 0 && rect.bottom <= window.innerHeight;
  const counts = root.querySelector('[data-role="counts"]').getBoundingClientRect();
  return { bar: inside(root.host.getBoundingClientRect()), counts: inside(counts),
           scrolled: window.scrollY,
           bottom: document.documentElement.scrollHeight - window.innerHeight };
}
"""

HIDDEN_ROWS = (
    "() => [...document.querySelectorAll('tr[data-etma-pi]')]"
    ".filter(r => r.getClientRects().length === 0).map(r => r.dataset.etmaPi)"
)


@pytest.fixture(scope="module")
def big_sites():
    with PracticeSites(Cohort(size=SIZE, seed=351, module="TM351", assignment="TMA02")) as running:
        yield running


@pytest.fixture
def big(browser, big_sites, sites):
    """The shared browser on the 300-student practice sites (their eTMA address saved, signed
    in); the usual sites' address is saved again afterwards."""
    big_sites.latency = 0.0
    browser.set_etma_address(big_sites.etma_url + "etma/admin")
    browser.sign_in(big_sites)
    yield browser
    browser.set_etma_address(sites.etma_url + "etma/admin")


def start_codes_for_everyone(browser, sites) -> None:
    browser.open_allocation(sites)
    browser.press("select-all")
    assert browser.toolbar_text("count") == f"{SIZE} of {SIZE} selected"
    sites.reset_hits()
    browser.press("codes")


def test_the_toolbar_stays_in_view_and_show_problems_only_hides_exactly_the_done(big, big_sites):
    browser, sites = big, big_sites
    cohort = sites.cohort
    submitted = sum(1 for s in cohort.students if s.files)
    sites.latency = 0.02
    start_codes_for_everyone(browser, sites)
    # The counts are live: part-way through, some are done and the job is still running.
    browser.wait(
        lambda: 0 < int(counts(browser).get("done", "0 done").split()[0]) < submitted,
        "a live count part-way through",
        60,
    )
    browser.wait_for_message("Finished", timeout=180)
    states = browser.wait_for_finished_rows(SIZE, timeout=30)
    done = {pi for pi, state in states.items() if state == "done"}
    assert len(done) == submitted
    assert counts(browser) == {
        "done": f"{submitted} done",
        "failed": "0 failed",
        "not_submitted": f"{SIZE - submitted} not submitted",
        "needs_login": "0 need login",
    }

    browser.run("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    where = browser.run_in_toolbar(IN_VIEW)
    assert where["scrolled"] > 0 and where["scrolled"] >= where["bottom"] - 1, where
    assert where["bar"] and where["counts"], where

    browser.press("problems-only")
    browser.wait(lambda: set(browser.run(HIDDEN_ROWS)) == done, "exactly the done rows hidden")
    assert browser.attribute('[data-action="problems-only"]', "aria-pressed", in_toolbar=True) == (
        "true"
    )
    assert browser.run_in_toolbar(IN_VIEW)["bar"]
    low = [e for e in contrasts(browser) if e["ratio"] < 4.5]
    assert not low, low

    browser.press("problems-only")
    browser.wait(lambda: browser.run(HIDDEN_ROWS) == [], "every row shown again")
    assert browser.attribute('[data-action="problems-only"]', "aria-pressed", in_toolbar=True) == (
        "false"
    )


def test_a_cancelled_job_says_how_many_of_the_300_finished(big, big_sites):
    browser, sites = big, big_sites
    sites.latency = 0.1
    start_codes_for_everyone(browser, sites)
    browser.wait(lambda: sites.etma_hits[("POST", "/etma/student")] >= 20, "20 searches", 60)
    browser.press("cancel")
    message = browser.wait_for_message("Cancelled", timeout=60)
    said = re.match(rf"Cancelled: (\d+) of {SIZE} finished\.", message)
    assert said, message
    states = browser.wait_for_finished_rows(SIZE, timeout=30)
    finished = sum(1 for state in states.values() if state in {"done", "not_submitted"})
    assert int(said.group(1)) == finished and 0 < finished < SIZE
    assert list(states.values()).count("cancelled") == SIZE - finished
    # Cancelled rows are problems too: the filter keeps them.
    browser.press("problems-only")
    hidden = set(browser.run(HIDDEN_ROWS))
    assert hidden == {pi for pi, state in states.items() if state == "done"}
    low = [e for e in contrasts(browser) if e["ratio"] < 4.5]
    assert not low, low
    assert "cancelled" in {e["state"] for e in contrasts(browser)}
