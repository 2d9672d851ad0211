"""Real Firefox (Debian's firefox-esr) and a small WebDriver BiDi client for it.

There is no geckodriver: Firefox itself serves BiDi (``--remote-debugging-port``), and this client
speaks it over a websocket (``websocket-client``, which Selenium already depends on). Every
command has a deadline, so a wedged Firefox fails the one command with a clear error.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import websocket

from tests.browsers.waiting import wait_until

FIREFOX = "/usr/bin/firefox-esr"


# Firefox's output about itself (its remote agent, experiments, D-Bus), never the extension's.
NOISE = re.compile(
    r"chrome://|resource://|RemoteSettings|RSLoader|nimbus|D-Bus|GFX1|^\s*$|^\s+(Message|Stack):"
    r"|RemoteAgent\s+INFO"
)


class BiDiError(RuntimeError):
    """Firefox answered a command with an error (a node gone with its page, a bad argument)."""


class BiDi:
    """One Firefox process and its BiDi session."""

    def __init__(self, process: subprocess.Popen, log: Path):
        self.process, self.log = process, log
        self.socket: websocket.WebSocket | None = None
        self.ids = itertools.count(1)
        self.console: list[str] = []

    def connect(self, address: str, capabilities: dict, timeout: float = 10) -> None:
        self.socket = websocket.create_connection(
            address + "/session",
            timeout=timeout,
            suppress_origin=True,  # Firefox refuses an Origin
        )
        self.command("session.new", {"capabilities": {"alwaysMatch": capabilities}})
        self.command("session.subscribe", {"events": ["log.entryAdded"]})

    def command(self, method: str, params: dict, timeout: float = 20) -> dict:
        """Send one BiDi command and return its result; events met on the way are kept."""
        if self.socket is None:
            raise BiDiError(f"{method}: not connected to Firefox")
        command_id = next(self.ids)
        self.socket.send(json.dumps({"id": command_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"Firefox gave no answer to {method} within {timeout} s")
            self.socket.settimeout(left)
            try:
                message = json.loads(self.socket.recv())
            except websocket.WebSocketTimeoutException:
                raise TimeoutError(
                    f"Firefox gave no answer to {method} within {timeout} s"
                ) from None
            if message.get("method") == "log.entryAdded":
                entry = message["params"]
                self.console.append(f"{entry.get('level')}: {entry.get('text', '')}")
                del self.console[:-200]
            elif message.get("id") == command_id:
                if message.get("type") == "error":
                    raise BiDiError(f"{method}: {message['error']}: {message.get('message')}")
                return message["result"]

    def output(self, lines: int = 25) -> list[str]:
        """The tail of Firefox's own output (the helper's stderr goes there too), without
        Firefox's own chatter about its internals."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if not NOISE.search(line)][-lines:]

    def quit(self) -> None:
        """Stop Firefox, politely if it answers, and kill its process group if it does not."""
        answered = False
        try:
            if self.socket is not None:
                self.command("browser.close", {}, timeout=5)
                answered = True
        except Exception:
            pass
        finally:
            if self.socket is not None:
                self.socket.close()
                self.socket = None
        try:
            self.process.wait(timeout=10 if answered else 0.5)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def launch(
    profile: Path,
    prefs: dict[str, Any],
    env: dict[str, str],
    log: Path,
    *,
    headless: bool = True,
    capabilities: dict | None = None,
    timeout: float = 60,
) -> BiDi:
    """Firefox on a fresh ``profile`` folder with ``prefs``, its BiDi session open."""
    profile.mkdir(parents=True, exist_ok=True)
    lines = "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in prefs.items())
    (profile / "user.js").write_text(lines)
    server_file = profile / "WebDriverBiDiServer.json"
    server_file.unlink(missing_ok=True)
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [
                FIREFOX,
                *(["--headless"] if headless else []),
                "--no-remote",
                "--profile",
                str(profile),
                "--remote-debugging-port=0",
                "--remote-allow-system-access",
                "about:blank",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    browser = BiDi(process, log)
    try:

        def address() -> dict | None:
            if process.poll() is not None:
                output = "\n".join(browser.output())
                raise RuntimeError(f"Firefox exited ({process.returncode}):\n{output}")
            return read_json(server_file)

        server = wait_until(address, timeout, "Firefox's BiDi address")
        browser.connect(f"ws://{server['ws_host']}:{server['ws_port']}", capabilities or {})
        return browser
    except BaseException:
        browser.quit()
        raise


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
