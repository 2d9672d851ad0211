"""The extension's own surfaces in real Chromium with the real helper: the OSCAR toolbar by mouse
and keyboard, filling codes into OSCAR, the popup, the options page, and the missing helper.
Screenshots for docs/screenshots are taken here, at 1280×900 in headless Chromium."""

from __future__ import annotations

import json

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC

from etma_helper import __version__
from tests import chromium
from tests.e2e.test_context_menu import (  # the headed browser on a virtual screen
    TO_SUBMENU,
    choose_from_row_menu,
    headed,  # noqa: F401 - a fixture
    screen,  # noqa: F401 - a fixture
)


def selected_count(toolbar) -> str:
    return toolbar.find_element(By.CSS_SELECTOR, '[data-role="count"]').text


def ticked(driver) -> int:
    return len(driver.find_elements(By.CSS_SELECTOR, "input.etma-helper-select:checked"))


def tab_to(driver, action: str, presses: int = 40) -> None:
    """Press Tab until the toolbar control ``action`` has the focus, as a keyboard user would."""
    for _ in range(presses):
        if chromium.active_toolbar_action(driver) == action:
            return
        ActionChains(driver).send_keys(Keys.TAB).perform()
    raise AssertionError(f"Tab never reached the toolbar's {action!r} button")


def test_select_all_and_none_by_mouse_and_keyboard(driver, sites, cohort):
    toolbar = chromium.open_allocation(driver, sites)
    total = len(cohort.students)
    assert selected_count(toolbar) == f"0 of {total} selected"

    chromium.click_toolbar(driver, toolbar, "select-all")
    assert selected_count(toolbar) == f"{total} of {total} selected"
    assert ticked(driver) == total
    chromium.click_toolbar(driver, toolbar, "select-none")
    assert selected_count(toolbar) == f"0 of {total} selected"
    assert ticked(driver) == 0

    # From the top of a freshly loaded page, Tab reaches the toolbar; Enter and Space press it.
    toolbar = chromium.open_allocation(driver, sites)
    tab_to(driver, "select-all")
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    chromium.wait(driver, 5).until(lambda d: ticked(d) == total)
    assert selected_count(toolbar) == f"{total} of {total} selected"
    tab_to(driver, "select-none")
    ActionChains(driver).send_keys(Keys.SPACE).perform()
    chromium.wait(driver, 5).until(lambda d: ticked(d) == 0)
    assert selected_count(toolbar) == f"0 of {total} selected"

    labels = [
        button.get_attribute("aria-label") or button.text
        for button in toolbar.find_elements(By.CSS_SELECTOR, "button")
    ]
    assert all(label.strip() for label in labels)
    first_box = driver.find_element(By.CSS_SELECTOR, "input.etma-helper-select")
    assert cohort.students[0].pi in first_box.get_attribute("aria-label")


def test_progress_shows_on_every_row_while_a_download_runs(driver, sites, cohort):
    sites.latency = 0.2  # slow enough to catch the job in the middle; fresh_sites restores it
    toolbar = chromium.open_allocation(driver, sites)
    chromium.click_toolbar(driver, toolbar, "select-all")
    chromium.click_toolbar(driver, toolbar, "download")

    def mid_job(d):
        states = set(chromium.row_states(d).values())
        return "done" in states and ("queued" in states or "working" in states)

    chromium.wait(driver, 60).until(mid_job)
    progress = toolbar.find_element(By.CSS_SELECTOR, '[data-role="progress"]')
    assert 0 < float(progress.get_attribute("value")) < len(cohort.students)
    assert toolbar.find_element(By.CSS_SELECTOR, '[data-action="cancel"]').is_enabled()
    driver.execute_script("window.scrollTo(0, 0)")
    chromium.save_screenshot(driver, "oscar-toolbar-mid-job.png")

    chromium.wait_for_message(driver, toolbar, "25 done")
    assert float(progress.get_attribute("value")) == len(cohort.students)
    renders = driver.execute_script(
        "return performance.getEntriesByName('etma-helper:render').length"
    )
    assert 0 < renders < len(cohort.students) * 3  # batched: far fewer paints than updates


