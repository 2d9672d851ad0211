"""The release a tutor keeps, in Firefox ESR: the unsigned .xpi that scripts/build makes,
installed for good (as from about:addons, with xpinstall.signatures.required off), still there
when Firefox starts again, and the tutor's flow working from it. The release knows neither
practice site, so the tutor sets both addresses on its options page, as README says: the eTMA
address, and their own OSCAR address."""

from __future__ import annotations

import json
from pathlib import Path

from tests.browsers.firefox import EXTENSION_ID, FirefoxSession
from tests.browsers.helper_install import install_helper
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
        browser.open_options()  # the extension's own page: it survived the restart
        browser.wait(
            lambda: browser.attribute("#helper-banner", "data-state") == "connected",
            "the options page to reach the helper",
        )
        # The release has no eTMA address: the page says so once it has read the settings.
        browser.wait_for_text("#status", "Not set yet")
        assert browser.value("#etma-url") == ""
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
    finally:
        browser.quit()
