"""End-to-end fixtures: the helper installed once by the real install.py (registered with
Chromium and Firefox), and each browser started once per test session, signed in to both practice
sites. Every test that takes ``browser_name`` runs in Chromium and in Firefox.

A browser that stops answering fails the test it wedged; the next test gets a new one. When a
test fails, a screenshot and the browser's diagnostics are saved and shown with the failure.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests import browsers
from tests.browsers.helper_install import HelperInstall, install_helper
from tests.browsers.screen import Screen
from tests.browsers.session import BrowserSession
from tests.browsers.shared import Kept

# Chromium registers a helper per profile folder: the shared browser's and the headed one's.
CHROMIUM_PROFILES = ("chromium", "chromium-headed")


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> HelperInstall:
    """One real install.py run, registering the helper with Chromium and Firefox."""
    return install_helper(tmp_path_factory.mktemp("home"), chromium_profiles=CHROMIUM_PROFILES)


@pytest.fixture(scope="session", params=browsers.BROWSERS)
def browser_name(request) -> str:
    """Each browser in turn; pytest runs every test of one browser before the next starts."""
    return request.param


@pytest.fixture(scope="session")
def artefacts(tmp_path_factory) -> Path:
    """Where failing tests' screenshots and diagnostics go (and pictures not for the docs)."""
    return tmp_path_factory.mktemp("browser-artefacts")


def tidy(session: BrowserSession) -> None:
    """Back to one tab, whatever the test left open."""
    if not session.responsive():
        return
    first, *others = session.tabs()
    for tab in others:
        session.switch_to_tab(tab)
        session.close_tab()
    session.switch_to_tab(first)


def watch(request, session: BrowserSession, artefacts: Path) -> BrowserSession:
    """Name ``session`` as this test's, for the failure report."""
    request.node.__dict__.setdefault("browser_sessions", []).append(session)
    request.node.__dict__["browser_artefacts"] = artefacts
    return session


@pytest.fixture(scope="session")
def shared_browser(browser_name, installed, sites):
    kept = Kept(lambda: browsers.start_signed_in(browser_name, installed, sites))
    yield kept
    kept.close()


@pytest.fixture
def browser(request, shared_browser, installed, fresh_sites, artefacts) -> BrowserSession:
    """The shared browser, with an empty download folder and fresh eTMA and OSCAR sessions."""
    session = watch(request, shared_browser.healthy(), artefacts)
    shutil.rmtree(installed.download_root, ignore_errors=True)
    session.sign_in(fresh_sites)
    yield session
    tidy(session)


@pytest.fixture
def start_browser(request, browser_name, artefacts):
    """Start a browser of this test's kind with its own profile (a fresh one), for the test
    alone; stopped after it."""
    started: list[BrowserSession] = []

    def start(install: HelperInstall, *, signed_in_to=None, **options) -> BrowserSession:
        if signed_in_to is not None:
            session = browsers.start_signed_in(browser_name, install, signed_in_to, **options)
        else:
            session = browsers.start(browser_name, install, **options)
        started.append(watch(request, session, artefacts))
        return session

    yield start
    for session in started:
        session.quit()


@pytest.fixture(scope="session")
def screen():
    """A private virtual X screen for the headed browsers."""
    display = Screen()
    yield display
    display.stop()


@pytest.fixture(scope="session")
def shared_headed(browser_name, installed, sites, screen):
    profile = installed.home / f"{browser_name}-headed"
    kept = Kept(
        lambda: browsers.start_signed_in(
            browser_name,
            installed,
            sites,
            headless=False,
            profile=profile,
            display=screen.display,
        )
    )
    yield kept
    kept.close()


@pytest.fixture
def headed(request, shared_headed, installed, fresh_sites, artefacts) -> BrowserSession:
    """A headed browser on the virtual screen, whose right-click opens the browser's own menu;
    an empty download folder and fresh site sessions, as ``browser`` has."""
    session = watch(request, shared_headed.healthy(), artefacts)
    shutil.rmtree(installed.download_root, ignore_errors=True)
    session.sign_in(fresh_sites)
    yield session
    tidy(session)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """When a test fails, keep a screenshot and the diagnostics of each browser it used."""
    report = yield
    sessions = item.__dict__.get("browser_sessions", [])
    if report.failed and call.when == "call" and sessions:
        folder = item.__dict__["browser_artefacts"]
        for number, session in enumerate(sessions):
            name = f"{item.name}-{number}".replace("/", "_")
            lines = [f"{session!r}"]
            if session.responsive(5):
                try:
                    lines.append(f"screenshot: {session.screenshot(folder / f'{name}.png')}")
                except Exception as error:
                    lines.append(f"(no screenshot: {error})")
            lines.append(session.diagnostics())
            report.sections.append((f"browser {number}", "\n".join(lines)))
    return report
