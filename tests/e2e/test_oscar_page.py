"""The tutor's flow in real Chromium and real Firefox: the extension on OSCAR, the helper
installed by install.py over native messaging, the practice eTMA at the other end, and files
checked on disk."""

from __future__ import annotations

import json
import re

from tests.browsers import chromium, firefox
from tests.browsers.session import FINAL_STATES
from tests.e2e.files import codes_table, files_on_disk, served_files


def test_install_registers_the_helper_with_both_browsers(installed):
    for profile in installed.chromium_profiles:
        registered = json.loads(installed.chromium_manifest(profile).read_text())
        assert registered["allowed_origins"] == [f"chrome-extension://{chromium.EXTENSION_ID}/"]
        assert registered["path"].startswith(str(installed.prefix))
    registered = json.loads(installed.firefox_manifest.read_text())
    assert registered["allowed_extensions"] == [firefox.EXTENSION_ID]
    assert registered["path"].startswith(str(installed.prefix))


def test_select_all_and_download_fetches_every_script_and_code(browser, sites, cohort, installed):
    browser.open_allocation(sites)
    assert len(browser.row_states()) == len(cohort.students)
    browser.press("select-all")
    assert browser.toolbar_text("count").startswith("30")
    browser.press("download")

    message = browser.wait_for_message("codes in")
    # Five students submitted nothing: counted apart, not as failures.
    assert "25 done" in message and "5 with nothing submitted" in message
    assert "failed" not in message
    states = browser.wait_for_finished_rows(len(cohort.students))
    texts = browser.status_texts()
    module_folder = installed.download_root / "TM351" / "TMA02"
    for student in cohort.students:
        if student.files:
            assert states[student.pi] == "done", texts[student.pi]
            assert files_on_disk(module_folder / student.pi) == served_files(cohort, student.pi)
        else:
            assert states[student.pi] == "not_submitted", texts[student.pi]
            assert texts[student.pi].startswith("Nothing submitted")
        assert student.code in texts[student.pi]
    assert codes_table(module_folder) == {s.pi: s.code for s in cohort.students}
    assert not (module_folder / ".etma-partial").exists()


def test_codes_for_a_shift_selected_range(browser, sites, cohort, installed):
    browser.open_allocation(sites)
    browser.tick(cohort.students[2].pi)
    browser.tick(cohort.students[6].pi, shift=True)
    assert browser.toolbar_text("count").startswith("5 of")
    browser.press("codes")

    # The range holds one student who submitted nothing: their code is still shown.
    browser.wait_for_message("4 done, 1 with nothing submitted")
    states = browser.wait_for_finished_rows(5)
    texts = browser.status_texts()
    for student in cohort.students[2:7]:
        if student.files:
            assert states[student.pi] == "done"
            assert texts[student.pi] == f"Code {student.code}"
        else:
            assert states[student.pi] == "not_submitted"
            assert texts[student.pi] == f"Nothing submitted · Code {student.code}"
    assert sites.etma_hits[("POST", "/etma/student")] == 5
    # The popup's recent jobs count them in the same words as the page.
    browser.open_popup()
    newest = browser.wait_for_text("#recent li[data-job-id]", "TM351")
    assert "4 done" in newest and "1 with nothing submitted" in newest
    assert sites.etma_hits[("POST", "/etma/download")] == 0
    assert not any(p.is_dir() for p in (installed.download_root / "TM351" / "TMA02").iterdir())


def test_expired_etma_session_asks_the_tutor_to_log_in_again(browser, sites, cohort):
    sites.expire_etma_sessions()
    pi = cohort.students[0].pi
    browser.download_first_row(sites, pi, "Log in to eTMA again")
    browser.wait_for_rows(lambda s: s[pi] == "needs_login", f"{pi} to need a login")
    assert "Log in to eTMA again" in browser.status_text(pi)


def test_cancel_counts_cancelled_students_apart_from_finished_ones(browser, sites, cohort):
    sites.latency = 0.2  # slow enough to cancel in the middle; fresh_sites restores it
    total = len(cohort.students)
    browser.open_allocation(sites)
    browser.press("select-all")
    sites.reset_hits()
    browser.press("codes")
    browser.wait(lambda: sites.etma_hits[("POST", "/etma/student")] >= 3, "3 searches", 60)
    browser.press("cancel")
    browser.wait_for_message("Cancelled", timeout=60)

    text = browser.wait(
        lambda: "finished" in (t := browser.toolbar_text("progress-text")) and t,
        "the progress line to count the finished",
        10,
    )
    counted = re.fullmatch(rf"(\d+) of {total} finished, (\d+) cancelled", text)
    assert counted, text
    finished, cancelled = map(int, counted.groups())
    assert cancelled > 0 and finished + cancelled == total
    states = list(browser.wait_for_finished_rows(total, timeout=10).values())
    assert states.count("cancelled") == cancelled
    # Finished: done, or nothing submitted (the cohort has students who submitted nothing).
    assert states.count("done") + states.count("not_submitted") == finished
    assert set(states) <= FINAL_STATES

    job = browser.popup_job("Cancelled")
    assert f"{finished} of {total} students finished, {cancelled} cancelled" in job
