"""Sign-on pages are recognised by meaning, with the built-in profile: a self-posting SAML form, a
form a page posts by itself to another site, a password form, and a redirect to another host (the
SAMS sign-in). The helper answers each with "needs login" and sends nothing to the other host."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from etma_helper.etma_pages import looks_like_login, parse, read_student_page
from etma_helper.etma_session import EtmaSession, SessionExpired, StudentFailed
from etma_helper.records import Cookie
from etma_helper.site_profile import SiteProfile
from tests.conftest import etma_admin_url, login_cookies

ETMA = "https://etma.example/etma/student"
IDP = "https://login.example/idp/profile/SAML2/POST/SSO"

# What an identity provider answers once the tutor has signed in (the HTTP-POST binding).
SAML_RESPONSE_PAGE = """<!DOCTYPE html><html><head><title>Working...</title></head>
<body onload="document.forms[0].submit()">
<noscript><p>Since your browser does not run scripts, press Continue.</p></noscript>
<form action="https://etma.example/Shibboleth.sso/SAML2/POST" method="post">
<input type="hidden" name="RelayState" value="ss:mem:5ae1c0"/>
<input type="hidden" name="SAMLResponse" value="PHNhbWxwOlJlc3BvbnNlIC8+"/>
<noscript><input type="submit" value="Continue"/></noscript></form></body></html>"""

# What a service provider answers a visitor without a session (SP-initiated, POST binding).
SAML_REQUEST_PAGE = f"""<html><body><form method="post" action="{IDP}">
<input type="hidden" name="SAMLRequest" value="PHNhbWxwOkF1dGhuUmVxdWVzdCAvPg==">
<input type="hidden" name="RelayState" value="/etma/admin"></form>
<script>document.forms[0].submit();</script></body></html>"""

# OpenID Connect's form_post answer: no SAML names, but a form the page posts to another site.
SELF_POSTING_ELSEWHERE = """<html><body onload="document.forms[0].submit()">
<form method="post" action="https://login.example/callback">
<input type="hidden" name="code" value="abc"><input type="hidden" name="state" value="xyz">
</form></body></html>"""

STUDENT_PAGE = """<html><body><table><tr><th>Student name</th><td>Ada Lovelace</td></tr>
<tr><th>Confirmation code:</th><td><b>K7M2-Q9XD</b></td></tr></table>
<form method="post" action="/etma/download" name="downloadForm">
<input type="hidden" name="token" value="t1"><select name="file_type">
<option value="zip">Zipped student files</option></select>
<input type="submit" value="Download"></form>
<script>function again() { document.forms.downloadForm.submit(); }</script></body></html>"""


@pytest.mark.parametrize(
    "page", [SAML_RESPONSE_PAGE, SAML_REQUEST_PAGE], ids=["SAMLResponse", "SAMLRequest"]
)
def test_a_self_posting_saml_form_is_a_sign_on_page(page):
    assert looks_like_login(parse(page), url=ETMA)
    assert looks_like_login(parse(page))  # by the SAML field alone, wherever the page came from


def test_a_form_a_page_posts_by_itself_to_another_site_is_a_sign_on_page():
    assert looks_like_login(parse(SELF_POSTING_ELSEWHERE), url=ETMA)
    # the same page posting to eTMA itself is not a hand-off to a sign-on host
    same_site = SELF_POSTING_ELSEWHERE.replace("https://login.example/callback", "/etma/next")
    assert not looks_like_login(parse(same_site), url=ETMA)


def test_a_form_a_person_presses_to_go_elsewhere_is_not_a_hand_off():
    """A student's page with a log-out button for the sign-on host and a script that submits
    a form (a session timer) is still the student's page, whatever the form carries."""
    page = STUDENT_PAGE.replace(
        "</body>",
        '<form name="logout" method="post" action="https://login.example/idp/logout">'
        '<input type="hidden" name="return" value="/etma"><input type="submit" value="Log out">'
        "</form><script>setTimeout(() => document.forms.logout.submit(), 3600000)</script>"
        "</body>",
    )
    assert not looks_like_login(parse(page), url=ETMA)
    assert read_student_page(parse(page), ETMA).code == "K7M2-Q9XD"
    # nor when its log-out form carries a SAML logout request
    single_logout = page.replace(
        '<input type="hidden" name="return" value="/etma">',
        '<input type="hidden" name="SAMLRequest" value="PExvZ291dFJlcXVlc3QvPg==">',
    )
    assert "SAMLRequest" in single_logout
    assert not looks_like_login(parse(single_logout), url=ETMA)


def test_a_page_refreshing_to_another_site_is_a_sign_on_page():
    page = (
        '<html><head><meta http-equiv="Refresh" content="0; URL=https://login.example/sams/'
        'login?URL=https%3A%2F%2Fetma.example%2Fetma%2Fadmin"></head>'
        "<body><p>Please wait while you are sent to sign in.</p></body></html>"
    )
    assert looks_like_login(parse(page), url=ETMA)
    within = page.replace("https://login.example/sams/", "/etma/")
    assert not looks_like_login(parse(within), url=ETMA)