def test_fill_codes_previews_keeps_typed_text_and_never_submits(driver, sites, cohort):
    toolbar = chromium.open_allocation(driver, sites)
    students = [s for s in cohort.students[14:] if s.pi not in sites.unlocked][:4]
    pis = [s.pi for s in students]
    codes = {s.pi: s.code for s in students}
    for pi in pis:
        row = driver.find_element(By.CSS_SELECTOR, f'tr[data-etma-pi="{pi}"]')
        row.find_element(By.CSS_SELECTOR, "input.etma-helper-select").click()
    chromium.click_toolbar(driver, toolbar, "codes")
    chromium.wait_for_message(driver, toolbar, "4 done")

    typed_pi = pis[1]
    driver.find_element(By.ID, f"code_{typed_pi}").send_keys("MY-OWN")
    driver.execute_script(
        "window.etmaEvents = [];"
        "for (const kind of ['input', 'change'])"
        "  document.addEventListener(kind, e => window.etmaEvents.push(kind + ':' + e.target.id));"
    )
    chromium.click_toolbar(driver, toolbar, "fill")
    panel = toolbar.find_element(By.CSS_SELECTOR, '[data-role="fill-panel"]')
    assert panel.is_displayed()
    listed = {
        row.get_attribute("data-fill-pi"): row.text
        for row in panel.find_elements(By.CSS_SELECTOR, "[data-fill-pi]")
    }
    # Codes fetched earlier on this page (an earlier test's job) are offered too.
    assert set(pis) <= set(listed)
    for pi in pis:
        assert codes[pi] in listed[pi]
    replace = panel.find_element(
        By.CSS_SELECTOR, f'[data-fill-pi="{typed_pi}"] input[data-role="replace"]'
    )
    assert not replace.is_selected()
    assert "MY-OWN" in listed[typed_pi]
    assert len(panel.find_elements(By.CSS_SELECTOR, 'input[data-role="replace"]')) == 1

    confirm = panel.find_element(By.CSS_SELECTOR, '[data-action="fill-confirm"]')
    will_fill = len(listed) - 1
    assert confirm.text == f"Fill {will_fill} codes"
    confirm.click()
    fields = chromium.code_fields(driver)
    assert fields[typed_pi] == "MY-OWN"
    for pi in pis:
        if pi != typed_pi:
            assert fields[pi] == codes[pi]
    events = driver.execute_script("return window.etmaEvents")
    assert f"input:code_{pis[0]}" in events and f"change:code_{pis[0]}" in events
    assert f"input:code_{typed_pi}" not in events
    assert f"Filled {will_fill} confirmation codes" in chromium.message_line(toolbar)

    # Asked again, only the typed field is left, and ticking Replace replaces it.
    chromium.click_toolbar(driver, toolbar, "fill")
    left = panel.find_elements(By.CSS_SELECTOR, "[data-fill-pi]")
    assert [row.get_attribute("data-fill-pi") for row in left] == [typed_pi]
    panel.find_element(By.CSS_SELECTOR, 'input[data-role="replace"]').click()
    panel.find_element(By.CSS_SELECTOR, '[data-action="fill-confirm"]').click()
    assert chromium.code_fields(driver)[typed_pi] == codes[typed_pi]
    assert not set(pis) & sites.unlocked  # filling never submits OSCAR's forms

    # The tutor submits one row's own form with the filled code: OSCAR accepts it.
    row = driver.find_element(By.CSS_SELECTOR, f'tr[data-etma-pi="{pis[0]}"]')
    row.find_element(By.CSS_SELECTOR, 'input[type="submit"]').click()
    chromium.wait_for_page_text(driver, f"Third marking unlocked for {pis[0]}")
    assert pis[0] in sites.unlocked


def test_popup_shows_the_helper_and_the_recent_job(driver, sites, cohort):
    chromium.open_extension_page(driver, "popup/popup.html")
    chromium.wait(driver).until(EC.element_to_be_clickable((By.ID, "open-folder"))).click()
    chromium.wait(driver).until(
        EC.text_to_be_present_in_element((By.ID, "open-message"), "does not exist yet")
    )

    toolbar = chromium.open_allocation(driver, sites)
    for box in driver.find_elements(By.CSS_SELECTOR, "input.etma-helper-select")[:3]:
        box.click()
    chromium.click_toolbar(driver, toolbar, "codes")
    chromium.wait_for_message(driver, toolbar, "3 done")

    chromium.open_extension_page(driver, "popup/popup.html")
    helper = chromium.wait(driver).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, '#helper[data-state="connected"]'))
    )
    assert "Connected" in helper.text and __version__ in helper.text
    newest = chromium.wait(driver).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "#recent li[data-job-id]"))
    )
    assert "TM351" in newest.text and "confirmation codes" in newest.text
    assert "3 done" in newest.text
    job = driver.find_element(By.ID, "job").text
    assert "TM351" in job and "3 done" in job
    chromium.save_screenshot(driver, "popup.png", driver.find_element(By.TAG_NAME, "body"))


