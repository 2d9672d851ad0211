"""What a tutor installs knows only the university's OSCAR pages and no eTMA address; the practice
build used by the tests and the demo adds the practice sites. Without an eTMA address, the toolbar,
the popup and the options page say where to set it."""

from __future__ import annotations

import json

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from tests import chromium, practice_extension

PRACTICE_HOSTS = ("127.0.0.1", "127.0.0.2", "localhost")


def read_json(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_shipped_extension_names_no_practice_host_and_no_etma_address():
    shipped = practice_extension.SOURCE
    manifest_text = (shipped / "manifest.json").read_text(encoding="utf-8")
    assert not [host for host in PRACTICE_HOSTS if host in manifest_text]
    manifest = json.loads(manifest_text)
    assert [script["matches"] for script in manifest["content_scripts"]] == [
        ["https://*.open.ac.uk/oscar/*"]
    ]
    assert manifest["host_permissions"] == ["https://*.open.ac.uk/*"]  # the eTMA cookies
    assert read_json(shipped / "defaults.json") == {"etmaUrl": ""}
    for source in shipped.rglob("*.js"):
        text = source.read_text(encoding="utf-8")
        assert not [host for host in PRACTICE_HOSTS if host in text], source


def test_the_practice_build_adds_the_practice_sites_and_keeps_the_id(tmp_path):
    built = practice_extension.build(tmp_path / "extension")
    shipped, practice = (
        read_json(practice_extension.SOURCE / "manifest.json"),
        read_json(built / "manifest.json"),
    )
    assert practice["key"] == shipped["key"]  # the same extension id
    assert practice["content_scripts"][0]["matches"] == [
        "https://*.open.ac.uk/oscar/*",
        *practice_extension.PRACTICE_OSCAR_PAGES,
    ]
    assert set(practice["host_permissions"]) == {
        "https://*.open.ac.uk/*",
        *practice_extension.PRACTICE_HOSTS,
    }
    assert read_json(built / "defaults.json") == {"etmaUrl": practice_extension.PRACTICE_ETMA_URL}
    assert (built / "content" / "oscar.js").read_bytes() == (
        practice_extension.SOURCE / "content" / "oscar.js"
    ).read_bytes()


def test_without_an_etma_address_toolbar_popup_and_options_say_where_to_set_it(
    tmp_path, sites, cohort
):
    bare = chromium.install_helper(tmp_path / "home", register=False)
    extension = practice_extension.build(tmp_path / "extension", etma_url=None)
    driver = chromium.start_chromium(bare, extension=extension)
    try:
        chromium.log_in(driver, sites.oscar_url + "oscar/login", *sites.OSCAR_LOGIN)
        toolbar = chromium.open_allocation(driver, sites)
        driver.find_elements(By.CSS_SELECTOR, "input.etma-helper-select")[0].click()
        chromium.click_toolbar(driver, toolbar, "download")
        message = chromium.wait_for_message(driver, toolbar, "eTMA address", timeout=20)
        assert "Set the eTMA address in the options" in message
        chromium.wait(driver, 10).until(lambda d: set(chromium.row_states(d).values()) == {"idle"})

        chromium.open_extension_page(driver, "popup/popup.html")
        notice = chromium.wait(driver).until(
            EC.visibility_of_element_located((By.ID, "etma-address"))
        )
        assert "set the eTMA address in the options" in notice.text

        chromium.open_extension_page(driver, "options/options.html")
        chromium.wait(driver).until(
            EC.text_to_be_present_in_element((By.ID, "status"), "Not set yet")
        )
        assert driver.find_element(By.ID, "etma-url").get_attribute("value") == ""
        assert cohort.students  # the practice OSCAR served the table the toolbar sat on
    finally:
        driver.quit()
