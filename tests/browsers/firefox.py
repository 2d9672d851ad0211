"""Real Firefox driven over WebDriver BiDi (``bidi.py``), with the extension (its practice build,
``tests/practice_extension.py``) installed as a temporary add-on and the helper registered for
the install's home, where Firefox looks (``$HOME/.mozilla/native-messaging-hosts/``).

The toolbar's shadow root is closed: a page's script, and so ``script.callFunction`` in the page,
cannot reach it by itself. BiDi can (``browsingContext.locateNodes`` with ``includeShadowTree:
"all"``), and hands the reference to the function as an argument. Clicks and keys are real input
(``input.performActions``) at the element's place on the screen.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests import practice_extension
from tests.browsers.bidi import BiDi, BiDiError, launch
from tests.browsers.helper_install import HelperInstall
from tests.browsers.session import TOOLBAR, BrowserSession, NoToolbar
from tests.browsers.waiting import within

EXTENSION_ID = "etma-helper@etma-helper"
# Firefox gives each add-on a random moz-extension:// UUID per profile unless this pref names one.
EXTENSION_UUID = "3c1e5b1a-7d0f-4e55-9a0c-e7a0e1b0c351"
UNIVERSITY_NAMES = ("www.open.ac.uk", "oscar.open.ac.uk")
PREFS = {
    "extensions.webextensions.uuids": json.dumps({EXTENSION_ID: EXTENSION_UUID}),
    "extensions.originControls.grantByDefault": True,  # host permissions granted at install
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    # The university's names the tests serve pages under resolve to this machine, as
    # Chromium's --host-resolver-rules does for all of *.open.ac.uk (Firefox takes no pattern).
    "network.dns.localDomains": ",".join(UNIVERSITY_NAMES),
    "network.trr.mode": 5,  # no DNS over HTTPS: nothing leaves the machine
}
PAGE_LOAD_SECONDS = 30

# Where to click an element so that the click lands on it: its middle, scrolled into view, if
# it is shown, enabled and not covered; null otherwise.
CLICK_POINT = """(root, selector) => {
  const scope = root || document;
  const e = scope.querySelector(selector);
  if (!e || !e.getClientRects().length || e.disabled || e.closest('fieldset[disabled]')) {
    return null;
  }
  e.scrollIntoView({block: 'center'});
  const r = e.getBoundingClientRect();
  const x = r.x + r.width / 2, y = r.y + r.height / 2;
  const hit = scope.elementFromPoint(x, y);
  return hit && (hit === e || e.contains(hit)) ? [x, y] : null;
}"""


class FirefoxSession(BrowserSession):
    name = "firefox"
    extension_id = EXTENSION_ID

    def __init__(self, bidi: BiDi, install: HelperInstall, *, display: str | None):
        super().__init__(install, headed=display is not None)
        self.bidi = bidi
        self.display = display
        self.transient = (NoToolbar, BiDiError)
        self.context = self._contexts()[0]

    @classmethod
    def start(
        cls,
        install: HelperInstall,
        *,
        headless: bool = True,
        extension: Path | None = None,
        profile: Path | None = None,
        display: str | None = None,
        prefs: dict[str, Any] | None = None,
        permanent: bool = False,
        install_extension: bool = True,
    ) -> FirefoxSession:
        """Firefox in a fresh ``profile`` folder (``firefox`` under the install's home unless
        named), with the extension installed; it runs with the install's HOME and XDG folders,
        so the helper it starts is the registered one with its private settings.

        ``extension`` is a folder or a packaged ``.xpi``; ``permanent`` installs it for good, as
        a tutor does from about:addons, not as a temporary add-on (an unsigned one needs
        ``xpinstall.signatures.required`` off in ``prefs``, which are added to PREFS).
        ``install_extension=False`` installs nothing: the profile's own add-ons are used."""
        profile = profile or install.home / ("firefox" if headless else "firefox-headed")
        env = {**install.env, **({"DISPLAY": display} if display else {})}
        bidi = launch(
            profile,
            {**PREFS, **(prefs or {})},
            env,
            install.home / f"{profile.name}.log",
            headless=headless,
            capabilities={"acceptInsecureCerts": True},  # the test's own *.open.ac.uk pages
        )
        try:
            if install_extension:
                path = Path(extension or practice_extension.path())
                kind = "archivePath" if path.is_file() else "path"
                params: dict[str, Any] = {"extensionData": {"type": kind, "path": str(path)}}
                if permanent:
                    params["moz:permanent"] = True
                bidi.command("webExtension.install", params, timeout=30)
            screen = None if headless else (display or os.environ.get("DISPLAY", ""))
            return cls(bidi, install, display=screen)
        except BaseException:
            bidi.quit()
            raise

    def command(self, method: str, params: dict, timeout: float = 20) -> dict:
        return self.bidi.command(method, params, timeout)

    # --- Primitives ---------------------------------------------------------------------------

    def navigate(self, url: str) -> None:
        params = {"context": self.context, "url": url, "wait": "complete"}
        self.command("browsingContext.navigate", params, timeout=PAGE_LOAD_SECONDS)

    def reload(self) -> None:
        params = {"context": self.context, "wait": "complete"}
        self.command("browsingContext.reload", params, timeout=PAGE_LOAD_SECONDS)

    def current_url(self) -> str:
        tree = self.command("browsingContext.getTree", {"root": self.context, "maxDepth": 0})
        return tree["contexts"][0]["url"]

    def _call(self, function: str, *arguments: dict) -> Any:
        """``function(...arguments)`` in the tab's page, awaited, its answer as JSON."""
        wrapped = (
            f"(...args) => Promise.resolve(({function})(...args))"
            ".then(v => JSON.stringify(v ?? null))"
        )
        params = {
            "functionDeclaration": wrapped,
            "arguments": list(arguments),
            "target": {"context": self.context},
            "awaitPromise": True,
        }
        result = self.command("script.callFunction", params)
        if result["type"] == "exception":
            details = result["exceptionDetails"]
            raise BiDiError(f"{function}: {details.get('text')}")
        return json.loads(result["result"]["value"])

    def run(self, function: str, *args: Any) -> Any:
        return self._call(
            f"(json) => ({function})(...JSON.parse(json))",
            {"type": "string", "value": json.dumps(args)},
        )

    def toolbar_root(self) -> dict:
        params = {
            "context": self.context,
            "locator": {"type": "css", "value": TOOLBAR},
            "serializationOptions": {"includeShadowTree": "all", "maxDomDepth": 0},
        }
        nodes = self.command("browsingContext.locateNodes", params)["nodes"]
        root = nodes[0]["value"].get("shadowRoot") if nodes else None
        if not root:
            raise NoToolbar("the page has no eTMA Helper toolbar")
        return {"sharedId": root["sharedId"]}

    def run_in_toolbar(self, function: str, *args: Any) -> Any:
        return self._call(
            f"(root, json) => ({function})(root, ...JSON.parse(json))",
            self.toolbar_root(),
            {"type": "string", "value": json.dumps(args)},
        )

    def click(self, selector: str, *, in_toolbar: bool = False, shift: bool = False) -> None:
        def point():
            if in_toolbar:
                return self.run_in_toolbar(CLICK_POINT, selector)
            return self.run(f"(s) => ({CLICK_POINT})(null, s)", selector)

        where = " in the toolbar" if in_toolbar else ""
        x, y = self.wait(point, f"{selector}{where} to be shown, enabled and uncovered")
        mouse = [
            {"type": "pause", "duration": 0},
            {"type": "pointerMove", "x": round(x), "y": round(y)},
            {"type": "pointerDown", "button": 0},
            {"type": "pointerUp", "button": 0},
            {"type": "pause", "duration": 0},
        ]
        sources = [{"type": "pointer", "id": "mouse", "actions": mouse}]
        if shift:
            held = [
                {"type": "keyDown", "value": "\ue008"},
                *({"type": "pause", "duration": 0} for _ in range(3)),
                {"type": "keyUp", "value": "\ue008"},
            ]
            sources.append({"type": "key", "id": "keyboard", "actions": held})
        self.perform(*sources)

    def perform(self, *sources: dict) -> None:
        self.command("input.performActions", {"context": self.context, "actions": list(sources)})
        self.command("input.releaseActions", {"context": self.context})

    def type_keys(self, keys: str) -> None:
        actions = [{"type": kind, "value": key} for key in keys for kind in ("keyDown", "keyUp")]
        self.perform({"type": "key", "id": "keyboard", "actions": actions})

    def key_chord(self, modifier: str, key: str) -> None:
        actions = [
            {"type": "keyDown", "value": modifier},
            {"type": "keyDown", "value": key},
            {"type": "keyUp", "value": key},
            {"type": "keyUp", "value": modifier},
        ]
        self.perform({"type": "key", "id": "keyboard", "actions": actions})

    def press_keys(self, *names: str) -> None:
        """Firefox does not let WebDriver's synthesized keys press a button (Enter and Space on
        a focused <button> give keydown, keypress and keyup but no click, headless or not), so
        a keyboard user's keys come from the X screen of a headed Firefox, as a real keyboard's
        would."""
        if self.display is None:
            raise RuntimeError(
                "keys that press buttons need a headed Firefox on a screen: WebDriver BiDi's "
                "key events do not activate buttons in Firefox"
            )
        subprocess.run(
            ["xdotool", "key", "--delay", "60", *names],
            env={**os.environ, "DISPLAY": self.display},
            check=True,
            timeout=20,
        )

    def _contexts(self) -> list[str]:
        tree = self.command("browsingContext.getTree", {"maxDepth": 0})
        return [context["context"] for context in tree["contexts"]]

    def new_tab(self) -> str:
        created = self.command("browsingContext.create", {"type": "tab"})
        self.switch_to_tab(created["context"])
        return self.context

    def switch_to_tab(self, handle: str) -> None:
        self.context = handle
        self.command("browsingContext.activate", {"context": handle})

    def current_tab(self) -> str:
        return self.context

    def tabs(self) -> list[str]:
        return self._contexts()

    def close_tab(self) -> None:
        self.command("browsingContext.close", {"context": self.context})

    def extension_url(self, path: str) -> str:
        return f"moz-extension://{EXTENSION_UUID}/{path}"

    def screenshot(self, path: Path, selector: str | None = None, full_page: bool = False) -> Path:
        params: dict[str, Any] = {
            "context": self.context,
            "origin": "document" if full_page else "viewport",
        }
        if selector is not None:
            locator = {"type": "css", "value": selector}
            found = self.command(
                "browsingContext.locateNodes", {"context": self.context, "locator": locator}
            )["nodes"]
            if not found:
                raise BiDiError(f"no {selector} to take a picture of")
            params["clip"] = {"type": "element", "element": {"sharedId": found[0]["sharedId"]}}
        elif full_page:
            width, height = self.run(
                "() => [document.documentElement.clientWidth,"
                " document.documentElement.scrollHeight]"
            )
            params["clip"] = {"type": "box", "x": 0, "y": 0, "width": width, "height": height}
        shot = self.command("browsingContext.captureScreenshot", params, timeout=30)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def open_context_menu(self, selector: str) -> None:
        x, y = self.wait(lambda: self.run(f"(s) => ({CLICK_POINT})(null, s)", selector), selector)
        mouse = [
            {"type": "pointerMove", "x": round(x), "y": round(y)},
            {"type": "pointerDown", "button": 2},
            {"type": "pointerUp", "button": 2},
        ]
        self.perform({"type": "pointer", "id": "mouse", "actions": mouse})

    def row_menu_keys(self) -> list[str]:
        # Firefox puts an extension's submenu (named after the extension) last in the page menu.
        return ["Up", "Right"]

    def browser_pid(self) -> int:
        return self.bidi.process.pid

    def diagnostics(self) -> str:
        lines = []
        try:
            lines.append(f"address: {within(10, self.current_url, 'address')}")
        except Exception as error:  # a wedged browser: say so, and no more
            lines.append(f"(Firefox did not answer: {error})")
        lines += ["page console:", *self.bidi.console[-15:]]
        lines += ["Firefox's output:", *self.bidi.output()]
        return "\n".join(lines)

    def responsive(self, seconds: float = 15) -> bool:
        try:
            self.command("browsingContext.getTree", {"maxDepth": 0}, timeout=seconds)
            return True
        except Exception:
            return False

    def quit(self) -> None:
        self.bidi.quit()
