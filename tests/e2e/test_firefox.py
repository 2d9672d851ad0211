"""The tutor's flow in real Firefox: the same extension/ source as a temporary add-on, the helper
registered by install.py for Firefox in a private HOME, real native messaging to it, the practice
eTMA at the other end, and the files checked on disk (as test_oscar_page.py does in Chromium)."""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from io import BytesIO

import pytest

from tests import chromium, firefox


def served_files(cohort, pi) -> dict[str, bytes]:
    with zipfile.ZipFile(BytesIO(cohort.zip_bytes(pi))) as archive:
        return {i.filename: archive.read(i) for i in archive.infolist() if not i.is_dir()}


def files_on_disk(folder) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def firefox_install(tmp_path_factory) -> chromium.HelperInstall:
    return chromium.install_helper(tmp_path_factory.mktemp("firefox-home"), browser="firefox")


@pytest.fixture(scope="module")
def logged_in_firefox(firefox_install, sites):
    browser = firefox.start_firefox(firefox_install)
    try:
        firefox.set_etma_address(browser, sites.etma_url + "etma/admin")
        firefox.log_in_to_both(browser, sites)
        yield browser
    finally:
        browser.quit()


@pytest.fixture
def browser(logged_in_firefox, firefox_install, fresh_sites):
    """The module's Firefox, with an empty download folder and fresh site sessions."""
    shutil.rmtree(firefox_install.download_root, ignore_errors=True)
    firefox.log_in_to_both(logged_in_firefox, fresh_sites)
    return logged_in_firefox


@pytest.fixture
def firefox_without_helper(tmp_path, sites):
    bare = chromium.install_helper(tmp_path / "home", register=False, browser="firefox")
    browser = firefox.start_firefox(bare)
    try:
        firefox.set_etma_address(browser, sites.etma_url + "etma/admin")
        firefox.log_in_to_both(browser, sites)
        yield browser
    finally:
        browser.quit()


def test_install_registers_the_helper_for_firefox(firefox_install):
    manifest = firefox_install.home / ".mozilla/native-messaging-hosts/etma_helper.json"
    registered = json.loads(manifest.read_text())
    assert registered["allowed_extensions"] == [firefox.EXTENSION_ID]
    assert registered["path"].startswith(str(firefox_install.prefix))


def test_select_all_and_download_in_firefox(browser, sites, cohort, firefox_install):
    firefox.open_allocation(browser, sites)
    assert len(firefox.row_states(browser)) == len(cohort.students)
    firefox.click_toolbar(browser, "select-all")
    count = firefox.toolbar_text(browser, "[data-role=count]")
    assert count.startswith("30")
    firefox.click_toolbar(browser, "download")

    message = firefox.wait_for_message(browser, "codes in")
    assert "25 done" in message and "5 failed" in message
    states = firefox.wait_for_rows(browser, chromium.FINAL_STATES)
    texts = firefox.status_texts(browser)
    module_folder = firefox_install.download_root / "TM351" / "TMA02"
    for student in cohort.students:
        if student.files:
            assert states[student.pi] == "done", texts[student.pi]
            assert files_on_disk(module_folder / student.pi) == served_files(cohort, student.pi)
        else:
            assert states[student.pi] == "failed"
            assert "No files" in texts[student.pi]
        assert student.code in texts[student.pi]
    with open(module_folder / "confirmation_codes.csv", newline="", encoding="utf-8") as table:
        codes = {row["PI"]: row["Code"] for row in csv.DictReader(table)}
    assert codes == {s.pi: s.code for s in cohort.students}
    assert not (module_folder / ".etma-partial").exists()


def test_download_without_the_helper_names_the_install_command(firefox_without_helper, sites):
    browser = firefox_without_helper
    firefox.open_allocation(browser, sites)
    browser.click("document.querySelector('input.etma-helper-select')")
    firefox.click_toolbar(browser, "download")
    message = firefox.wait_for_message(browser, "not installed", timeout=20)
    assert "python3 install.py" in message
    assert set(firefox.wait_for_rows(browser, {"idle"}).values()) == {"idle"}
