"""A job's files are where its summary says, in the browser too: after the tutor changes the
download folder on the options page, the same students' files end up in the new folder."""

from __future__ import annotations

import shutil

from tests.e2e.files import files_on_disk, served_files


def tick_and_download(browser, sites, pis, expected: str) -> str:
    browser.open_allocation(sites)
    for pi in pis:
        browser.tick(pi)
    browser.press("download")
    return browser.wait_for_message(expected, timeout=60)


def test_changing_the_download_folder_puts_the_same_students_files_in_the_new_one(
    browser, sites, cohort, installed
):
    elsewhere = installed.home / "Scripts elsewhere"
    pis = [s.pi for s in cohort.students if s.files][:2]
    try:
        first = tick_and_download(browser, sites, pis, "2 done")
        assert str(installed.download_root / "TM351" / "TMA02") in first
        fetched = sites.etma_hits[("POST", "/etma/download")]
        browser.save_helper_settings("#download-root", str(elsewhere))
        browser.wait_for_text("#helper-status", "Saved by the helper")
        second = tick_and_download(browser, sites, pis, "2 done")
        new_folder = elsewhere / "TM351" / "TMA02"
        assert str(new_folder) in second
        assert "copied from" in second and str(installed.download_root) in second
        for pi in pis:
            assert files_on_disk(new_folder / pi) == served_files(cohort, pi)
        assert sites.etma_hits[("POST", "/etma/download")] == fetched  # copied, not fetched
    finally:
        installed.write_config()
        shutil.rmtree(elsewhere, ignore_errors=True)
