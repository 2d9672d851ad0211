"""A browser that has no helper registered: the page says exactly what to run and where, and
copies the command."""

from __future__ import annotations

from tests.browsers.helper_install import install_helper
from tests.browsers.session import BACKSPACE, CONTROL

COPY = '[data-role="message"] [data-role="copy-command"]'


def test_download_without_the_helper_names_the_install_command(
    tmp_path, sites, cohort, start_browser
):
    bare = install_helper(tmp_path / "home", register=False)
    browser = start_browser(bare, signed_in_to=sites)
    message = browser.download_first_row(sites, cohort.students[0].pi, "not installed")
    assert "python3 install.py" in message
    # Where to run it: the folder the tutor unpacked, the one holding install.py.
    assert "in the eTMA Helper folder (the unpacked folder that holds install.py)" in message
    # The message changes at once; the rows follow on the next animation frame.
    browser.wait_for_rows(lambda s: set(s.values()) == {"idle"}, "every row idle", 10)

    # The Copy button puts the command on the clipboard: pasted into a field, it is there.
    assert browser.text('[data-role="message"] code', in_toolbar=True) == "python3 install.py"
    browser.click(COPY, in_toolbar=True)
    browser.wait(
        lambda: browser.attribute(COPY, "data-copied", in_toolbar=True) == "yes", "the copy"
    )
    assert browser.text(COPY, in_toolbar=True) == "Copied"
    field = f"#code_{next(iter(browser.code_fields()))}"
    browser.click(field)
    browser.key_chord(CONTROL, "a")
    browser.type_keys(BACKSPACE)
    browser.key_chord(CONTROL, "v")
    browser.wait(lambda: browser.value(field) == "python3 install.py", "the pasted command")