def test_a_password_form_on_the_sign_on_host_is_a_sign_on_page():
    page = """<h2>Sign in with your OU account</h2><form method="post" action="/sams/login">
      <input type="hidden" name="URL" value="https://etma.example/etma/admin">
      <label>Username <input type="text" name="username"></label>
      <label>Password <input type="password" name="password"></label></form>"""
    assert looks_like_login(parse(page), url=ETMA)


def test_a_students_page_with_its_own_script_is_not_a_sign_on_page():
    soup = parse(STUDENT_PAGE)
    assert not looks_like_login(soup, url=ETMA)
    assert read_student_page(soup, ETMA).code == "K7M2-Q9XD"


def test_a_profile_names_its_own_sign_on_fields(tmp_path):
    page = '<form method="post" action="/next"><input type="hidden" name="ticketBlob"></form>'
    assert not looks_like_login(parse(page), url=ETMA)
    path = tmp_path / "site.json"
    path.write_text(json.dumps({"login_page": {"handoff_fields": "^ticketblob$"}}))
    assert looks_like_login(parse(page), SiteProfile.load(path), url=ETMA)
    assert SiteProfile.builtin().login_handoff_fields.search("SAMLResponse")


@pytest.mark.parametrize("mode", ["sams", "saml"])
def test_a_redirect_to_the_sign_on_host_is_needs_login_and_nothing_is_sent_there(fresh_sites, mode):
    """The practice eTMA's sign-in redirect (SAMS's ?URL=…, SAML's SAMLRequest) is not followed:
    the sign-on host hears nothing from the helper, cookies or not."""
    fresh_sites.signon = mode
    cookies = login_cookies(fresh_sites)
    fresh_sites.expire_etma_sessions()
    fresh_sites.reset_hits()
    for given in (cookies, ()):
        with EtmaSession(etma_admin_url(fresh_sites), given) as session:
            with pytest.raises(SessionExpired, match="another site"):
                session.search_form()
    assert fresh_sites.signon_requests == []
    assert fresh_sites.etma_hits[("GET", "/etma/admin")] == 2


def test_a_form_leading_to_another_site_is_refused_before_anything_is_sent(fresh_sites):
    from etma_helper import etma_pages

    cookies = login_cookies(fresh_sites)
    fresh_sites.reset_hits()
    signon = fresh_sites.signon_url.rstrip("/")
    etma_host = fresh_sites.etma_url.split("//")[1].rstrip("/")
    actions = [
        signon + "/collect",
        # parsers disagree on a backslash before "@": the request would go to the sign-on host
        f"{signon}\\@{etma_host}/etma/student",
    ]
    for action in actions:
        with EtmaSession(etma_admin_url(fresh_sites), cookies) as session:
            form = etma_pages.SearchForm(etma_pages.Form(action, "post"), "course", "pi")
            session.use_search_form(form)
            with pytest.raises(StudentFailed, match="another site than the eTMA address"):
                session.student_page("TM351", "P1234567")
    assert fresh_sites.signon_requests == []


class _SignOnEverywhere(BaseHTTPRequestHandler):
    """An eTMA whose every answer is the SAML hand-off to its identity provider (or, with
    ``status`` 401, a plain "Unauthorized")."""

    status = 200

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self._answer()

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer()

    def _answer(self) -> None:
        body = SAML_REQUEST_PAGE.encode() if self.status == 200 else b"Unauthorized"
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(params=[200, 401], ids=["saml_form", "http_401"])
def sign_on_etma(request):
    handler = type("SignOnEtma", (_SignOnEverywhere,), {"status": request.param})
    server = ThreadingHTTPServer(("127.0.0.2", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.2:{server.server_address[1]}/etma/admin"
    server.shutdown()
    server.server_close()


def test_a_sign_in_from_etma_itself_is_needs_login_for_pages_and_downloads(sign_on_etma, tmp_path):
    from etma_helper import etma_pages

    cookies = (Cookie("ETMA_SESSION", "stale-session-value", "127.0.0.2"),)
    with EtmaSession(sign_on_etma, cookies) as session:
        with pytest.raises(SessionExpired):
            session.search_form()
        session.use_search_form(
            etma_pages.SearchForm(etma_pages.Form(sign_on_etma, "post"), "course", "pi")
        )
        with pytest.raises(SessionExpired):
            session.student_page("TM351", "P1234567")
        with pytest.raises(SessionExpired):
            session.download_zip(
                etma_pages.Form(sign_on_etma, "post"), tmp_path / "a.zip", threading.Event()
            )
    assert list(tmp_path.iterdir()) == []
