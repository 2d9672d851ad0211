"""Real Chromium, driven by Selenium, with the unpacked extension (its practice build, see
``tests/practice_extension.py``) and the installed helper."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests import practice_extension

REPO = Path(__file__).resolve().parents[1]
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
# The end-to-end browser also resolves the university's domain to this machine, so a test can serve
# pages under *.open.ac.uk names (with its own certificate) and check which of them the extension
# runs on. Never used for the demo.
E2E_FLAGS = [
    "--host-resolver-rules=MAP *.open.ac.uk 127.0.0.1",
    "--ignore-certificate-errors",
]


@dataclass(frozen=True)
class HelperInstall:
    """Where install.py put the helper, and the environment the browser must run in."""

    home: Path
    prefix: Path
    profile: Path
    download_root: Path
    env: dict[str, str]


def install_helper(home: Path, register: bool = True, browser: str = "chromium") -> HelperInstall:
    """Run install.py into a private home exactly as a user would: for one Chromium profile, or
    with ``browser="firefox"`` for Firefox (``<home>/.mozilla/native-messaging-hosts/``)."""
    prefix, profile, download_root = home / "prefix", home / "profile", home / "Downloads" / "eTMA"
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_STATE_HOME": str(home / ".state"),
        "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache")),
        "RUSTUP_HOME": os.environ.get("RUSTUP_HOME", str(Path.home() / ".rustup")),
    }
    profile.mkdir(parents=True, exist_ok=True)
    if register:
        where = ["--chromium-profile", str(profile)] if browser == "chromium" else []
        subprocess.run(
            [
                sys.executable,
                str(REPO / "install.py"),
                "--prefix",
                str(prefix),
                "--system-site-packages",
                "--browser",
                browser,
                *where,
            ],
            check=True,
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
        )
    config = home / ".config" / "etma_helper" / "config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"download_root": str(download_root), "concurrency": 4}))
    return HelperInstall(home, prefix, profile, download_root, env)


def start_chromium(
    install: HelperInstall,
    *,
    headless: bool = True,
    extra_flags: tuple[str, ...] = (),
    extension: Path | None = None,
) -> webdriver.Chrome:
    """Chromium with the extension loaded (the practice build unless ``extension`` names another
    folder) and the helper registered in its profile."""
    extension = extension or practice_extension.path()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    if headless:
        options.add_argument("--headless=new")
    for flag in [*QUIET_FLAGS, *extra_flags]:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={install.profile}")
    options.add_argument(f"--load-extension={extension}")
    options.add_argument(f"--disable-extensions-except={extension}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(CHROMEDRIVER, env=install.env)
    return webdriver.Chrome(service=service, options=options)


def start_signed_in(
    install: HelperInstall,
    sites,
    *,
    headless: bool = True,
    extra_flags: tuple[str, ...] = (),
    extension: Path | None = None,
) -> webdriver.Chrome:
    """Chromium as a tutor leaves it: the eTMA address saved, logged in to both practice sites."""
    driver = start_chromium(
        install, headless=headless, extra_flags=extra_flags, extension=extension
    )
    try:
        set_etma_address(driver, sites.etma_url + "etma/admin")
        log_in_to_both(driver, sites)
    except BaseException:
        driver.quit()
        raise
    return driver


def wait(driver, seconds: float = 20) -> WebDriverWait:
    return WebDriverWait(driver, seconds, poll_frequency=0.02)


def wait_for_page_text(driver, text: str, seconds: float = 20) -> None:
    """Wait until the page's body shows ``text``, across a navigation (while the old page goes,
    chromedriver may report its nodes as gone: that is not an answer yet)."""

    def shown(d) -> bool:
        try:
            return text in d.find_element(By.TAG_NAME, "body").text
        except WebDriverException:
            return False

    wait(driver, seconds).until(shown)


def log_in(driver, login_url: str, username: str, password: str) -> None:
    """Log in through a practice site's own login form, as a tutor would."""
    driver.get(login_url)
    form = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "form")))
    inputs = form.find_elements(By.CSS_SELECTOR, "input[type=text], input:not([type])")
    inputs[0].send_keys(username)
    form.find_element(By.CSS_SELECTOR, "input[type=password]").send_keys(password)
    form.find_element(By.CSS_SELECTOR, "[type=submit]").click()
    wait(driver).until(lambda d: "login" not in d.current_url)


FINAL_STATES = {"done", "failed", "needs_login", "cancelled"}


