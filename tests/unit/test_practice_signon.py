"""The practice sites' sign-on mode, over real HTTP: both sites send a visitor without a session to
the sign-on host, which signs them in and hands them back (SAML's self-posting form, SAMS's
redirect), and records every request it receives."""

from __future__ import annotations

import socket
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from bs4 import BeautifulSoup

from tests.sites import SIGNON_HOST, Faults, PracticeSites

MODES = ("saml", "sams")


@pytest.fixture
def signon_sites(fresh_sites):
    yield fresh_sites
    fresh_sites.signon = None


def admin_url(sites: PracticeSites) -> str:
    return sites.etma_url + "etma/admin"


def location(response: requests.Response) -> str:
    assert response.status_code == 302, response.status_code
    return response.headers["Location"]


def login_form(response: requests.Response):
    soup = BeautifulSoup(response.text, "html.parser")
    form = soup.find("form")
    assert form is not None and form.find("input", attrs={"type": "password"}) is not None
    hidden = {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}
    return form, hidden


def sign_in(session, response, password=None):
    """Fill and post the sign-on host's login form on ``response``; the answer, unfollowed."""
    form, fields = login_form(response)
    username, right = PracticeSites.SIGNON_LOGIN
    fields.update(username=username, password=password or right)
    target = urljoin(response.url, form["action"])
    return session.post(target, data=fields, allow_redirects=False, timeout=5)


def test_without_sign_on_mode_each_site_keeps_its_own_login(fresh_sites):
    assert fresh_sites.signon is None
    to = location(requests.get(admin_url(fresh_sites), allow_redirects=False, timeout=5))
    assert to.startswith("/etma/login")


@pytest.mark.parametrize("mode", MODES)
def test_a_missing_session_on_either_site_goes_to_the_sign_on_host(signon_sites, mode):
    signon_sites.signon = mode
    for start in (admin_url(signon_sites), signon_sites.allocation_url):
        to = urlsplit(location(requests.get(start, allow_redirects=False, timeout=5)))
        assert (to.hostname, to.port) == (SIGNON_HOST, urlsplit(signon_sites.signon_url).port)
        if mode == "sams":
            assert to.path == "/sams/login" and parse_qs(to.query)["URL"] == [start]
        else:
            assert set(parse_qs(to.query)) == {"SAMLRequest", "RelayState"}


def test_saml_login_page_then_a_self_posting_form_then_a_fresh_etma_session(signon_sites):
    signon_sites.signon = "saml"
    session = requests.Session()
    page = session.get(admin_url(signon_sites), timeout=5)
    assert urlsplit(page.url).hostname == SIGNON_HOST
    wrong = sign_in(session, page, password="nope")
    assert "not recognised" in wrong.text and "SAMLResponse" not in wrong.text
    answer = sign_in(session, page)
    assert answer.status_code == 200 and "shib_idp_session" in answer.cookies
    soup = BeautifulSoup(answer.text, "html.parser")
    assert soup.body["onload"] == "document.forms[0].submit()"
    form = soup.find("form")
    assert form["method"] == "post"
    assert form["action"] == signon_sites.etma_url + "etma/saml/acs"
    fields = {i["name"]: i["value"] for i in form.find_all("input", type="hidden")}
    assert set(fields) == {"SAMLResponse", "RelayState"} and fields["RelayState"] == "/etma/admin"
    assert soup.find("noscript").find_next("noscript").find("input", type="submit")
    assert "ETMA_SESSION" not in session.cookies

    back = session.post(form["action"], data=fields, allow_redirects=False, timeout=5)
    assert location(back) == "/etma/admin" and "ETMA_SESSION" in back.cookies
    assert "Module code" in session.get(admin_url(signon_sites), timeout=5).text
    # a SAML response signs in once
    again = requests.post(form["action"], data=fields, allow_redirects=False, timeout=5)
    assert again.status_code == 400 and "ETMA_SESSION" not in again.cookies


