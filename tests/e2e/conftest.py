"""End-to-end fixtures: one installed helper, one Chromium logged in to both practice sites."""

from __future__ import annotations

import shutil

import pytest

from tests import chromium


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> chromium.HelperInstall:
    return chromium.install_helper(tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="session")
def browser(installed, sites):
    driver = chromium.start_signed_in(installed, sites, extra_flags=tuple(chromium.E2E_FLAGS))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def driver(browser, installed, fresh_sites):
    """The shared browser, with an empty download folder and fresh eTMA and OSCAR sessions."""
    shutil.rmtree(installed.download_root, ignore_errors=True)
    chromium.log_in_to_both(browser, fresh_sites)
    return browser
