"""The extension's own surfaces in real Chromium and Firefox with the real helper: the OSCAR
toolbar by mouse and keyboard, filling codes into OSCAR, the popup, the options page, the missing
helper, and the row menu's "open this student's eTMA page". The pictures in docs/screenshots are
taken here, at 1280×900 in headless Chromium."""

from __future__ import annotations

import json

import pytest

from etma_helper import __version__
from tests.browsers.helper_install import install_helper
from tests.browsers.session import CHECKBOX, row_selector

OPEN_ETMA_PAGE = 2  # the row menu's third item


def tab_to(browser, action: str, presses: int = 40) -> None:
    """Press Tab until the toolbar control ``action`` has the focus, as a keyboard user would."""
    for _ in range(presses):
        if browser.focused_toolbar_control() == action:
            return
        browser.press_keys("Tab")
    raise AssertionError(f"Tab never reached the toolbar's {action!r} button")


@pytest.fixture
def keyboard_user(request, browser_name):
    """A browser whose keys press buttons as a real keyboard's do: Chromium's WebDriver keys
    do; in Firefox they do not (see FirefoxSession.press_keys), so there the headed Firefox
    takes real key presses on its X screen."""
    return request.getfixturevalue("browser" if browser_name == "chromium" else "headed")


def test_select_all_and_none_by_mouse(browser, sites, cohort):
    browser.open_allocation(sites)
    total = len(cohort.students)
    assert browser.toolbar_text("count") == f"0 of {total} selected"

    browser.press("select-all")
    assert browser.toolbar_text("count") == f"{total} of {total} selected"
    assert browser.ticked() == total
    browser.press("select-none")
    assert browser.toolbar_text("count") == f"0 of {total} selected"
    assert browser.ticked() == 0

    labels = browser.run_in_toolbar(
        "(root) => [...root.querySelectorAll('button')]"
        ".map(b => b.getAttribute('aria-label') || b.innerText)"
    )
    assert labels and all(label.strip() for label in labels)
    first_box = browser.attribute(row_selector(cohort.students[0].pi, CHECKBOX), "aria-label")
    assert cohort.students[0].pi in first_box


def test_select_all_and_none_by_keyboard(keyboard_user, sites, cohort):
    browser, total = keyboard_user, len(cohort.students)
    # On a freshly loaded page, Tab reaches the toolbar; Enter and Space press it.
    browser.open_allocation(sites)
    tab_to(browser, "select-all")
    browser.press_keys("Return")
    browser.wait(lambda: browser.ticked() == total, "every row ticked", 5)
    assert browser.toolbar_text("count") == f"{total} of {total} selected"
    tab_to(browser, "select-none")
    browser.press_keys("space")
    browser.wait(lambda: browser.ticked() == 0, "no row ticked", 5)
    assert browser.toolbar_text("count") == f"0 of {total} selected"


def test_progress_shows_on_every_row_while_a_download_runs(browser, sites, cohort, artefacts):
    sites.latency = 0.2  # slow enough to catch the job in the middle; fresh_sites restores it
    browser.open_allocation(sites)
    browser.press("select-all")
    browser.press("download")

    browser.wait_for_rows(
        lambda s: "done" in s.values() and bool({"queued", "working"} & set(s.values())),
        "the job in the middle",
    )
    progress = browser.run_in_toolbar("(root) => root.querySelector('[data-role=progress]').value")
    assert 0 < float(progress) < len(cohort.students)
    assert browser.enabled('[data-action="cancel"]', in_toolbar=True)
    browser.run("() => window.scrollTo(0, 0)")
    browser.document_screenshot("oscar-toolbar-mid-job.png", artefacts)

    browser.wait_for_message("25 done")
    progress = browser.run_in_toolbar("(root) => root.querySelector('[data-role=progress]').value")
    assert float(progress) == len(cohort.students)
    renders = browser.run("() => performance.getEntriesByName('etma-helper:render').length")
    assert 0 < renders < len(cohort.students) * 3  # batched: far fewer paints than updates


