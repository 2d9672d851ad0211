"""Interruptions in the browser: the page reloaded or closed mid-job, the helper killed mid-job,
and a helper registered for another extension. The state stays true and the job can be resumed."""

from __future__ import annotations

import json
import signal
import subprocess

from selenium.webdriver.common.by import By

from tests import chromium


def done_rows(driver) -> int:
    return sum(1 for state in chromium.row_states(driver).values() if state == "done")


def start_download_of_everyone(driver, sites, action: str = "download"):
    """Start a job for every row and return once eTMA has served three of its students.

    eTMA's own count tells: the rows may still show an earlier job's states for a moment.
    """
    toolbar = chromium.open_allocation(driver, sites)
    chromium.click_toolbar(driver, toolbar, "select-all")
    sites.reset_hits()
    chromium.click_toolbar(driver, toolbar, action)
    path = "/etma/download" if action == "download" else "/etma/student"
    chromium.wait(driver, 60).until(lambda d: sites.etma_hits[("POST", path)] >= 3)
    chromium.wait(driver, 20).until(lambda d: done_rows(d) >= 1)
    return toolbar


def popup_text(driver) -> str:
    chromium.open_extension_page(driver, "popup/popup.html")
    chromium.wait(driver, 20).until(
        lambda d: d.find_element(By.ID, "helper").get_attribute("data-state") != "checking"
    )
    return driver.find_element(By.ID, "job").text


def test_reloading_the_page_mid_job_picks_the_job_up_again(driver, sites, cohort, installed):
    sites.latency = 0.05
    start_download_of_everyone(driver, sites)
    driver.refresh()
    toolbar = chromium.toolbar_root(driver)
    chromium.wait_for_message(driver, toolbar, "25 done")
    assert done_rows(driver) == 25
    for student in cohort.students:
        assert (installed.download_root / "TM351" / "TMA02" / student.pi).is_dir() == bool(
            student.files
        )


def test_closing_the_tab_mid_job_lets_it_finish_and_the_popup_says_so(driver, sites):
    sites.latency = 0.05
    first = driver.current_window_handle
    driver.switch_to.new_window("tab")
    start_download_of_everyone(driver, sites, action="codes")
    driver.close()
    driver.switch_to.window(first)
    chromium.open_extension_page(driver, "popup/popup.html")
    text = chromium.wait(driver, 60).until(
        lambda d: "Finished" in (t := d.find_element(By.ID, "job").text) and t
    )
    assert "30 done" in text and "Confirmation codes" in text


def helper_pids(installed) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-f", f"{installed.prefix}/venv/bin/python"], capture_output=True, text=True
    )
    return [int(pid) for pid in found.stdout.split()]


def test_helper_killed_mid_job_is_reported_and_a_rerun_finishes_the_rest(
    driver, sites, cohort, installed
):
    sites.latency = 0.1
    toolbar = start_download_of_everyone(driver, sites)
    for pid in helper_pids(installed):
        subprocess.run(["kill", f"-{signal.SIGKILL.value}", str(pid)], check=True)
    chromium.wait_for_message(driver, toolbar, "stopped")
    states = chromium.row_states(driver)
    finished = [pi for pi, state in states.items() if state == "done"]
    assert finished and "working" not in states.values() and "queued" not in states.values()
    assert "Stopped" in popup_text(driver)

    sites.reset_hits()
    toolbar = chromium.open_allocation(driver, sites)
    chromium.click_toolbar(driver, toolbar, "select-all")
    chromium.click_toolbar(driver, toolbar, "download")
    chromium.wait_for_message(driver, toolbar, "25 done")
    with_files = {s.pi for s in cohort.students if s.files}
    assert sites.etma_hits[("POST", "/etma/download")] == len(with_files - set(finished))


def test_helper_registered_for_another_extension_is_refused_with_the_fix(tmp_path, sites):
    other = chromium.install_helper(tmp_path / "home")
    manifest = other.profile / "NativeMessagingHosts" / "etma_helper.json"
    data = json.loads(manifest.read_text())
    data["allowed_origins"] = ["chrome-extension://abcdefghijklmnopabcdefghijklmnop/"]
    manifest.write_text(json.dumps(data))
    driver = chromium.start_signed_in(other, sites)
    try:
        message = chromium.download_first_row(driver, sites, "different copy")
        assert "python3 install.py" in message
    finally:
        driver.quit()
