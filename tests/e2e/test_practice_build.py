"""What a tutor installs knows only the university's OSCAR pages and no eTMA address; the practice
build used by the tests and the demo adds the practice sites. Without an eTMA address, the toolbar,
the popup and the options page say where to set it."""

from __future__ import annotations

import json

from tests import practice_extension
from tests.browsers.helper_install import install_helper

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
    assert practice["key"] == shipped["key"]  # the same extension id in Chromium
    assert practice["browser_specific_settings"] == shipped["browser_specific_settings"]  # Firefox
    assert practice["content_scripts"][0]["matches"] == [
        "https://*.open.ac.uk/oscar/*",
        *practice_extension.PRACTICE_OSCAR_PAGES,
    ]
    assert set(practice["host_permissions"]) == {
        "https://*.open.ac.uk/*",
        *practice_extension.PRACTICE_HOSTS,
    }
    assert read_json(built / "defaults.json") == {"etmaUrl": practice_extension.PRACTICE_ETMA_URL}
    # Everything else is the shipped extension, byte for byte.
    settings = {"manifest.json", "defaults.json"}
    shipped_files, practice_files = (
        {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}
        for root in (practice_extension.SOURCE, built)
    )
    assert set(shipped_files) == set(practice_files)
    for name in set(shipped_files) - settings:
        assert practice_files[name].read_bytes() == shipped_files[name].read_bytes(), name


def test_without_an_etma_address_toolbar_popup_and_options_say_where_to_set_it(
    tmp_path, sites, cohort, start_browser
):
    bare = install_helper(tmp_path / "home", register=False)
    extension = practice_extension.build(tmp_path / "extension", etma_url=None)
    browser = start_browser(bare, extension=extension)
    browser.log_in(sites.oscar_url + "oscar/login", *sites.OSCAR_LOGIN)
    browser.open_allocation(sites)
    browser.tick(cohort.students[0].pi)
    browser.press("download")
    message = browser.wait_for_message("eTMA address", timeout=20)
    assert "Set the eTMA address in the options" in message
    browser.wait_for_rows(lambda s: set(s.values()) == {"idle"}, "every row idle", 10)

    browser.open_popup()
    browser.wait(lambda: browser.shown("#etma-address"), "the popup's eTMA address notice")
    assert "set the eTMA address in the options" in browser.text("#etma-address")

    browser.open_options()
    browser.wait_for_text("#status", "Not set yet")
    assert browser.value("#etma-url") == ""