def test_fill_codes_previews_keeps_typed_text_and_never_submits(browser, sites, cohort):
    browser.open_allocation(sites)
    students = [s for s in cohort.students[14:] if s.pi not in sites.unlocked][:4]
    pis = [s.pi for s in students]
    codes = {s.pi: s.code for s in students}
    for pi in pis:
        browser.tick(pi)
    browser.press("codes")
    # Students with nothing submitted still get their code: it goes into OSCAR all the same.
    submitted = sum(1 for s in students if s.files)
    expected = f"{submitted} done" + (f", {4 - submitted} with nothing submitted" * (submitted < 4))
    browser.wait_for_message(expected)

    typed_pi = pis[1]
    browser.click(f"#code_{typed_pi}")
    browser.type_keys("MY-OWN")
    browser.run(
        "() => { window.etmaEvents = [];"
        " for (const kind of ['input', 'change'])"
        "  document.addEventListener(kind,"
        "   e => window.etmaEvents.push(kind + ':' + e.target.id)); }"
    )
    browser.press("fill")
    panel = '[data-role="fill-panel"]'
    browser.wait(lambda: browser.shown(panel, in_toolbar=True), "the fill panel")
    listed = browser.texts(f"{panel} [data-fill-pi]", "data-fill-pi", in_toolbar=True)
    # Codes fetched earlier on this page (an earlier test's job) are offered too.
    assert set(pis) <= set(listed)
    for pi in pis:
        assert codes[pi] in listed[pi]
    replace = f'[data-fill-pi="{typed_pi}"] input[data-role="replace"]'
    assert browser.checked(replace, in_toolbar=True) is False
    assert "MY-OWN" in listed[typed_pi]
    replace_boxes = f'{panel} input[data-role="replace"]'
    assert browser.count(replace_boxes, in_toolbar=True) == 1

    will_fill = len(listed) - 1
    confirm = '[data-action="fill-confirm"]'
    assert browser.text(confirm, in_toolbar=True) == f"Fill {will_fill} codes"
    browser.press("fill-confirm")
    browser.wait_for_message(f"Filled {will_fill} confirmation codes", timeout=10)
    fields = browser.code_fields()
    assert fields[typed_pi] == "MY-OWN"
    for pi in pis:
        if pi != typed_pi:
            assert fields[pi] == codes[pi]
    events = browser.run("() => window.etmaEvents")
    assert f"input:code_{pis[0]}" in events and f"change:code_{pis[0]}" in events
    assert f"input:code_{typed_pi}" not in events

    # Asked again, the filled fields hold their codes (still to unlock), only the typed field is
    # left to fill, and ticking Replace replaces it.
    browser.press("fill")
    left = browser.wait(
        lambda: (
            browser.shown(panel, in_toolbar=True)
            and browser.texts(f"{panel} [data-fill-pi]", "data-fill-pi", in_toolbar=True)
        ),
        "the fill panel again",
    )
    assert set(left) == set(pis)
    assert all("holds this code" in left[pi] for pi in pis if pi != typed_pi)
    assert browser.enabled(confirm, in_toolbar=True) is False
    browser.click(replace_boxes, in_toolbar=True)
    browser.wait(lambda: browser.text(confirm, in_toolbar=True) == "Fill 1 code", "Fill 1 code")
    browser.press("fill-confirm")
    browser.wait(lambda: browser.code_fields()[typed_pi] == codes[typed_pi], "the replaced code")
    assert not set(pis) & sites.unlocked  # filling never submits OSCAR's forms

    # The tutor submits one row's own form with the filled code: OSCAR accepts it.
    browser.click(row_selector(pis[0], 'input[type="submit"]'))
    browser.wait_for_page_text(f"Third marking unlocked for {pis[0]}")
    assert pis[0] in sites.unlocked


