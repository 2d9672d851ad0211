"""Interruptions in the browser: the page reloaded or closed mid-job, the helper killed mid-job,
and a helper registered for another extension. The state stays true and the job can be resumed."""

from __future__ import annotations

import os
import signal

from tests.browsers.helper_install import registered_elsewhere


def done_rows(browser) -> int:
    return sum(1 for state in browser.row_states().values() if state == "done")


def start_job_for_everyone(browser, sites, action: str = "download") -> None:
    """Start a job for every row and return once eTMA has served three of its students.

    eTMA's own count tells: the rows may still show an earlier job's states for a moment.
    """
    browser.open_allocation(sites)
    browser.press("select-all")
    sites.reset_hits()
    browser.press(action)
    path = "/etma/download" if action == "download" else "/etma/student"
    browser.wait(lambda: sites.etma_hits[("POST", path)] >= 3, f"3 of {path}", 60)
    browser.wait(lambda: done_rows(browser) >= 1, "a row done")


def test_reloading_the_page_mid_job_picks_the_job_up_again(browser, sites, cohort, installed):
    sites.latency = 0.05
    start_job_for_everyone(browser, sites)
    browser.reload()
    browser.wait_for_toolbar()
    browser.wait_for_message("25 done")
    browser.wait_for_finished_rows(len(cohort.students))
    assert done_rows(browser) == 25
    for student in cohort.students:
        assert (installed.download_root / "TM351" / "TMA02" / student.pi).is_dir() == bool(
            student.files
        )


def test_closing_the_tab_mid_job_lets_it_finish_and_the_popup_says_so(browser, sites):
    sites.latency = 0.05
    first = browser.current_tab()
    browser.new_tab()
    start_job_for_everyone(browser, sites, action="codes")
    browser.close_tab()
    browser.switch_to_tab(first)
    text = browser.popup_job("Finished", timeout=60)
    assert "25 done" in text and "5 with nothing submitted" in text and "Confirmation codes" in text


def test_helper_killed_mid_job_is_reported_and_a_rerun_finishes_the_rest(
    browser, sites, cohort, installed
):
    sites.latency = 0.1
    start_job_for_everyone(browser, sites)
    helpers = browser.helper_pids()
    assert helpers, "the browser started no helper"
    for pid in helpers:
        os.kill(pid, signal.SIGKILL)
    # The job ends at once, naming the fix.
    message = browser.wait_for_message("python3 install.py", timeout=60)
    states = browser.wait_for_rows(
        lambda s: not {"working", "queued"} & set(s.values()), "no row working or queued"
    )
    finished = [pi for pi, state in states.items() if state == "done"]
    assert finished
    assert "Stopped" in browser.popup_job("Stopped")

    # A student's folder appears only once all of its files are in (partial downloads wait in
    # .etma-partial); the page never claims one that is not there.
    module_folder = installed.download_root / "TM351" / "TMA02"
    on_disk = {s.pi for s in cohort.students if (module_folder / s.pi).is_dir()}
    assert set(finished) <= on_disk

    sites.reset_hits()
    browser.open_allocation(sites)
    browser.press("select-all")
    browser.press("download")
    browser.wait_for_message("25 done")
    # The rerun fetches every student not yet on disk, and none the page showed done. (The kill
    # may land while a student is being finished: the one between is fetched again or not,
    # depending on whether the ledger had recorded it.)
    with_files = {s.pi for s in cohort.students if s.files}
    fetched = sites.etma_hits[("POST", "/etma/download")]
    assert len(with_files - on_disk) <= fetched <= len(with_files - set(finished))
    assert all((module_folder / pi).is_dir() for pi in with_files)

    assert "stopped" in message


def test_helper_registered_for_another_extension_is_refused_with_the_fix(
    tmp_path, sites, cohort, installed, start_browser
):
    other = registered_elsewhere(
        installed,
        tmp_path / "home",
        allowed_origins=["chrome-extension://abcdefghijklmnopabcdefghijklmnop/"],
        allowed_extensions=["someone-else@example.org"],
    )
    browser = start_browser(other, signed_in_to=sites)
    # Chromium says the registration is another extension's; Firefox treats a registration for
    # another extension as no registration at all ("No such native application"), so the
    # extension cannot tell the two apart there. Either way the page names the fix.
    expected = "different copy" if browser.name == "chromium" else "not installed"
    message = browser.download_first_row(sites, cohort.students[0].pi, expected)
    assert "python3 install.py" in message
