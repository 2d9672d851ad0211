"""A browser that has no helper registered: the page says exactly what to run."""

from __future__ import annotations

from tests.browsers.helper_install import install_helper


def test_download_without_the_helper_names_the_install_command(
    tmp_path, sites, cohort, start_browser
):
    bare = install_helper(tmp_path / "home", register=False)
    browser = start_browser(bare, signed_in_to=sites)
    message = browser.download_first_row(sites, cohort.students[0].pi, "not installed")
    assert "python3 install.py" in message
    # The message changes at once; the rows follow on the next animation frame.
    browser.wait_for_rows(lambda s: set(s.values()) == {"idle"}, "every row idle", 10)
