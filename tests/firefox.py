"""Real Firefox (Debian firefox-esr) driven over WebDriver BiDi, with the extension (its practice
build, ``tests/practice_extension.py``) installed as a temporary add-on and the helper registered
in a private HOME, as ``install.py`` does for a user.

There is no geckodriver: Firefox itself serves BiDi (``--remote-debugging-port``), and this small
client speaks it over a websocket (``websocket-client``, which Selenium already depends on).

The toolbar's shadow root is closed: a page's script, and so ``script.evaluate`` in the page,
cannot reach it. BiDi itself can (``browsingContext.locateNodes`` with ``includeShadowTree:
"all"``), and the tests read it through that reference and press its buttons with real input.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import websocket

from tests import practice_extension
from tests.chromium import HelperInstall

FIREFOX = "/usr/bin/firefox-esr"
EXTENSION_ID = "etma-helper@etma-helper"
# Firefox gives each add-on a random moz-extension:// UUID per profile unless this pref names one.
EXTENSION_UUID = "3c1e5b1a-7d0f-4e55-9a0c-e7a0e1b0c351"
OPTIONS_URL = f"moz-extension://{EXTENSION_UUID}/options/options.html"
PREFS = {
    "extensions.webextensions.uuids": json.dumps({EXTENSION_ID: EXTENSION_UUID}),
    "extensions.originControls.grantByDefault": True,  # host permissions granted at install
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
}
# The middle of an element, scrolled into view, for a real click there.
CENTRE = (
    "(e) => { if (!e) return null; e.scrollIntoView({block: 'center'});"
    " const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }"
)


class BiDiError(RuntimeError):
    pass


def wait_until(check: Callable[[], Any], timeout: float, what: str, poll: float = 0.05) -> Any:
    """Call ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline, last_error = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except BiDiError as error:  # e.g. the page navigated away in the middle of a script
            last_error = error
        time.sleep(poll)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what} (last error: {last_error})")


