"""The right-click menu on a student row, through Chromium's real context menu.

Headless Chromium cannot open a real menu (a WebDriver right-click only fires the page's
``contextmenu`` event), so this test runs headed Chromium on a virtual screen (Xvfb): Selenium
right-clicks the row, which opens the real menu, and xdotool presses the keys that choose the
extension's item, which fires the real ``contextMenus.onClicked`` in the background.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from tests import chromium

# From the bottom of the row menu: Inspect, View page source, then the extension's submenu.
TO_SUBMENU = ["Up", "Up", "Up", "Right"]


@pytest.fixture(scope="module")
def screen():
    """A private X display for headed Chromium, stopped with the module."""
    for number in range(99, 140):
        if not os.path.exists(f"/tmp/.X11-unix/X{number}") and not os.path.exists(
            f"/tmp/.X{number}-lock"
        ):
            break
    display = f":{number}"
    xvfb = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not os.path.exists(f"/tmp/.X11-unix/X{number}"):
        if time.monotonic() > deadline or xvfb.poll() is not None:
            xvfb.kill()
            raise RuntimeError("Xvfb did not start")
        time.sleep(0.05)
    yield display
    xvfb.terminate()
    xvfb.wait(5)


@pytest.fixture(scope="module")
def headed(screen, tmp_path_factory, sites):
    install = chromium.install_helper(tmp_path_factory.mktemp("headed-home"))
    install = dataclasses.replace(install, env={**install.env, "DISPLAY": screen})
    driver = chromium.start_signed_in(install, sites, headless=False)
    try:
        yield driver, install, screen
    finally:
        driver.quit()


def choose_from_row_menu(driver, display: str, pi: str, keys: list[str]) -> None:
    cell = driver.find_element(By.CSS_SELECTOR, f'tr[data-etma-pi="{pi}"] td:nth-child(3)')
    ActionChains(driver).context_click(cell).perform()
    time.sleep(0.8)  # the native menu opens asynchronously; nothing in the page tells us when
    subprocess.run(
        ["xdotool", "key", "--delay", "120", *keys, "Return"],
        check=True,
        env={**os.environ, "DISPLAY": display},
        timeout=20,
    )


def test_right_click_downloads_that_students_scripts(headed, sites, cohort):
    driver, install, display = headed
    shutil.rmtree(install.download_root, ignore_errors=True)
    student = next(s for s in cohort.students[8:] if s.files)
    chromium.open_allocation(driver, sites)
    choose_from_row_menu(driver, display, student.pi, TO_SUBMENU)

    chromium.wait_for_rows(driver, 1, timeout=60)
    assert chromium.row_states(driver)[student.pi] == "done"
    folder = install.download_root / "TM351" / "TMA02" / student.pi
    assert sorted(p.name for p in folder.rglob("*") if p.is_file())
    assert [
        p.name for p in (install.download_root / "TM351" / "TMA02").iterdir() if p.is_dir()
    ] == [student.pi]


def test_right_click_gets_that_students_code(headed, sites, cohort):
    driver, install, display = headed
    student = cohort.students[12]
    chromium.open_allocation(driver, sites)
    choose_from_row_menu(driver, display, student.pi, [*TO_SUBMENU, "Down"])

    chromium.wait(driver, 60).until(lambda d: chromium.row_states(d).get(student.pi) == "done")
    status = driver.find_element(
        By.CSS_SELECTOR, f'tr[data-etma-pi="{student.pi}"] td.etma-helper-status'
    ).text
    assert status == f"Code {student.code}"


def test_a_page_cannot_point_the_row_menu_at_another_student(headed, sites, cohort):
    driver, _install, display = headed
    chosen, other = cohort.students[16], cohort.students[17]
    chromium.open_allocation(driver, sites)
    # The page answers the tutor's real right-click with a made-up one on the next row, before
    # the tutor picks the menu item.
    driver.execute_script(
        "const other = document.querySelector(`tr[data-etma-pi='${arguments[0]}'] td`);"
        "document.addEventListener('contextmenu', (event) => {"
        "  if (!event.isTrusted) return;"
        "  setTimeout(() => other.dispatchEvent(new MouseEvent('contextmenu',"
        "    {bubbles: true, cancelable: true, button: 2})), 0);"
        "}, true);",
        other.pi,
    )
    choose_from_row_menu(driver, display, chosen.pi, [*TO_SUBMENU, "Down"])

    chromium.wait(driver, 60).until(lambda d: chromium.row_states(d).get(chosen.pi) == "done")
    assert chromium.row_states(driver).get(other.pi) in (None, "idle")
