"""Shared fixtures: the practice sites, a logged-in eTMA session, a private download root."""

from __future__ import annotations

import pytest
import requests

from etma_helper.config import Settings
from etma_helper.records import Cookie
from tests.sites import Cohort, Faults, PracticeSites


@pytest.fixture(autouse=True)
def private_user_dirs(tmp_path, monkeypatch):
    """Settings, ledger and logs of any helper code a test runs stay in the test's folder."""
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / "xdg" / name.lower()))


@pytest.fixture(scope="session")
def cohort() -> Cohort:
    return Cohort(size=30, seed=351, module="TM351", assignment="TMA02")


@pytest.fixture(scope="session")
def sites(cohort):
    with PracticeSites(cohort) as running:
        yield running


@pytest.fixture
def fresh_sites(request, sites):
    """The shared sites with knobs reset before and after a test.

    A test may start with knobs set, by PracticeSites keyword: parametrise this fixture
    indirectly with a dict of them, e.g. sign-on mode (``signon``: ``"saml"`` or ``"sams"``),
    which also reaches fixtures built on this one (the end-to-end ``browser``)::

        @pytest.mark.parametrize("fresh_sites", [{"signon": "saml"}], indirect=True)
    """
    reset(sites)
    sites.reset_hits()
    for knob, value in getattr(request, "param", {}).items():
        if knob not in KNOBS:
            raise ValueError(f"fresh_sites has no knob {knob!r}; known: {', '.join(KNOBS)}")
        setattr(sites, knob, value)
    yield sites
    reset(sites)


#: The knobs ``fresh_sites`` may be parametrised with, and what ``reset`` puts back.
KNOBS = ("latency", "zip_pad_to", "faults", "etma_viewstate_bytes", "etma_hostile", "signon")


def reset(sites: PracticeSites) -> None:
    """Every knob a test may turn, and what OSCAR saved (unlocks, third marks), back to an
    ordinary site."""
    sites.latency = 0.0
    sites.zip_pad_to = None
    sites.faults = Faults()
    sites.etma_viewstate_bytes = 0
    sites.etma_hostile = {}
    sites.signon = None
    sites.changed_codes = {}
    sites.expire_signon_sessions()
    sites.forget_oscar_saves()


def etma_admin_url(sites: PracticeSites) -> str:
    return sites.etma_url + "etma/admin"


def login_cookies(sites: PracticeSites) -> tuple[Cookie, ...]:
    """Log in to the practice eTMA and return its cookies as the extension would forward them."""
    session = requests.Session()
    sites.etma_login(session)
    return tuple(
        Cookie(name=c.name, value=c.value, domain=c.domain, path=c.path, secure=bool(c.secure))
        for c in session.cookies
    )


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(download_root=tmp_path / "eTMA", concurrency=4)