def test_popup_shows_the_helper_and_the_recent_job(browser, sites, cohort, artefacts):
    browser.open_popup()
    browser.click("#open-folder")
    browser.wait_for_text("#open-message", "does not exist yet")

    browser.open_allocation(sites)
    for student in cohort.students[:3]:
        browser.tick(student.pi)
    browser.press("codes")
    browser.wait_for_message("3 done")

    browser.open_popup()
    helper = browser.wait_for_text('#helper[data-state="connected"]', "Connected")
    assert __version__ in helper
    newest = browser.wait_for_text("#recent li[data-job-id]", "TM351")
    assert "confirmation codes" in newest and "3 done" in newest
    job = browser.text("#job")
    assert "TM351" in job and "3 done" in job
    browser.document_screenshot("popup.png", artefacts, "body")


def test_options_change_the_helpers_settings_and_show_its_refusal(browser, installed, artefacts):
    browser.open_options()
    browser.wait(lambda: browser.enabled("#concurrency"), "the helper's settings")
    assert browser.value("#concurrency") == "4"
    assert browser.value("#download-root") == str(installed.download_root)
    try:
        browser.fill("#concurrency", "7")
        browser.click("#helper-save")
        browser.wait_for_text("#helper-status", "Saved by the helper")
        assert json.loads(installed.config.read_text())["concurrency"] == 7
        browser.run("() => { document.activeElement.blur(); window.scrollTo(0, 0); }")
        browser.document_screenshot("options.png", artefacts, full_page=True)

        browser.fill("#download-root", "/var/tmp/etma-elsewhere")
        browser.click("#helper-save")
        error = '.field-error[data-for="download_root"]'
        browser.wait(lambda: browser.shown(error) and browser.text(error), "the helper's refusal")
        assert browser.attribute("#download-root", "aria-invalid") == "true"
        saved = json.loads(installed.config.read_text())
        assert saved["download_root"] == str(installed.download_root)
    finally:
        installed.write_config()


def test_popup_and_options_without_the_helper_name_the_install_command(tmp_path, start_browser):
    bare = install_helper(tmp_path / "home", register=False)
    browser = start_browser(bare)
    browser.open_popup()
    helper = browser.wait_for_text('#helper[data-state="problem"]', "not installed")
    assert browser.text("#helper code") == "python3 install.py"
    assert "python3 install.py" in helper
    assert not browser.enabled("#open-folder")

    browser.open_options()
    banner = browser.wait_for_text('#helper-banner[data-state="problem"]', "python3 install.py")
    assert "python3 install.py" in banner
    assert not browser.enabled("#concurrency")


def open_etma_page_from_row_menu(headed, screen, sites, student) -> None:
    """Choose "Open this student's eTMA page" on the row; check the tab it opens, close it."""
    headed.open_allocation(sites)
    oscar_tab = headed.current_tab()
    before = set(headed.tabs())
    headed.choose_from_row_menu(screen, student.pi, OPEN_ETMA_PAGE)
    (etma_tab,) = headed.wait(lambda: set(headed.tabs()) - before, "the student's eTMA tab", 30)
    try:
        headed.switch_to_tab(etma_tab)
        body = headed.wait_for_page_text(student.code, 30)
        assert student.pi in body
    finally:
        headed.close_tab()
        headed.switch_to_tab(oscar_tab)


def test_right_click_opens_that_students_etma_page(headed, screen, sites, cohort):
    open_etma_page_from_row_menu(headed, screen, sites, cohort.students[5])


def test_right_click_opens_the_etma_page_when_its_form_state_is_too_big_to_send(
    headed, screen, sites, cohort
):
    """eTMA's search page carries a hidden __VIEWSTATE too big for a native message: the helper
    names it in ``page_fields`` and the extension takes it from the eTMA page it opened."""
    sites.etma_viewstate_bytes = 1_200_000
    try:
        open_etma_page_from_row_menu(headed, screen, sites, cohort.students[7])
    finally:
        sites.etma_viewstate_bytes = 0