def test_sams_login_sets_its_cookie_and_sends_the_visitor_back_to_the_page(signon_sites):
    signon_sites.signon = "sams"
    session = requests.Session()
    page = session.get(admin_url(signon_sites), timeout=5)
    assert urlsplit(page.url).path == "/sams/login"
    answer = sign_in(session, page)
    assert "SAMSsession" in answer.cookies
    back = urlsplit(location(answer))
    assert back.geturl().startswith(admin_url(signon_sites) + "?SAMSticket=")
    landed = session.get(back.geturl(), allow_redirects=False, timeout=5)
    assert location(landed) == "/etma/admin" and "ETMA_SESSION" in landed.cookies
    assert "Module code" in session.get(admin_url(signon_sites), timeout=5).text
    # a ticket signs in once: replayed, it is dropped and the visitor sent to sign in
    replay = requests.get(back.geturl(), allow_redirects=False, timeout=5)
    assert location(replay) == "/etma/admin" and "ETMA_SESSION" not in replay.cookies
    again = requests.get(admin_url(signon_sites), allow_redirects=False, timeout=5)
    assert urlsplit(location(again)).hostname == SIGNON_HOST


@pytest.mark.parametrize("mode", MODES)
def test_signon_login_signs_a_session_in_to_etma_or_oscar_like_a_browser(signon_sites, mode):
    signon_sites.signon = mode
    with requests.Session() as etma:
        page = signon_sites.signon_login(etma)
        assert page.url == admin_url(signon_sites) and "Module code" in page.text
    with requests.Session() as oscar:
        page = signon_sites.signon_login(oscar, signon_sites.allocation_url)
        assert page.url == signon_sites.allocation_url and "students allocated" in page.text


@pytest.mark.parametrize("mode", MODES)
def test_expiry_knobs_lead_to_the_sign_on_host_and_a_live_sign_in_returns_at_once(
    signon_sites, mode
):
    signon_sites.signon = mode
    session = requests.Session()
    signon_sites.signon_login(session)
    # the page signing in landed on was the session's first request: two more, then it ends
    signon_sites.faults = Faults(session_expires_after=3)
    admin = admin_url(signon_sites)
    assert [session.get(admin, allow_redirects=False, timeout=5).status_code for _ in "ab"] == [
        200,
        200,
    ]
    expired = session.get(admin, allow_redirects=False, timeout=5)
    assert urlsplit(location(expired)).hostname == SIGNON_HOST
    signon_sites.faults = Faults()
    # still signed in at the sign-on host: straight back to eTMA, no password asked
    page = signon_sites.signon_login(session)
    assert page.url == admin and "Module code" in page.text
    signon_sites.expire_etma_sessions()
    gone = session.get(admin, allow_redirects=False, timeout=5)
    assert urlsplit(location(gone)).hostname == SIGNON_HOST


def test_the_sign_on_host_counts_each_request_and_records_its_cookie_header(signon_sites):
    signon_sites.signon = "sams"
    before = len(signon_sites.signon_requests)
    requests.get(
        signon_sites.signon_url + "sams/login",
        params={"URL": admin_url(signon_sites)},
        headers={"Cookie": "probe=1"},
        timeout=5,
    )
    recorded = signon_sites.signon_requests[before:]
    assert [(r.method, r.path.split("?")[0], r.cookie) for r in recorded] == [
        ("GET", "/sams/login", "probe=1")
    ]
    assert signon_sites.signon_hits[("GET", "/sams/login")] == 1
    signon_sites.reset_hits()
    assert signon_sites.signon_requests == [] and not signon_sites.signon_hits


@pytest.mark.parametrize(
    "path", ["sams/login?URL=https://elsewhere.example/", "idp/profile/SAML2/Redirect/SSO"]
)
def test_the_sign_on_host_sends_nobody_to_a_site_it_does_not_serve(signon_sites, path):
    signon_sites.signon = "sams"
    response = requests.get(signon_sites.signon_url + path, allow_redirects=False, timeout=5)
    assert response.status_code == 400 and "Location" not in response.headers


def test_an_unknown_sign_on_mode_is_refused(cohort):
    with pytest.raises(ValueError, match="sams"):
        PracticeSites(cohort, signon="kerberos")


@pytest.mark.parametrize("fresh_sites", [{"signon": "sams"}], indirect=True)
def test_fresh_sites_takes_the_sign_on_mode_as_a_knob(fresh_sites):
    assert fresh_sites.signon == "sams"
    to = location(requests.get(admin_url(fresh_sites), allow_redirects=False, timeout=5))
    assert urlsplit(to).hostname == SIGNON_HOST


def test_the_sign_on_host_binds_only_its_own_loopback_address(sites):
    port = urlsplit(sites.signon_url).port
    assert urlsplit(sites.signon_url).hostname == "127.0.0.3"
    for host in ("127.0.0.1", "127.0.0.2"):
        with pytest.raises(OSError):
            socket.create_connection((host, port), timeout=1).close()
