"""Sign-in through the university's central sign-on, in real Chromium and Firefox.

The eTMA session ends part-way through a job and eTMA sends everyone to a sign-on host of its own
(a third loopback address): a SAML identity provider answering with a self-posting form, or a
SAMS-style login with ``?URL=``. The helper stops at "needs login" without ever contacting that
host; the page's "Log in to eTMA" opens eTMA, which leads the tutor through the sign-on host and
back; "Run again" then fetches exactly the students that did not finish.
"""

from __future__ import annotations

import pytest

from tests.e2e.page_checks import next_steps, press_log_in_to_etma, run_again_fetches_exactly
from tests.sites import Faults

FINISHED_WELL = {"done", "not_submitted"}


def sign_in_through_signon_host(browser, sites) -> None:
    """In the tab "Log in to eTMA" opened: eTMA hands over to the sign-on host; the tutor signs
    in there, and the sign-on host's answer (a self-posting form, or a redirect with a ticket)
    brings the tab back to eTMA's search page."""
    browser.wait(lambda: browser.current_url().startswith(sites.signon_url), "the sign-on host")
    browser.fill("form input[type=text], form input:not([type])", sites.SIGNON_LOGIN[0])
    browser.fill("form input[type=password]", sites.SIGNON_LOGIN[1])
    browser.click("form [type=submit]")
    browser.wait(
        lambda: browser.current_url().startswith(sites.etma_url + "etma/admin") and browser.ready(),
        "eTMA's search page after signing in",
        timeout=30,
    )


@pytest.mark.parametrize("mode", ["saml", "sams"])
def test_signon_expiry_log_in_through_the_signon_host_then_run_again_finishes_the_rest(
    browser, sites, cohort, mode
):
    sites.signon = mode
    sites.faults = Faults(session_expires_after=20)
    browser.open_allocation(sites)
    browser.press("select-all")
    sites.reset_hits()
    browser.press("download")
    browser.wait_for_message("Log in to eTMA again", timeout=120)
    states = browser.wait_for_finished_rows(len(cohort.students))
    rest = sorted(pi for pi, state in states.items() if state not in FINISHED_WELL)
    assert rest and len(rest) < len(cohort.students)
    assert {states[pi] for pi in rest} == {"needs_login"}
    assert next_steps(browser) == ["login-etma", "run-again"]
    # eTMA sent the helper to the sign-on host; the helper never went there.
    assert sites.signon_requests == []

    sites.faults = Faults()  # the session the tutor signs in to now lasts
    press_log_in_to_etma(browser, sites, sign_in=sign_in_through_signon_host)
    assert sites.signon_requests, "the browser signed in at the sign-on host"
    assert not any("ETMA_SESSION" in request.cookie for request in sites.signon_requests)

    run_again_fetches_exactly(browser, sites, cohort, rest)
    assert sites.signon_requests == []  # the rerun went straight to eTMA
