"""The practice sign-on host: the university's central sign-in, on a third loopback address.

With ``PracticeSites.signon`` set, OSCAR and eTMA send a visitor without a live session here
instead of to their own login pages, as the university's systems do:

- ``"saml"``, a SAML identity provider: the site redirects to :data:`SSO_PATH` with a
  ``SAMLRequest`` (deflated and base64, naming the site's assertion consumer service) and a
  ``RelayState`` (the page the visitor wanted). The sign-on host shows its login page; signing in,
  or an earlier sign-in still live by its ``shib_idp_session`` cookie, answers with a form that
  posts itself to the site's ``/<site>/saml/acs`` with a ``SAMLResponse`` and the ``RelayState``.
  The site turns a good response into a fresh session of its own and redirects to the page.
- ``"sams"``, the older SAMS: the site redirects to :data:`SAMS_PATH` ``?URL=<the page>``; signing
  in sets a ``SAMSsession`` cookie on the sign-on host and redirects back to the page with a
  one-time ``SAMSticket``, which the site turns into its own session.

The sign-on host records every request it receives with the Cookie header it carried
(``PracticeSites.signon_requests``), so a test can prove what was, and was not, sent to it.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import zlib
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .base import HTML_TYPE, PageHandler, esc, login_form_html, safe_next

SIGNON_MODES = ("saml", "sams")
SSO_PATH = "/idp/profile/SAML2/Redirect/SSO"
SAMS_PATH = "/sams/login"
IDP_COOKIE = "shib_idp_session"
SAMS_COOKIE = "SAMSsession"
TICKET = "SAMSticket"
SAML_NS = 'xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
SAML_NS += 'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"'


@dataclass(frozen=True)
class RecordedRequest:
    """One request the sign-on host received: method, path with query, and its Cookie header."""

    method: str
    path: str
    cookie: str


def acs_path(service: str) -> str:
    """Where a site (``"etma"``, ``"oscar"``) takes the identity provider's SAML response."""
    return f"/{service}/saml/acs"


def _deflated(text: str) -> str:
    """The HTTP-Redirect binding's encoding: raw deflate, then base64."""
    squeezer = zlib.compressobj(wbits=-15)
    return base64.b64encode(squeezer.compress(text.encode()) + squeezer.flush()).decode("ascii")


def _inflated(value: str) -> str | None:
    try:
        return zlib.decompress(base64.b64decode(value, validate=True), wbits=-15).decode()
    except (binascii.Error, zlib.error, UnicodeDecodeError, ValueError):
        return None


def _unbased(value: str) -> str | None:
    try:
        return base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _without_ticket(path: str) -> str:
    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != TICKET]
    return urlunsplit(("", "", parts.path, urlencode(query), ""))


def signon_start_url(handler: PageHandler) -> str:
    """Where a site sends a visitor without a session to sign in, to come back to this page."""
    sites = handler.sites
    service = handler.service
    wanted = _without_ticket(handler.path if handler.path.startswith("/") else "/")
    site_url = sites.service_url(service).rstrip("/")
    if sites.signon == "sams":
        return (
            sites.signon_url.rstrip("/") + SAMS_PATH + "?" + urlencode({"URL": site_url + wanted})
        )
    request = (
        f'<samlp:AuthnRequest {SAML_NS} ID="_{sites.new_signon_id()}" Version="2.0" '
        f'AssertionConsumerServiceURL="{esc(site_url + acs_path(service))}" '
        'ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">'
        f"<saml:Issuer>{esc(site_url)}/{service}</saml:Issuer></samlp:AuthnRequest>"
    )
    query = urlencode({"SAMLRequest": _deflated(request), "RelayState": wanted})
    return sites.signon_url.rstrip("/") + SSO_PATH + "?" + query


def serve_signon_return(handler: PageHandler, method: str, path: str) -> bool:
    """Serve the sign-on host's hand-back to a site (a SAML response posted to the site's
    assertion consumer service, or a SAMS ticket on any page): a fresh session and a redirect to
    the page the visitor wanted. False when the request is no such hand-back."""
    sites = handler.sites
    service = handler.service
    if path == acs_path(service):
        grant = None
        if method == "POST":
            response = _unbased(handler.form.get("SAMLResponse", "")) or ""
            audience = re.search(r"<saml:Audience>([^<]*)</saml:Audience>", response)
            assertion = re.search(r'<saml:Assertion [^>]*\bID="_([^"]+)"', response)
            if audience and assertion and audience.group(1) == service:
                grant = assertion.group(1)
        if not grant or not sites.redeem_signon_grant(grant, service):
            handler.send_page(
                "Sign-in failed",
                "<h2>Sign-in failed</h2><p>The sign-in response was missing, used before or not "
                "meant for this site. Please sign in again.</p>",
                status=400,
            )
            return True
        token = handler.sessions.create()
        target = safe_next(handler.form.get("RelayState"), handler.home_path)
        handler.redirect(target, (handler.session_cookie_header(token),))
        return True
    ticket = handler.query.get(TICKET)
    if ticket is None:
        return False
    target = _without_ticket(handler.path)
    if not sites.redeem_signon_grant(ticket, service):
        # A stale ticket signs nobody in: the page without it, to which the usual rules apply.
        handler.redirect(target)
        return True
    token = handler.sessions.create()
    handler.redirect(target, (handler.session_cookie_header(token),))
    return True


