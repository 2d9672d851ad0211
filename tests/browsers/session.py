"""One browser session as the end-to-end tests see it, whichever browser runs it.

``BrowserSession`` is the page-object interface: what a tutor does (sign in to the practice
sites, save the eTMA address, open the OSCAR allocation page, tick rows, press the toolbar's
buttons, read rows, messages and code fields, use the popup and the options page) and what a test
reads. Those steps are written once here, over a few primitives each browser implements
(``tests/browsers/chromium.py`` with Selenium, ``tests/browsers/firefox.py`` with WebDriver BiDi):
navigate, run a JavaScript function in the page, run one on the toolbar's closed shadow root,
click an element with the real mouse, press real keys, tabs, screenshots.

The steps rely only on the DOM the extension promises: the toolbar ``#etma-helper-toolbar`` with
a closed shadow root holding ``[data-action]`` buttons and ``[data-role]`` parts, the rows
``tr[data-etma-pi]`` with ``data-etma-state``, ``input.etma-helper-select`` and
``td.etma-helper-status``, and the extension's pages ``popup/popup.html`` and
``options/options.html``. A page's own script cannot reach the closed shadow root; the browser's
automation can, and the tests read and press it through that.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from etma_helper import records
from tests.browsers.helper_install import HelperInstall
from tests.browsers.waiting import holds_for, wait_until

T = TypeVar("T")

# WebDriver's key codes, the same in Selenium and in BiDi's input actions.
TAB, ENTER, SPACE, BACKSPACE = "\ue004", "\ue007", "\ue00d", "\ue003"
SHIFT, CONTROL = "\ue008", "\ue009"

KEYSYMS = {"Tab": TAB, "Return": ENTER, "space": SPACE, "BackSpace": BACKSPACE}

TOOLBAR = "#etma-helper-toolbar"
ROW = "tr[data-etma-pi]"
CHECKBOX = "input.etma-helper-select"
FINAL_STATES = frozenset(records.FINAL_STATES)
REPO = Path(__file__).resolve().parents[2]
DOC_SCREENSHOTS = REPO / "docs" / "screenshots"


class NoToolbar(LookupError):
    """The page has no eTMA Helper toolbar (yet)."""


def row_selector(pi: str, inside: str = "") -> str:
    """The row of student ``pi``, or ``inside`` it."""
    return f'tr[data-etma-pi="{pi}"] {inside}'.strip()


class BrowserSession(ABC):
    """A real browser with the extension, for one helper install; see the module's docstring."""

    name: ClassVar[str]  # "chromium" or "firefox"
    extension_id: ClassVar[str]  # as the browser names the extension (a page could address it)

    def __init__(self, install: HelperInstall, *, headed: bool = False):
        self.install = install
        self.headed = headed
        # Errors that mean "not an answer yet" inside a wait (a page navigating, a node gone).
        self.transient: tuple[type[BaseException], ...] = (NoToolbar,)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {'headed' if self.headed else 'headless'}>"

    # --- Primitives: each browser implements these --------------------------------------------

    @abstractmethod
    def navigate(self, url: str) -> None:
        """Load ``url`` in the current tab and wait for it to load."""

    @abstractmethod
    def reload(self) -> None:
        """Reload the current tab's page, as the tutor pressing F5."""

    @abstractmethod
    def current_url(self) -> str: ...

    @abstractmethod
    def run(self, function: str, *args: Any) -> Any:
        """``function(...args)`` (JavaScript, awaited) in the current page's own world, as the
        page's scripts run; arguments and answer are JSON values."""

    @abstractmethod
    def run_in_toolbar(self, function: str, *args: Any) -> Any:
        """``function(root, ...args)`` with ``root`` the toolbar's closed shadow root (which the
        page's world cannot reach by itself); NoToolbar if the page has none."""

    @abstractmethod
    def click(self, selector: str, *, in_toolbar: bool = False, shift: bool = False) -> None:
        """A real mouse click (with Shift held if ``shift``) on the element ``selector`` finds in
        the page, or in the toolbar; waits until it is there, shown and enabled."""

    @abstractmethod
    def type_keys(self, keys: str) -> None:
        """Real key presses into whatever has the focus (WebDriver key codes for special keys)."""

    @abstractmethod
    def key_chord(self, modifier: str, key: str) -> None:
        """``key`` pressed while ``modifier`` is held (say Ctrl+A)."""

    def press_keys(self, *names: str) -> None:
        """Keys a keyboard user presses to move and to press controls, by X keysym name
        (``Tab``, ``Return``, ``space``): Enter and Space on a focused button press it."""
        self.type_keys("".join(KEYSYMS.get(name, name) for name in names))

    @abstractmethod
    def new_tab(self) -> str:
        """Open a new tab, make it the current one, and return its handle."""

    @abstractmethod
    def switch_to_tab(self, handle: str) -> None: ...

    @abstractmethod
    def current_tab(self) -> str: ...

    @abstractmethod
    def tabs(self) -> list[str]: ...

    @abstractmethod
    def close_tab(self) -> None:
        """Close the current tab, as the tutor would; switch to another tab before going on."""

    @abstractmethod
    def extension_url(self, path: str) -> str:
        """The address of one of the extension's own pages (``popup/popup.html``)."""

    @abstractmethod
    def screenshot(self, path: Path, selector: str | None = None, full_page: bool = False) -> Path:
        """A PNG of the viewport, of just the element ``selector`` finds, or with ``full_page``
        of the whole page at the window's width."""

    @abstractmethod
    def open_context_menu(self, selector: str) -> None:
        """A real right-click on the element: in a headed browser the browser's own menu opens."""

    @abstractmethod
    def row_menu_keys(self) -> list[str]:
        """The xdotool keys that go from a just-opened page menu to the first item of the
        extension's submenu (each browser lays its menu out its own way)."""

    @abstractmethod
    def browser_pid(self) -> int:
        """The process every process of this browser descends from (the helper it starts too)."""

    @abstractmethod
    def diagnostics(self) -> str:
        """What helps when a test fails: the address, the page's console, the browser's output."""

    @abstractmethod
    def responsive(self, seconds: float = 15) -> bool:
        """Whether the browser answers a trivial command within ``seconds``."""

    @abstractmethod
    def quit(self) -> None:
        """Stop the browser, and kill it if it does not stop."""

    # --- Waiting ---------------------------------------------------------------------------

    def wait(self, check: Callable[[], T], what: str, timeout: float = 20) -> T:
        """``check()``'s first truthy answer within ``timeout`` seconds; on timeout, an error
        naming ``what`` with the browser's diagnostics."""
        return wait_until(check, timeout, what, ignored=self.transient, explain=self.diagnostics)

    def stays(self, check: Callable[[], Any], seconds: float, what: str) -> None:
        """Assert ``check()`` holds for ``seconds`` (that something does *not* happen)."""
        holds_for(check, seconds, what, explain=self.diagnostics)

    # --- Any page ----------------------------------------------------------------------------

    def ready(self) -> bool:
        return self.run("() => document.readyState") == "complete"

    def text(self, selector: str, *, in_toolbar: bool = False) -> str | None:
        """The element's rendered text (``innerText``), or None if there is none."""
        return self._read(selector, "e.innerText", in_toolbar)

    def value(self, selector: str) -> str | None:
        return self._read(selector, "e.value", False)

    def attribute(self, selector: str, name: str, *, in_toolbar: bool = False) -> str | None:
        return self._read(selector, f"e.getAttribute({json.dumps(name)})", in_toolbar)

    def checked(self, selector: str, *, in_toolbar: bool = False) -> bool | None:
        return self._read(selector, "e.checked", in_toolbar)

    def enabled(self, selector: str, *, in_toolbar: bool = False) -> bool | None:
        return self._read(selector, "!e.disabled && !e.closest('fieldset[disabled]')", in_toolbar)

    def shown(self, selector: str, *, in_toolbar: bool = False) -> bool:
        """Whether the element is there and rendered (not hidden, not display: none)."""
        return bool(self._read(selector, "e.getClientRects().length > 0", in_toolbar))

    def count(self, selector: str, *, in_toolbar: bool = False) -> int:
        function = "(root, s) => root.querySelectorAll(s).length"
        if in_toolbar:
            return self.run_in_toolbar(function, selector)
        return self.run("(s) => document.querySelectorAll(s).length", selector)

    def texts(self, selector: str, key: str, *, in_toolbar: bool = False) -> dict[str, str]:
        """Every element ``selector`` finds, its attribute ``key`` → its rendered text."""
        function = (
            "(root, s, k) => Object.fromEntries([...root.querySelectorAll(s)]"
            ".map(e => [e.getAttribute(k), e.innerText]))"
        )
        if in_toolbar:
            return self.run_in_toolbar(function, selector, key)
        return self.run(f"(s, k) => ({function})(document, s, k)", selector, key)

    def _read(self, selector: str, expression: str, in_toolbar: bool) -> Any:
        function = (
            f"(root, s) => {{ const e = root.querySelector(s); return e ? {expression} : null; }}"
        )
        if in_toolbar:
            return self.run_in_toolbar(function, selector)
        return self.run(f"(s) => ({function})(document, s)", selector)

    def wait_for_text(
        self, selector: str, text: str, timeout: float = 20, *, in_toolbar: bool = False
    ) -> str:
        """Wait until the element's text contains ``text``; return all of it."""
        try:
            return self.wait(
                lambda: (t := self.text(selector, in_toolbar=in_toolbar)) and text in t and t,
                f"{text!r} in {selector}",
                timeout,
            )
        except TimeoutError as error:
            try:
                now = self.text(selector, in_toolbar=in_toolbar)
            except Exception as reading:
                now = f"(unreadable: {reading})"
            raise TimeoutError(f"{error}\n{selector} says: {now!r}") from None

    def wait_for_page_text(self, text: str, timeout: float = 20) -> str:
        """Wait until the page's body shows ``text`` (across a navigation)."""
        return self.wait_for_text("body", text, timeout)

    def fill(self, selector: str, text: str) -> None:
        """Click a field, select what it holds and type ``text`` over it, as a user would."""
        self.click(selector)
        self.key_chord(CONTROL, "a")
        self.type_keys(BACKSPACE + text)

    # --- The practice sites ------------------------------------------------------------------

    def log_in(self, login_url: str, username: str, password: str) -> None:
        """Log in through a practice site's own login form, as a tutor would."""
        self.navigate(login_url)
        self.fill("form input[type=text], form input:not([type])", username)
        self.fill("form input[type=password]", password)
        self.click("form [type=submit]")
        self.wait(lambda: "login" not in self.current_url() and self.ready(), "the login")

    def sign_in(self, sites) -> None:
        """Log in to the practice OSCAR and eTMA through their own forms."""
        self.log_in(sites.oscar_url + "oscar/login", *sites.OSCAR_LOGIN)
        self.log_in(sites.etma_url + "etma/login", *sites.ETMA_LOGIN)

    # --- The extension's pages ---------------------------------------------------------------

    def open_extension_page(self, path: str) -> None:
        self.navigate(self.extension_url(path))

    def open_popup(self) -> None:
        """The popup's page in the tab, once it has asked the helper how it is and listed the
        recent jobs (until then its buttons may still move as the page fills in)."""
        self.open_extension_page("popup/popup.html")
        self.wait(
            lambda: (
                self.attribute("#helper", "data-state") != "checking"
                and self.text("#recent") not in (None, "", "…")
            ),
            "the popup",
        )

    def open_options(self) -> None:
        self.open_extension_page("options/options.html")

    def popup_job(self, text: str, timeout: float = 20) -> str:
        """Open the popup and wait until its current job says ``text``; return the job's text."""
        self.open_popup()
        return self.wait_for_text("#job", text, timeout)

    def set_etma_address(self, address: str) -> None:
        """Save the eTMA address on the options page, as a user would, and read it back."""
        self.open_options()
        # Typed only once the page shows what is saved: in Firefox under load, the saved value
        # once arrived after the typing and replaced it, and the practice build's own address
        # was saved instead.
        self.wait_for_saved_settings()
        self.fill("#etma-url", address)
        self.click("#settings button[type=submit]")
        self.wait_for_text("#status", "Saved")
        self.open_options()  # read back from a freshly loaded page
        self.wait_for_saved_settings()
        shown = self.value("#etma-url")
        if shown != address:
            raise AssertionError(f"saved {address}, but the options page shows {shown!r}")

    def wait_for_saved_settings(self) -> None:
        """Wait until the options page shows the saved eTMA address and OSCAR pages."""
        self.wait(lambda: self.count("body[data-settings=shown]"), "the options page's settings")

    def save_helper_settings(self, selector: str, text: str) -> None:
        """Write ``text`` in one of the helper's settings on the options page and save them."""
        self.open_options()
        self.wait(lambda: self.enabled(selector) and self.value(selector), "the helper's settings")
        self.fill(selector, text)
        self.click("#helper-save")

    # --- The OSCAR allocation page -----------------------------------------------------------

    def open_allocation(self, sites, query: str = "") -> None:
        """Open the practice OSCAR work-allocation page (``query`` added to its address, such as
        ``&form=page``); wait for the toolbar, the rows' checkboxes and the page's start-up (the
        last job's results shown)."""
        self.navigate(sites.allocation_url + query)
        self.wait_for_toolbar()
        self.wait(lambda: self.count(CHECKBOX), "the rows' checkboxes")
        # The last job's results and any students carried from the marks page arrive just after
        # the toolbar: a click aimed before they show could land on a row they moved.
        self.wait(lambda: self.count(f"{TOOLBAR}[data-etma-ready]"), "the page's start-up")

    def wait_for_toolbar(self, timeout: float = 20) -> None:
        """Wait until the page has the extension's toolbar, with its buttons."""
        self.wait(
            lambda: self.run_in_toolbar("(root) => !!root.querySelector('[data-action]')"),
            "the eTMA Helper toolbar",
            timeout,
        )

    def has_toolbar(self) -> bool:
        return bool(self.count(TOOLBAR))

    def press(self, action: str) -> None:
        """A real click on the toolbar's button ``action`` (``select-all``, ``download``...)."""
        self.click(f'[data-action="{action}"]', in_toolbar=True)

    def toolbar_text(self, role: str) -> str:
        """The rendered text of the toolbar's part ``role`` (``message``, ``count``...)."""
        return self.text(f'[data-role="{role}"]', in_toolbar=True) or ""

    def message(self) -> str:
        return self.toolbar_text("message")

    def wait_for_message(self, text: str, timeout: float = 120) -> str:
        """Wait until the toolbar's message line says ``text`` (a job's summary, an error)."""
        return self.wait_for_text('[data-role="message"]', text, timeout, in_toolbar=True)

    def tick(self, pi: str, *, shift: bool = False) -> None:
        """Tick student ``pi``'s row with a real click (Shift held: the range from the last)."""
        self.click(row_selector(pi, CHECKBOX), shift=shift)

    def ticked(self) -> int:
        return self.count(f"{CHECKBOX}:checked")

    def row_states(self) -> dict[str, str | None]:
        """Each student row's state (``data-etma-state``), by PI."""
        return self.run(
            "() => Object.fromEntries([...document.querySelectorAll('tr[data-etma-pi]')]"
            ".map(r => [r.dataset.etmaPi, r.dataset.etmaState ?? null]))"
        )

    def status_texts(self) -> dict[str, str]:
        """Each student row's status cell, as shown, by PI."""
        return self.run(
            "() => Object.fromEntries([...document.querySelectorAll('tr[data-etma-pi]')]"
            ".map(r => [r.dataset.etmaPi,"
            " r.querySelector('td.etma-helper-status')?.innerText ?? null]))"
        )

    def status_text(self, pi: str) -> str:
        return self.text(row_selector(pi, "td.etma-helper-status")) or ""

    def code_fields(self) -> dict[str, str]:
        """Each student row's confirmation-code field, by PI (rows without one left out)."""
        return self.run(
            "() => Object.fromEntries([...document.querySelectorAll('tr[data-etma-pi]')]"
            ".filter(r => r.querySelector('input[name=confirmation_code]'))"
            ".map(r => [r.dataset.etmaPi, r.querySelector('input[name=confirmation_code]').value]))"
        )

    def wait_for_rows(
        self, settled: Callable[[dict[str, str | None]], bool], what: str, timeout: float = 60
    ) -> dict[str, str | None]:
        """Wait until the rows' states satisfy ``settled``; return them. (The message line
        changes at once, the rows on the page's next frame.)"""
        return self.wait(lambda: (s := self.row_states()) and settled(s) and s, what, timeout)

    def wait_for_finished_rows(self, count: int, timeout: float = 60) -> dict[str, str | None]:
        """Wait until at least ``count`` rows have a final state, and none is still working."""
        return self.wait_for_rows(
            lambda s: (
                sum(v in FINAL_STATES for v in s.values()) >= count
                and not {"queued", "working"} & set(s.values())
            ),
            f"{count} finished rows",
            timeout,
        )

    def focused_toolbar_control(self) -> str | None:
        """The ``data-action`` (or ``data-role``) of the toolbar control with the keyboard focus."""
        return self.run_in_toolbar(
            "(root) => { if (document.activeElement !== root.host) return null;"
            " const inner = root.activeElement;"
            " return inner ? inner.dataset.action || inner.dataset.role || inner.tagName : null; }"
        )

    def download_first_row(self, sites, pi: str, expected: str) -> str:
        """Tick student ``pi``, press Download scripts, and return the message once it says
        ``expected``."""
        self.open_allocation(sites)
        self.tick(pi)
        self.press("download")
        return self.wait_for_message(expected)

    # --- The browser's own row menu (headed, on a virtual screen) ----------------------------

    def choose_from_row_menu(self, screen, pi: str, item: int) -> None:
        """Right-click student ``pi``'s row and choose the extension's ``item``-th entry (0:
        download, 1: code, 2: open the eTMA page) with real key presses on the screen."""
        cell = row_selector(pi, "td:nth-child(3)")
        screen.choose_from_menu(
            open_menu=lambda: self.open_context_menu(cell),
            to_submenu=self.row_menu_keys(),
            then=["Down"] * item,
        )

    # --- Pictures and processes -----------------------------------------------------------------

    def document_screenshot(
        self, name: str, folder: Path, selector: str | None = None, full_page: bool = False
    ) -> Path:
        """A screenshot for docs/screenshots when this is Chromium (the README's pictures are
        headless Chromium's), into ``folder`` otherwise."""
        where = DOC_SCREENSHOTS if self.name == "chromium" and not self.headed else folder
        where.mkdir(parents=True, exist_ok=True)
        return self.screenshot(where / name, selector, full_page)

    def helper_pids(self) -> list[int]:
        """The helper processes this browser started (its native-messaging hosts)."""
        python = str(self.install.prefix / "venv" / "bin" / "python")
        return [pid for pid, command in descendants(self.browser_pid()) if python in command]


def descendants(root: int) -> list[tuple[int, str]]:
    """Every process below ``root``, with its command line (Linux /proc)."""
    children: dict[int, list[int]] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            commands[int(entry.name)] = (
                (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            )
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append((child, commands.get(child, "")))
            todo.append(child)
    return found