def test_options_change_the_helpers_settings_and_show_its_refusal(driver, installed):
    config = installed.home / ".config" / "etma_helper" / "config.json"
    chromium.open_extension_page(driver, "options/options.html")
    concurrency = chromium.wait(driver).until(EC.element_to_be_clickable((By.ID, "concurrency")))
    assert concurrency.get_attribute("value") == "4"
    assert driver.find_element(By.ID, "download-root").get_attribute("value") == str(
        installed.download_root
    )
    try:
        concurrency.clear()
        concurrency.send_keys("7")
        driver.find_element(By.ID, "helper-save").click()
        chromium.wait(driver).until(
            EC.text_to_be_present_in_element((By.ID, "helper-status"), "Saved by the helper")
        )
        assert json.loads(config.read_text())["concurrency"] == 7
        driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
        chromium.save_screenshot(driver, "options.png", full_page=True)

        outside = driver.find_element(By.ID, "download-root")
        outside.clear()
        outside.send_keys("/var/tmp/etma-elsewhere")
        driver.find_element(By.ID, "helper-save").click()
        error = chromium.wait(driver).until(
            EC.visibility_of_element_located(
                (By.CSS_SELECTOR, '.field-error[data-for="download_root"]')
            )
        )
        assert error.text  # the helper's own words
        assert outside.get_attribute("aria-invalid") == "true"
        saved = json.loads(config.read_text())
        assert saved["download_root"] == str(installed.download_root)
    finally:
        config.write_text(
            json.dumps({"download_root": str(installed.download_root), "concurrency": 4})
        )


def test_popup_and_options_without_the_helper_name_the_install_command(tmp_path, sites):
    bare = chromium.install_helper(tmp_path / "home", register=False)
    driver = chromium.start_chromium(bare)
    try:
        chromium.open_extension_page(driver, "popup/popup.html")
        helper = chromium.wait(driver).until(
            EC.presence_of_element_located((By.CSS_SELECTOR, '#helper[data-state="problem"]'))
        )
        assert "not installed" in helper.text
        assert helper.find_element(By.TAG_NAME, "code").text == "python3 install.py"
        assert not driver.find_element(By.ID, "open-folder").is_enabled()

        chromium.open_extension_page(driver, "options/options.html")
        banner = chromium.wait(driver).until(
            EC.presence_of_element_located(
                (By.CSS_SELECTOR, '#helper-banner[data-state="problem"]')
            )
        )
        assert "python3 install.py" in banner.text
        assert not driver.find_element(By.ID, "concurrency").is_enabled()
    finally:
        driver.quit()


def test_right_click_opens_that_students_etma_page(headed, sites, cohort):  # noqa: F811
    driver, _install, display = headed
    student = cohort.students[5]
    chromium.open_allocation(driver, sites)
    oscar_tab = driver.current_window_handle
    before = set(driver.window_handles)
    choose_from_row_menu(driver, display, student.pi, [*TO_SUBMENU, "Down", "Down"])
    chromium.wait(driver, 30).until(lambda d: set(d.window_handles) - before)
    (etma_tab,) = set(driver.window_handles) - before
    try:
        driver.switch_to.window(etma_tab)
        chromium.wait(driver, 30).until(
            EC.text_to_be_present_in_element((By.TAG_NAME, "body"), student.code)
        )
        assert student.pi in driver.find_element(By.TAG_NAME, "body").text
    finally:
        driver.close()
        driver.switch_to.window(oscar_tab)


def test_right_click_opens_the_etma_page_when_its_form_state_is_too_big_to_send(
    headed,  # noqa: F811 - the fixture
    sites,
    cohort,
):
    """eTMA's search page carries a hidden __VIEWSTATE too big for a native message: the helper
    names it in ``page_fields`` and the extension takes it from the eTMA page it opened."""
    driver, _install, display = headed
    student = cohort.students[7]
    sites.etma_viewstate_bytes = 1_200_000
    oscar_tab = driver.current_window_handle
    try:
        chromium.open_allocation(driver, sites)
        before = set(driver.window_handles)
        choose_from_row_menu(driver, display, student.pi, [*TO_SUBMENU, "Down", "Down"])
        chromium.wait(driver, 30).until(lambda d: set(d.window_handles) - before)
        (etma_tab,) = set(driver.window_handles) - before
        driver.switch_to.window(etma_tab)
        chromium.wait_for_page_text(driver, student.code, 30)
        assert student.pi in driver.find_element(By.TAG_NAME, "body").text
        driver.close()
    finally:
        sites.etma_viewstate_bytes = 0
        driver.switch_to.window(oscar_tab)