def set_etma_address(driver, address: str) -> None:
    """Save the eTMA address on the extension's options page, as a user would."""
    driver.get(f"chrome-extension://{EXTENSION_ID}/options/options.html")
    field = wait(driver).until(EC.presence_of_element_located((By.ID, "etma-url")))
    wait(driver).until(lambda d: field.get_attribute("value"))
    field.clear()
    field.send_keys(address)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "status"), "Saved"))


def log_in_to_both(driver, sites) -> None:
    """Log in to the practice OSCAR and eTMA through their own forms."""
    log_in(driver, sites.oscar_url + "oscar/login", *sites.OSCAR_LOGIN)
    log_in(driver, sites.etma_url + "etma/login", *sites.ETMA_LOGIN)


def open_allocation(driver, sites):
    """Open the OSCAR work-allocation page and return the extension toolbar's shadow root."""
    driver.get(sites.allocation_url)
    return toolbar_root(driver)


def click_toolbar(driver, toolbar, action: str) -> None:
    toolbar.find_element(By.CSS_SELECTOR, f'[data-action="{action}"]').click()


def message_line(toolbar) -> str:
    return toolbar.find_element(By.CSS_SELECTOR, '[data-role="message"]').text


def row_states(driver) -> dict[str, str]:
    return driver.execute_script(
        "const out = {};"
        "for (const row of document.querySelectorAll('tr[data-etma-pi]'))"
        "  out[row.dataset.etmaPi] = row.dataset.etmaState;"
        "return out;"
    )


def wait_for_rows(driver, count: int, timeout: float = 120) -> dict[str, str]:
    """Wait until ``count`` rows have a final state; return every row's state."""

    def settled(d):
        states = row_states(d)
        done = [s for s in states.values() if s in FINAL_STATES]
        return states if len(done) >= count else False

    return wait(driver, timeout).until(settled)


def shift_click(driver, element) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).key_down(Keys.SHIFT).click(element).key_up(Keys.SHIFT).perform()


def wait_for_message(driver, toolbar, text: str, timeout: float = 120) -> str:
    """Wait until the toolbar's message line contains ``text`` (a job's summary, an error)."""
    return wait(driver, timeout).until(
        lambda d: text in message_line(toolbar) and message_line(toolbar)
    )


SCREENSHOTS = REPO / "docs" / "screenshots"


def open_extension_page(driver, path: str) -> None:
    """Open one of the extension's own pages (``popup/popup.html``, ``options/options.html``)."""
    driver.get(f"chrome-extension://{EXTENSION_ID}/{path}")


def toolbar_root(driver):
    """The toolbar's shadow root. It is closed, so a page's script (and ``execute_script``, which
    runs in the page's world) cannot reach it; WebDriver's own element shadow root can."""
    host = wait(driver).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "#etma-helper-toolbar"))
    )
    return host.shadow_root


def active_toolbar_action(driver) -> str | None:
    """The ``data-action`` of the toolbar control that has the keyboard focus, if any."""
    host = driver.find_elements(By.CSS_SELECTOR, "#etma-helper-toolbar")
    if not host:
        return None
    return driver.execute_script(
        "const [host, root] = arguments;"
        "if (document.activeElement !== host) return null;"
        "const inner = root.activeElement;"
        "return inner ? inner.dataset.action || inner.dataset.role || inner.tagName : null;",
        host[0],
        host[0].shadow_root,
    )


def code_fields(driver) -> dict[str, str]:
    """Each student row's confirmation-code field value, by PI (rows without a field left out)."""
    return driver.execute_script(
        "const out = {};"
        "for (const row of document.querySelectorAll('tr[data-etma-pi]')) {"
        "  const field = row.querySelector('input[name=confirmation_code]');"
        "  if (field) out[row.dataset.etmaPi] = field.value;"
        "}"
        "return out;"
    )


def save_screenshot(driver, name: str, element=None, *, full_page: bool = False) -> Path:
    """Save a PNG under docs/screenshots: the window, just ``element``, or with ``full_page`` the
    whole page at the window's width (through the DevTools protocol)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    if element is not None:
        element.screenshot(str(path))
    elif full_page:
        width, height = driver.execute_script(
            "const page = document.documentElement;return [page.clientWidth, page.scrollHeight];"
        )
        clip = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": clip},
        )
        path.write_bytes(base64.b64decode(shot["data"]))
    else:
        driver.save_screenshot(str(path))
    return path


def download_first_row(driver, sites, expected: str) -> str:
    """Tick the first student, press Download scripts, and return the message once it says
    ``expected``."""
    toolbar = open_allocation(driver, sites)
    driver.find_elements(By.CSS_SELECTOR, "input.etma-helper-select")[0].click()
    click_toolbar(driver, toolbar, "download")
    return wait_for_message(driver, toolbar, expected)