def _handoff_page(action: str, fields: tuple[tuple[str, str], ...]) -> bytes:
    """A page whose form posts itself on load, with a button for browsers without scripts."""
    hidden = "".join(f'<input type="hidden" name="{esc(n)}" value="{esc(v)}">' for n, v in fields)
    return (
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">\n'
        "<html><head><title>Signing you in</title></head>\n"
        '<body onload="document.forms[0].submit()">\n'
        "<noscript><p><strong>Note:</strong> your browser does not run scripts, so press "
        "Continue once to go on.</p></noscript>\n"
        f'<form method="post" action="{esc(action)}">{hidden}'
        '<noscript><input type="submit" value="Continue"></noscript></form>\n'
        "</body></html>\n"
    ).encode()


class SignonHandler(PageHandler):
    """Request handler for the sign-on host: the SAML identity provider and SAMS."""

    site_name = "The Open University - Sign in"

    def count_hit(self, method: str, path: str) -> None:
        self.sites.record_signon_request(method, self.path, self.headers.get("Cookie", ""))

    def route(self, method: str, path: str) -> None:
        if path == SSO_PATH:
            self.saml_sso(method)
        elif path == SAMS_PATH:
            self.sams_login(method)
        elif path == "/":
            self.send_page(
                "Sign in",
                "<h2>Open University sign in</h2><p>Sign in from the page you want to use: it "
                "sends you here and back.</p>",
            )
        else:
            self.not_found()

    def _values(self, method: str) -> dict[str, str]:
        return self.form if method == "POST" else self.query

    def _signed_in(self, method: str) -> str | None:
        """A new session token when the form's username and password are right; None if not."""
        if method != "POST":
            return None
        if (self.form.get("username"), self.form.get("password")) != self.sites.SIGNON_LOGIN:
            return None
        return self.sites.signon_sessions.create()

    def _login_page(self, action: str, hidden: tuple[tuple[str, str], ...], error: bool) -> None:
        message = "Your username or password was not recognised." if error else None
        self.send_page(
            "Sign in",
            login_form_html(action, None, message, "Sign in with your OU account", hidden=hidden),
        )

    def _unknown_service(self) -> None:
        self.send_page(
            "Sign-in error",
            "<h2>Sign-in error</h2><p>This sign-in request does not come from a service "
            "that uses Open University sign in.</p>",
            status=400,
        )

    def saml_sso(self, method: str) -> None:
        values = self._values(method)
        request, relay = values.get("SAMLRequest", ""), values.get("RelayState", "")
        found = re.search(r'AssertionConsumerServiceURL="([^"]+)"', _inflated(request) or "")
        acs = html.unescape(found.group(1)) if found else ""
        service = self.sites.service_of_acs(acs)
        if service is None:
            self._unknown_service()
            return
        token = self._signed_in(method)
        live = self.sites.signon_sessions.use(self.cookie(IDP_COOKIE))
        if token is None and not live:
            hidden = (("SAMLRequest", request), ("RelayState", relay))
            self._login_page(SSO_PATH, hidden, error=method == "POST")
            return
        grant = self.sites.issue_signon_grant(service)
        response = (
            f'<samlp:Response {SAML_NS} ID="_{self.sites.new_signon_id()}" Version="2.0" '
            f'Destination="{esc(acs)}"><samlp:Status><samlp:StatusCode '
            'Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>'
            f'<saml:Assertion ID="_{grant}" Version="2.0"><saml:Subject><saml:NameID>'
            f"{esc(self.sites.SIGNON_LOGIN[0])}</saml:NameID></saml:Subject><saml:Conditions>"
            f"<saml:AudienceRestriction><saml:Audience>{service}</saml:Audience>"
            "</saml:AudienceRestriction></saml:Conditions></saml:Assertion></samlp:Response>"
        )
        fields = (
            ("SAMLResponse", base64.b64encode(response.encode()).decode("ascii")),
            ("RelayState", relay),
        )
        headers = (self._cookie_header(IDP_COOKIE, token),) if token else ()
        self.send_body(200, HTML_TYPE, _handoff_page(acs, fields), headers)

    def sams_login(self, method: str) -> None:
        url = self._values(method).get("URL", "")
        service = self.sites.service_of_url(url)
        if service is None:
            self._unknown_service()
            return
        token = self._signed_in(method)
        if token is None and not self.sites.signon_sessions.use(self.cookie(SAMS_COOKIE)):
            self._login_page(SAMS_PATH, (("URL", url),), error=method == "POST")
            return
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != TICKET]
        query.append((TICKET, self.sites.issue_signon_grant(service)))
        back = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
        self.redirect(back, (self._cookie_header(SAMS_COOKIE, token),) if token else ())

    def _cookie_header(self, name: str, token: str) -> tuple[str, str]:
        return ("Set-Cookie", f"{name}={token}; Path=/; HttpOnly")
