"""A browser whose profile has no helper registered: the page says exactly what to run."""

from __future__ import annotations

from tests import chromium


def test_download_without_the_helper_names_the_install_command(tmp_path, sites):
    bare = chromium.install_helper(tmp_path / "home", register=False)
    driver = chromium.start_signed_in(bare, sites)
    try:
        message = chromium.download_first_row(driver, sites, "not installed")
        assert "python3 install.py" in message
        # The message changes at once; the rows follow on the next animation frame.
        chromium.wait(driver, 10).until(lambda d: set(chromium.row_states(d).values()) == {"idle"})
    finally:
        driver.quit()
