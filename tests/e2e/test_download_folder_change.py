"""A job's files are where its summary says, in the browser too: after the tutor changes the
download folder on the options page, the same students' files end up in the new folder."""

from __future__ import annotations

import json
import shutil

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from tests import chromium
from tests.e2e.test_oscar_page import files_on_disk, served_files


def tick_and_download(driver, sites, pis, expected: str) -> str:
    toolbar = chromium.open_allocation(driver, sites)
    for pi in pis:
        row = driver.find_element(By.CSS_SELECTOR, f'tr[data-etma-pi="{pi}"]')
        row.find_element(By.CSS_SELECTOR, "input.etma-helper-select").click()
    chromium.click_toolbar(driver, toolbar, "download")
    return chromium.wait_for_message(driver, toolbar, expected, timeout=60)


def choose_download_folder(driver, folder) -> None:
    chromium.open_extension_page(driver, "options/options.html")
    field = chromium.wait(driver).until(EC.element_to_be_clickable((By.ID, "download-root")))
    chromium.wait(driver).until(lambda d: field.get_attribute("value"))
    field.clear()
    field.send_keys(str(folder))
    driver.find_element(By.ID, "helper-save").click()
    chromium.wait(driver).until(
        EC.text_to_be_present_in_element((By.ID, "helper-status"), "Saved by the helper")
    )


def test_changing_the_download_folder_puts_the_same_students_files_in_the_new_one(
    driver, sites, cohort, installed
):
    config = installed.home / ".config" / "etma_helper" / "config.json"
    elsewhere = installed.home / "Scripts elsewhere"
    pis = [s.pi for s in cohort.students if s.files][:2]
    try:
        first = tick_and_download(driver, sites, pis, "2 done")
        assert str(installed.download_root / "TM351" / "TMA02") in first
        fetched = sites.etma_hits[("POST", "/etma/download")]
        choose_download_folder(driver, elsewhere)
        second = tick_and_download(driver, sites, pis, "2 done")
        new_folder = elsewhere / "TM351" / "TMA02"
        assert str(new_folder) in second
        assert "copied from" in second and str(installed.download_root) in second
        for pi in pis:
            assert files_on_disk(new_folder / pi) == served_files(cohort, pi)
        assert sites.etma_hits[("POST", "/etma/download")] == fetched  # copied, not fetched
    finally:
        config.write_text(
            json.dumps({"download_root": str(installed.download_root), "concurrency": 4})
        )
        shutil.rmtree(elsewhere, ignore_errors=True)
