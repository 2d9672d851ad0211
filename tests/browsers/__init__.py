"""The browsers the end-to-end tests drive, behind one page-object interface.

* ``session.py``: ``BrowserSession``, what a test does in a browser (sign in, open the OSCAR page,
  tick rows, press the toolbar's buttons, read rows, messages, the popup and the options page),
  written once over a few primitives that each browser implements;
* ``chromium.py``: ``ChromiumSession``, real Chromium through Selenium and chromedriver;
* ``firefox.py``: ``FirefoxSession``, real Firefox over WebDriver BiDi (``bidi.py``, no
  geckodriver);
* ``helper_install.py``: the helper installed and registered by the real ``install.py``;
* ``screen.py``: a virtual X screen and real input on it (xdotool), for the browsers' own menus;
* ``waiting.py``: waits on a condition, each with a deadline.
"""

from __future__ import annotations

from pathlib import Path

from tests.browsers.helper_install import HelperInstall
from tests.browsers.session import BrowserSession

BROWSERS = ("chromium", "firefox")


def start(
    name: str,
    install: HelperInstall,
    *,
    headless: bool = True,
    extension: Path | None = None,
    profile: Path | None = None,
    display: str | None = None,
) -> BrowserSession:
    """Start browser ``name`` ("chromium" or "firefox") with the extension, for ``install``'s
    helper; ``profile`` is the browser's profile folder (a fresh one under the install's home
    unless named), ``display`` the X screen of a headed browser."""
    if name == "chromium":
        from tests.browsers.chromium import ChromiumSession as kind
    elif name == "firefox":
        from tests.browsers.firefox import FirefoxSession as kind
    else:
        raise ValueError(f"no such browser: {name!r} (one of {', '.join(BROWSERS)})")
    return kind.start(
        install, headless=headless, extension=extension, profile=profile, display=display
    )


def signed_in(session: BrowserSession, sites) -> BrowserSession:
    """``session`` as a tutor leaves it: the eTMA address saved on the options page, logged in
    to both practice sites; stopped if that fails."""
    try:
        session.set_etma_address(sites.etma_url + "etma/admin")
        session.sign_in(sites)
    except BaseException:
        session.quit()
        raise
    return session


def start_signed_in(name: str, install: HelperInstall, sites, **options) -> BrowserSession:
    """Browser ``name`` started (``start``'s options) and signed in (``signed_in``)."""
    return signed_in(start(name, install, **options), sites)
