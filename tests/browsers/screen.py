"""A private virtual X screen (Xvfb) and real key presses on it (xdotool).

Headless browsers cannot open their own context menu (a WebDriver right-click only fires the
page's ``contextmenu`` event), so the row-menu tests run a headed browser here: the browser's
right-click opens its real menu, and xdotool presses the keys that choose the extension's item,
which fires the real ``contextMenus.onClicked`` in the background.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.browsers.waiting import wait_until


class Screen:
    """One Xvfb display, stopped with ``stop()``."""

    def __init__(self, width: int = 1280, height: int = 900):
        for number in range(99, 160):
            if (
                not Path(f"/tmp/.X11-unix/X{number}").exists()
                and not Path(f"/tmp/.X{number}-lock").exists()
            ):
                break
        else:
            raise RuntimeError("no free X display number")
        self.display = f":{number}"
        self.env = {**os.environ, "DISPLAY": self.display}
        self.process = subprocess.Popen(
            ["Xvfb", self.display, "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        socket = Path(f"/tmp/.X11-unix/X{number}")

        def up() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"Xvfb {self.display} exited ({self.process.returncode})")
            return socket.exists()

        try:
            wait_until(up, 20, f"Xvfb on {self.display}")
        except BaseException:
            self.stop()
            raise

    def xdotool(self, *args: str) -> str:
        done = subprocess.run(
            ["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=20
        )
        if done.returncode not in (0, 1):  # search finding nothing exits 1
            raise RuntimeError(f"xdotool {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def visible_windows(self) -> set[str]:
        """The mapped top-level windows: browser windows, and each open menu."""
        return set(self.xdotool("search", "--onlyvisible", "--maxdepth", "1", "--name", "").split())

    def keys(self, *keys: str) -> None:
        if keys:
            self.xdotool("key", "--delay", "60", *keys)

    def choose_from_menu(
        self, open_menu: Callable[[], None], to_submenu: list[str], then: list[str]
    ) -> None:
        """Open a menu with ``open_menu``, press ``to_submenu`` to open a submenu, then ``then``
        and Return in it; each step waits for the menu it needs to be on the screen."""
        before = self.visible_windows()
        open_menu()
        menu = wait_until(
            lambda: self.visible_windows() - before, 15, "the browser's menu on the screen"
        )
        self.keys(*to_submenu)
        wait_until(lambda: self.visible_windows() - before - menu, 15, "the extension's submenu")
        self.keys(*then, "Return")
        wait_until(lambda: not (self.visible_windows() - before), 15, "the menu to close")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
