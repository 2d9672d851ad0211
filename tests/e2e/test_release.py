"""The release a tutor keeps, as scripts/build makes it. In Firefox ESR: the unsigned .xpi
installed for good (as from about:addons, with xpinstall.signatures.required off), still there
when Firefox starts again, and the tutor's flow working from it; the release knows neither
practice site, so the tutor sets both addresses on its options page, as README says (the eTMA
address, and their own OSCAR address). In Chromium: the release folder loaded unpacked, with
the id the helper's registration allows, reaching the helper."""

from __future__ import annotations

import json
from pathlib import Path

from tests.browsers.chromium import ChromiumSession
from tests.browsers.firefox import EXTENSION_ID, FirefoxSession
from tests.browsers.helper_install import install_helper
from tests.browsers.session import BrowserSession
from tests.e2e.files import files_on_disk, served_files
from tests.unit.test_release_build import load_build

TEST_PROFILE = {
    "xpinstall.signatures.required": False,  # an unsigned .xpi, as in Firefox ESR (README)
    # The options page asks for the practice sites' permissions; a tutor answers Allow in the
    # browser's prompt, which this headless Firefox cannot show: it grants them unasked.
    "extensions.webextOptionalPermissionPrompts": False,
}


def installed_addon(profile: Path) -> dict | None:
    """The add-on as Firefox recorded it in the profile (extensions.json), if it is there."""
    try:
        addons = json.loads((profile / "extensions.json").read_text())["addons"]
    except (OSError, ValueError, KeyError):
        return None
    return next((addon for addon in addons if addon.get("id") == EXTENSION_ID), None)


def test_the_release_xpi_installs_for_good_in_firefox_esr_and_downloads_from_it(
    tmp_path, sites, cohort
):
    built = load_build().build(tmp_path / "dist")
    install = install_helper(tmp_path / "home", browsers=("firefox",), chromium_profiles=())
    profile = install.home / "firefox-release"
    first = FirefoxSession.start(
        install, extension=built["firefox"], profile=profile, prefs=TEST_PROFILE, permanent=True
    )
    first.quit()
    addon = installed_addon(profile)
    assert addon is not None, "the add-on is not in the profile"
    assert addon["location"] == "app-profile" and addon["active"], addon  # not temporary
    assert (
        addon["version"] == json.loads((built["folder"] / "manifest.json").read_text())["version"]
    )

    browser = FirefoxSession.start(
        install, profile=profile, prefs=TEST_PROFILE, install_extension=False
    )
    try:
        download_as_a_tutor(browser, install, sites, cohort)  # its own page: it survived
    finally:
        browser.quit()


def test_the_release_folder_loads_unpacked_in_chromium_and_reaches_the_helper(
    tmp_path, sites, cohort
):
    """Chromium asks the tutor before letting the release use the practice sites, a prompt no
    automated Chromium can answer: here the release folder loads unpacked with the id the
    helper's registration allows, and its options page talks to the helper."""
    built = load_build().build(tmp_path / "dist")
    install = install_helper(tmp_path / "home", browsers=("chromium",))
    browser = ChromiumSession.start(install, extension=built["folder"])
    try:
        browser.open_options()
        reach_the_helper(browser)
        assert "Kept by the helper on this computer" in (browser.text("#helper-settings") or "")
    finally:
        browser.quit()


def reach_the_helper(browser: BrowserSession) -> None:
    """The release's options page, once it has talked to the helper and read its settings."""
    browser.wait(
        lambda: browser.attribute("#helper-banner", "data-state") == "connected",
        "the options page to reach the helper",
    )
    # The release has no eTMA address: the page says so once it has read the settings.
    browser.wait_for_text("#status", "Not set yet")
    assert browser.value("#etma-url") == ""


def download_as_a_tutor(browser: BrowserSession, install, sites, cohort) -> None:
    """Set both addresses on the release's options page, then download one student's scripts
    from the practice OSCAR page and check them on disk."""
    browser.open_options()
    reach_the_helper(browser)
    browser.fill("#etma-url", sites.etma_url + "etma/admin")
    browser.click("#settings button[type=submit]")
    browser.wait_for_text("#status", "Saved")
    browser.fill("#oscar-patterns", "http://127.0.0.1/oscar/*")
    browser.click("#oscar-pages button[type=submit]")
    browser.wait_for_text("#oscar-status", "Reload those OSCAR pages")

    browser.sign_in(sites)
    browser.open_allocation(sites)
    student = next(s for s in cohort.students if s.files)
    browser.tick(student.pi)
    browser.press("download")
    message = browser.wait_for_message("codes in")
    assert "1 done" in message and "failed" not in message
    folder = install.download_root / cohort.module / cohort.assignment / student.pi
    assert files_on_disk(folder) == served_files(cohort, student.pi)
    assert student.code in browser.status_text(student.pi)