class Firefox:
    """One headless Firefox process and its BiDi session, working in one tab."""

    def __init__(self, process: subprocess.Popen, log: Path):
        self.process, self.log = process, log
        self.socket: websocket.WebSocket | None = None
        self.ids = itertools.count(1)
        self.context = ""
        self.console: list[str] = []

    def connect(self, address: str, timeout: float = 10) -> None:
        self.socket = websocket.create_connection(
            address + "/session",
            timeout=timeout,
            suppress_origin=True,  # Firefox refuses an Origin
        )
        self.command("session.new", {"capabilities": {}})
        self.command("session.subscribe", {"events": ["log.entryAdded"]})
        self.context = self.command("browsingContext.getTree", {})["contexts"][0]["context"]

    def command(self, method: str, params: dict, timeout: float = 20) -> dict:
        """Send one BiDi command and return its result; events met on the way are kept."""
        command_id = next(self.ids)
        self.socket.send(json.dumps({"id": command_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            self.socket.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                message = json.loads(self.socket.recv())
            except websocket.WebSocketTimeoutException:
                raise TimeoutError(f"no answer to {method} within {timeout} s") from None
            if message.get("method") == "log.entryAdded":
                self.console.append(message["params"].get("text", ""))
            elif message.get("id") == command_id:
                if message.get("type") == "error":
                    raise BiDiError(f"{method}: {message['error']}: {message.get('message')}")
                return message["result"]

    def install_extension(self, path: Path | None = None) -> str:
        path = path or practice_extension.path()
        params = {"extensionData": {"type": "path", "path": str(path)}}
        return self.command("webExtension.install", params)["extension"]

    def navigate(self, url: str) -> None:
        params = {"context": self.context, "url": url, "wait": "complete"}
        self.command("browsingContext.navigate", params, timeout=30)

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression (awaited if it is a promise) in the tab."""
        wrapped = f"Promise.resolve({expression}).then(v => JSON.stringify(v ?? null))"
        params = {"expression": wrapped, "target": {"context": self.context}, "awaitPromise": True}
        result = self.command("script.evaluate", params)
        if result["type"] == "exception":
            raise BiDiError(f"{expression}: {result['exceptionDetails'].get('text')}")
        return json.loads(result["result"]["value"])

    def call(self, function: str, *arguments: Any) -> Any:
        """The JSON value of ``function(...arguments)`` (awaited) in the tab. An argument is a
        node reference from ``locate`` (``{"sharedId": ...}``) or a string or number."""
        wrapped = (
            f"(...args) => Promise.resolve(({function})(...args))"
            ".then(v => JSON.stringify(v ?? null))"
        )
        params = {
            "functionDeclaration": wrapped,
            "arguments": [_local_value(argument) for argument in arguments],
            "target": {"context": self.context},
            "awaitPromise": True,
        }
        result = self.command("script.callFunction", params)
        if result["type"] == "exception":
            raise BiDiError(f"{function}: {result['exceptionDetails'].get('text')}")
        return json.loads(result["result"]["value"])

    def toolbar_root(self) -> dict:
        """A reference to the extension toolbar's (closed) shadow root; BiDiError if none."""
        params = {
            "context": self.context,
            "locator": {"type": "css", "value": "#etma-helper-toolbar"},
            "serializationOptions": {"includeShadowTree": "all", "maxDomDepth": 0},
        }
        nodes = self.command("browsingContext.locateNodes", params)["nodes"]
        root = nodes[0]["value"].get("shadowRoot") if nodes else None
        if not root:
            raise BiDiError("the page has no eTMA Helper toolbar")
        return {"sharedId": root["sharedId"]}

    def in_toolbar(self, function: str, *arguments: Any) -> Any:
        """``function(root, ...arguments)`` on the toolbar's shadow root."""
        return self.call(function, self.toolbar_root(), *arguments)

    def wait_for(self, expression: str, timeout: float = 20) -> Any:
        try:
            return wait_until(lambda: self.evaluate(expression), timeout, expression)
        except TimeoutError as error:
            raise TimeoutError(f"{error}\n{self.diagnostics()}") from None

    def diagnostics(self) -> str:
        """The page's last console lines and the tail of Firefox's output (with the host's)."""
        output = self.log.read_text(errors="replace").splitlines()[-25:] if self.log else []
        return "\n".join(["page console:", *self.console[-10:], "firefox output:", *output])

    def click(self, element: str) -> None:
        """A real mouse click in the middle of the element that ``element`` (JavaScript) finds."""
        self.click_at(*self.wait_for(f"({CENTRE})({element})"))

    def click_at(self, x: float, y: float) -> None:
        """A real mouse click at a point of the viewport."""
        mouse = [
            {"type": "pointerMove", "x": round(x), "y": round(y)},
            {"type": "pointerDown", "button": 0},
            {"type": "pointerUp", "button": 0},
        ]
        self.perform({"type": "pointer", "id": "mouse", "actions": mouse})

    def type_text(self, text: str) -> None:
        """Real key presses into whatever has the focus."""
        keys = [{"type": kind, "value": c} for c in text for kind in ("keyDown", "keyUp")]
        self.perform({"type": "key", "id": "keyboard", "actions": keys})

    def perform(self, *sources: dict) -> None:
        self.command("input.performActions", {"context": self.context, "actions": list(sources)})

    def quit(self) -> None:
        """Stop Firefox, politely if it answers, and kill its process group if it does not."""
        try:
            if self.socket is not None:
                self.command("browser.close", {}, timeout=5)
        except Exception:
            pass
        finally:
            if self.socket is not None:
                self.socket.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def start_firefox(install: HelperInstall, timeout: float = 30) -> Firefox:
    """Headless Firefox in a fresh profile under ``install.home``, with the extension installed.

    Firefox runs with the install's HOME and XDG variables, so the native host it starts reads
    ``$HOME/.mozilla/native-messaging-hosts/`` and the helper's private config.
    """
    profile = install.home / "firefox-profile"
    profile.mkdir(parents=True, exist_ok=True)
    prefs = "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in PREFS.items())
    (profile / "user.js").write_text(prefs)
    server_file = profile / "WebDriverBiDiServer.json"
    server_file.unlink(missing_ok=True)
    log = install.home / "firefox.log"
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [
                FIREFOX,
                "--headless",
                "--no-remote",
                "--profile",
                str(profile),
                "--remote-debugging-port=0",
                "--remote-allow-system-access",
                "about:blank",
            ],
            env=install.env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    browser = Firefox(process, log)
    try:

        def address() -> dict | None:
            if process.poll() is not None:
                raise RuntimeError(
                    f"Firefox exited ({process.returncode}): {browser.diagnostics()}"
                )
            return read_json(server_file)

        server = wait_until(address, timeout, "Firefox's BiDi address")
        browser.connect(f"ws://{server['ws_host']}:{server['ws_port']}")
        browser.install_extension()
        return browser
    except BaseException:
        browser.quit()
        raise


def _local_value(argument: Any) -> dict:
    """A BiDi argument: node references as they are, strings and numbers as values."""
    if isinstance(argument, dict):
        return argument
    if isinstance(argument, str):
        return {"type": "string", "value": argument}
    if isinstance(argument, (int, float)):
        return {"type": "number", "value": argument}
    raise TypeError(f"cannot pass {argument!r} to the page")


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


# --- The tutor's steps, as in tests/chromium.py -----------------------------------------------


def fill_in(browser: Firefox, field: str, text: str) -> None:
    """Click a field, select what it holds, and type ``text`` over it."""
    browser.click(field)
    browser.evaluate(f"{field}.select()")
    browser.type_text(text)


def set_etma_address(browser: Firefox, address: str) -> None:
    """Save the eTMA address on the extension's options page, as a user would."""
    browser.navigate(OPTIONS_URL)
    browser.wait_for("document.getElementById('etma-url')?.value")
    fill_in(browser, "document.getElementById('etma-url')", address)
    browser.click("document.querySelector('button[type=submit]')")
    browser.wait_for("document.getElementById('status').textContent.includes('Saved')")
    browser.navigate(OPTIONS_URL)  # read it back: the address really was stored
    field = "document.getElementById('etma-url')?.value"
    browser.wait_for(f"{field} === {json.dumps(address)}")


def log_in(browser: Firefox, login_url: str, username: str, password: str) -> None:
    """Log in through a practice site's own login form, as a tutor would."""
    browser.navigate(login_url)
    form = "document.querySelector('form')"
    fill_in(browser, f"{form}.querySelector('input[type=text], input:not([type])')", username)
    fill_in(browser, f"{form}.querySelector('input[type=password]')", password)
    browser.click(f"{form}.querySelector('[type=submit]')")
    browser.wait_for("document.readyState === 'complete' && !location.href.includes('login')")


def log_in_to_both(browser: Firefox, sites) -> None:
    log_in(browser, sites.oscar_url + "oscar/login", *sites.OSCAR_LOGIN)
    log_in(browser, sites.etma_url + "etma/login", *sites.ETMA_LOGIN)


def open_allocation(browser: Firefox, sites) -> None:
    """Open the OSCAR work-allocation page and wait for the extension's toolbar."""
    browser.navigate(sites.allocation_url)
    find = "(root) => !!root.querySelector('[data-action=download]')"
    wait_until(lambda: browser.in_toolbar(find), 20, "the toolbar")


def toolbar_text(browser: Firefox, selector: str) -> str:
    """The text of the toolbar's part ``selector``."""
    return browser.in_toolbar("(root, s) => root.querySelector(s).textContent", selector)


def click_toolbar(browser: Firefox, action: str) -> None:
    """A real click on the toolbar's button ``action``."""
    centre = f"(root, s) => ({CENTRE})(root.querySelector(s))"
    selector = f'[data-action="{action}"]'
    browser.click_at(*wait_until(lambda: browser.in_toolbar(centre, selector), 20, selector))


def message_line(browser: Firefox) -> str:
    return toolbar_text(browser, "[data-role=message]")


def wait_for_message(browser: Firefox, text: str, timeout: float = 120) -> str:
    try:
        return wait_until(
            lambda: (line := message_line(browser)) and text in line and line,
            timeout,
            f"the message {text!r}",
        )
    except TimeoutError as error:
        raise TimeoutError(f"{error}\n{browser.diagnostics()}") from None


def row_states(browser: Firefox) -> dict[str, str]:
    return browser.evaluate(
        "Object.fromEntries([...document.querySelectorAll('tr[data-etma-pi]')]"
        ".map(r => [r.dataset.etmaPi, r.dataset.etmaState]))"
    )


def wait_for_rows(browser: Firefox, states: set[str], timeout: float = 10) -> dict[str, str]:
    """Wait until every student row shows one of ``states``; return every row's state.

    The toolbar's message changes at once, the rows on the page's next frame (or within 0.5 s).
    """
    wanted = json.dumps(sorted(states))
    browser.wait_for(
        f"[...document.querySelectorAll('tr[data-etma-pi]')]"
        f".every(r => {wanted}.includes(r.dataset.etmaState))",
        timeout,
    )
    return row_states(browser)


def status_texts(browser: Firefox) -> dict[str, str]:
    return browser.evaluate(
        "Object.fromEntries([...document.querySelectorAll('tr[data-etma-pi]')]"
        ".map(r => [r.dataset.etmaPi, r.querySelector('td.etma-helper-status').innerText]))"
    )
