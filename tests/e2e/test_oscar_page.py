"""The tutor's flow in real Chromium: the extension on OSCAR, the installed helper over native
messaging, the practice eTMA at the other end, and files checked on disk."""

from __future__ import annotations

import csv
import re
import zipfile
from io import BytesIO

from selenium.webdriver.common.by import By

from tests import chromium


def served_files(cohort, pi) -> dict[str, bytes]:
    with zipfile.ZipFile(BytesIO(cohort.zip_bytes(pi))) as archive:
        return {i.filename: archive.read(i) for i in archive.infolist() if not i.is_dir()}


def files_on_disk(folder) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def status_text(driver, pi) -> str:
    return driver.find_element(
        By.CSS_SELECTOR, f'tr[data-etma-pi="{pi}"] td.etma-helper-status'
    ).text


def test_select_all_and_download_fetches_every_script_and_code(driver, sites, cohort, installed):
    toolbar = chromium.open_allocation(driver, sites)
    rows = driver.find_elements(By.CSS_SELECTOR, "tr[data-etma-pi]")
    assert len(rows) == len(cohort.students)
    chromium.click_toolbar(driver, toolbar, "select-all")
    assert toolbar.find_element(By.CSS_SELECTOR, '[data-role="count"]').text.startswith("30")
    chromium.click_toolbar(driver, toolbar, "download")

    chromium.wait_for_message(driver, toolbar, "25 done")
    states = chromium.row_states(driver)
    module_folder = installed.download_root / "TM351" / "TMA02"
    for student in cohort.students:
        if student.files:
            assert states[student.pi] == "done", status_text(driver, student.pi)
            assert files_on_disk(module_folder / student.pi) == served_files(cohort, student.pi)
        else:
            assert states[student.pi] == "failed"
            assert "No files" in status_text(driver, student.pi)
        assert student.code in status_text(driver, student.pi)
    with open(module_folder / "confirmation_codes.csv", newline="", encoding="utf-8") as table:
        codes = {row["PI"]: row["Code"] for row in csv.DictReader(table)}
    assert codes == {s.pi: s.code for s in cohort.students}
    assert "5 failed" in chromium.message_line(toolbar)
    assert not (module_folder / ".etma-partial").exists()


def test_codes_for_a_shift_selected_range(driver, sites, cohort, installed):
    toolbar = chromium.open_allocation(driver, sites)
    boxes = driver.find_elements(By.CSS_SELECTOR, "input.etma-helper-select")
    boxes[2].click()
    chromium.shift_click(driver, boxes[6])
    chromium.click_toolbar(driver, toolbar, "codes")

    chromium.wait_for_message(driver, toolbar, "5 done")
    states = chromium.row_states(driver)
    for student in cohort.students[2:7]:
        assert states[student.pi] == "done"
        assert status_text(driver, student.pi) == f"Code {student.code}"
    assert sites.etma_hits[("POST", "/etma/student")] == 5
    assert sites.etma_hits[("POST", "/etma/download")] == 0
    assert not any(p.is_dir() for p in (installed.download_root / "TM351" / "TMA02").iterdir())


def test_expired_etma_session_asks_the_tutor_to_log_in_again(driver, sites, cohort):
    sites.expire_etma_sessions()
    chromium.download_first_row(driver, sites, "Log in to eTMA again")
    pi = cohort.students[0].pi
    assert chromium.row_states(driver)[pi] == "needs_login"
    assert "Log in to eTMA again" in status_text(driver, pi)


def test_cancel_counts_cancelled_students_apart_from_finished_ones(driver, sites, cohort):
    sites.latency = 0.2  # slow enough to cancel in the middle; fresh_sites restores it
    total = len(cohort.students)
    toolbar = chromium.open_allocation(driver, sites)
    chromium.click_toolbar(driver, toolbar, "select-all")
    sites.reset_hits()
    chromium.click_toolbar(driver, toolbar, "codes")
    chromium.wait(driver, 60).until(lambda d: sites.etma_hits[("POST", "/etma/student")] >= 3)
    chromium.click_toolbar(driver, toolbar, "cancel")
    chromium.wait_for_message(driver, toolbar, "Cancelled", timeout=60)

    progress = toolbar.find_element(By.CSS_SELECTOR, '[data-role="progress-text"]')
    text = chromium.wait(driver, 10).until(lambda d: "finished" in progress.text and progress.text)
    counted = re.fullmatch(rf"(\d+) of {total} finished, (\d+) cancelled", text)
    assert counted, text
    finished, cancelled = map(int, counted.groups())
    assert cancelled > 0 and finished + cancelled == total
    states = list(chromium.row_states(driver).values())
    assert states.count("cancelled") == cancelled
    assert states.count("done") == finished

    chromium.open_extension_page(driver, "popup/popup.html")
    job = chromium.wait(driver).until(
        lambda d: "Cancelled" in (t := d.find_element(By.ID, "job").text) and t
    )
    assert f"{finished} of {total} students finished, {cancelled} cancelled" in job
