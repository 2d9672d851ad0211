"""Real Chromium, driven by Selenium and chromedriver, with the unpacked extension (its practice
build, ``tests/practice_extension.py``) and the helper registered in its profile folder.

The toolbar's shadow root is closed, so a page's script (and ``execute_script``, which runs in the
page's world) cannot reach it by itself; WebDriver's own element shadow root can, and is handed to
the script as an argument.
"""

from __future__ import annotations

import base64
import os
import signal
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests import practice_extension
from tests.browsers.helper_install import HelperInstall
from tests.browsers.session import TOOLBAR, BrowserSession, NoToolbar, descendants
from tests.browsers.waiting import within

EXTENSION_ID = "cfflekeodohgccooffokbilcglejnhfj"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
QUIET_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
]
# The browser also resolves the university's domain to this machine, so a test can serve pages
# under *.open.ac.uk names (with its own certificate) and check which of them the extension runs
# on. Never used for the demo.
TEST_FLAGS = [
    "--host-resolver-rules=MAP *.open.ac.uk 127.0.0.1",
    "--ignore-certificate-errors",
]
PAGE_LOAD_SECONDS = 30
# Every WebDriver command's answer has this deadline (Selenium's own default is none at all).
COMMAND_SECONDS = 60

# Find an element in the document or in the toolbar's shadow root; null unless it is shown and
# enabled (what a user could click).
CLICKABLE = """
const [selector, root] = arguments;
const element = (root || document).querySelector(selector);
if (!element || !element.getClientRects().length) return null;
if (element.disabled || element.closest('fieldset[disabled]')) return null;
element.scrollIntoView({block: 'center'});
return element;
"""


class ChromiumSession(BrowserSession):
    name = "chromium"
    extension_id = EXTENSION_ID

    def __init__(self, driver: webdriver.Chrome, install: HelperInstall, *, headed: bool):
        super().__init__(install, headed=headed)
        self.driver = driver
        self.transient = (NoToolbar, WebDriverException)

    @classmethod
    def start(
        cls,
        install: HelperInstall,
        *,
        headless: bool = True,
        extension: Path | None = None,
        profile: Path | None = None,
        display: str | None = None,
        test_flags: bool = True,
    ) -> ChromiumSession:
        """Chromium with the extension loaded (the practice build unless ``extension`` names
        another folder), in ``profile`` (the install's first registered profile unless named)."""
        extension = extension or practice_extension.path()
        profile = profile or install.chromium_profiles[0]
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        if headless:
            options.add_argument("--headless=new")
        for flag in [*QUIET_FLAGS, *(TEST_FLAGS if test_flags else [])]:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.add_argument(f"--load-extension={extension}")
        options.add_argument(f"--disable-extensions-except={extension}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        env = {**install.env, **({"DISPLAY": display} if display else {})}
        service = Service(CHROMEDRIVER, env=env)
        driver = webdriver.Chrome(service=service, options=options)
        driver.command_executor.client_config.timeout = COMMAND_SECONDS
        driver.set_page_load_timeout(PAGE_LOAD_SECONDS)
        driver.set_script_timeout(20)
        return cls(driver, install, headed=not headless)

    # --- Primitives ---------------------------------------------------------------------------

    def navigate(self, url: str) -> None:
        self.driver.get(url)

    def reload(self) -> None:
        self.driver.refresh()

    def current_url(self) -> str:
        return self.driver.current_url

    def run(self, function: str, *args: Any) -> Any:
        return self.driver.execute_script(f"return ({function})(...arguments)", *args)

    def toolbar_root(self):
        hosts = self.driver.find_elements(By.CSS_SELECTOR, TOOLBAR)
        if not hosts:
            raise NoToolbar("the page has no eTMA Helper toolbar")
        return hosts[0].shadow_root

    def run_in_toolbar(self, function: str, *args: Any) -> Any:
        return self.driver.execute_script(
            f"return ({function})(...arguments)", self.toolbar_root(), *args
        )

    def click(self, selector: str, *, in_toolbar: bool = False, shift: bool = False) -> None:
        def clickable():
            root = self.toolbar_root() if in_toolbar else None
            return self.driver.execute_script(CLICKABLE, selector, root)

        where = " in the toolbar" if in_toolbar else ""
        element = self.wait(clickable, f"{selector}{where} to be shown and enabled")
        if shift:
            chain = ActionChains(self.driver).key_down(Keys.SHIFT).click(element)
            chain.key_up(Keys.SHIFT).perform()
        else:
            element.click()

    def type_keys(self, keys: str) -> None:
        ActionChains(self.driver).send_keys(keys).perform()

    def key_chord(self, modifier: str, key: str) -> None:
        ActionChains(self.driver).key_down(modifier).send_keys(key).key_up(modifier).perform()

    def new_tab(self) -> str:
        self.driver.switch_to.new_window("tab")
        return self.driver.current_window_handle

    def switch_to_tab(self, handle: str) -> None:
        self.driver.switch_to.window(handle)

    def current_tab(self) -> str:
        return self.driver.current_window_handle

    def tabs(self) -> list[str]:
        return list(self.driver.window_handles)

    def close_tab(self) -> None:
        self.driver.close()

    def extension_url(self, path: str) -> str:
        return f"chrome-extension://{EXTENSION_ID}/{path}"

    def screenshot(self, path: Path, selector: str | None = None, full_page: bool = False) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        if selector is not None:
            self.driver.find_element(By.CSS_SELECTOR, selector).screenshot(str(path))
        elif full_page:
            width, height = self.run(
                "() => [document.documentElement.clientWidth,"
                " document.documentElement.scrollHeight]"
            )
            clip = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
            shot = self.driver.execute_cdp_cmd(
                "Page.captureScreenshot",
                {"format": "png", "captureBeyondViewport": True, "clip": clip},
            )
            path.write_bytes(base64.b64decode(shot["data"]))
        else:
            self.driver.save_screenshot(str(path))
        return path

    def open_context_menu(self, selector: str) -> None:
        cell = self.driver.find_element(By.CSS_SELECTOR, selector)
        ActionChains(self.driver).context_click(cell).perform()

    def row_menu_keys(self) -> list[str]:
        # From the bottom of Chromium's page menu: Inspect, View page source, then the
        # extension's submenu (named after the extension), opened with Right.
        return ["Up", "Up", "Up", "Right"]

    def browser_pid(self) -> int:
        return self.driver.service.process.pid  # chromedriver: Chromium runs below it

    def diagnostics(self) -> str:
        lines = []
        try:
            lines.append(f"address: {within(10, lambda: self.driver.current_url, 'address')}")
            logs = within(10, lambda: self.driver.get_log("browser"), "the console")
            lines += ["page console:", *(entry["message"] for entry in logs[-15:])]
        except Exception as error:  # a wedged browser: say so, and no more
            lines.append(f"(the browser did not answer: {error})")
        return "\n".join(lines)

    def responsive(self, seconds: float = 15) -> bool:
        try:
            within(seconds, lambda: self.driver.execute_script("return 1"), "Chromium")
            return True
        except Exception:
            return False

    def quit(self) -> None:
        service = self.driver.service.process
        below = [pid for pid, _ in descendants(service.pid)] if service else []
        try:
            within(15, self.driver.quit, "quitting Chromium")
        except Exception:  # wedged: kill chromedriver and everything it started
            for pid in [service.pid, *below]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
