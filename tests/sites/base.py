"""HTTP plumbing shared by both practice sites: keep-alive, latency, forms, cookies, pages."""

from __future__ import annotations

import html
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

if TYPE_CHECKING:
    from .server import PracticeSites
    from .sessions import SessionStore

HTML_TYPE = "text/html; charset=utf-8"


class SiteServer(ThreadingHTTPServer):
    """A threading HTTP server that knows the shared :class:`PracticeSites` state."""

    daemon_threads = True
    # Tests restart servers on fixed demo ports; do not wait for TIME_WAIT sockets.
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, sites: PracticeSites) -> None:
        self.sites = sites
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about clients hanging up (tests do it on purpose) unless verbose."""
        if self.sites.verbose:
            super().handle_error(request, client_address)


class PageHandler(BaseHTTPRequestHandler):
    """Base request handler: applies latency, parses query and form, renders old-style HTML."""

    protocol_version = "HTTP/1.1"  # keep-alive; every response carries Content-Length
    # Headers and body go out in separate writes; with Nagle's algorithm on, the body waits for
    # the client's delayed ACK (~40 ms a request), a cost no real server adds.
    disable_nagle_algorithm = True
    server_version = "Apache/2.2.15"
    sys_version = ""
    site_name = ""
    session_cookie = ""
    service = ""  # the site's name at the sign-on host ("oscar", "etma")
    home_path = "/"  # where a sign-in lands when it names no page
    server: SiteServer

    query: dict[str, str]
    form: dict[str, str]

    @property
    def sites(self) -> PracticeSites:
        """The shared state of both practice sites."""
        return self.server.sites

    def do_GET(self) -> None:  # noqa: N802 - name required by BaseHTTPRequestHandler
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802 - name required by BaseHTTPRequestHandler
        self._dispatch("POST")

    def route(self, method: str, path: str) -> None:
        """Serve one request; subclasses implement."""
        raise NotImplementedError

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        self.query = _first_values(parts.query)
        self.form = {}
        if method == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            # Always drain the body, or the next request on this keep-alive connection breaks.
            body = self.rfile.read(length) if length else b""
            self.form = _first_values(body.decode("utf-8", errors="replace"))
        self.count_hit(method, parts.path)
        self.sites.pause(self.sites.latency)
        try:
            self.route(method, parts.path)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a timeout in a test): nothing left to say to it.
            self.close_connection = True

    def count_hit(self, method: str, path: str) -> None:
        """Record a served request; only eTMA counts."""

    def version_string(self) -> str:
        """The Server header: an old Apache, with no Python version leaking out."""
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if self.sites.verbose:
            super().log_message(format, *args)

    # --- sessions -------------------------------------------------------------------------------

    def cookie(self, name: str) -> str | None:
        """Value of the request cookie ``name``, if sent."""
        jar = SimpleCookie()
        try:
            jar.load(self.headers.get("Cookie", ""))
        except CookieError:
            return None
        morsel = jar.get(name)
        return morsel.value if morsel else None

    def session_cookie_header(self, token: str) -> tuple[str, str]:
        """A Set-Cookie header for a new session of this site."""
        return ("Set-Cookie", f"{self.session_cookie}={token}; Path=/; HttpOnly")

    @property
    def sessions(self) -> SessionStore:
        """This site's live login sessions."""
        raise NotImplementedError

    def redirect_to_login(self, login_path: str) -> None:
        """302 to the login page, remembering where the user was going; in sign-on mode, to the
        sign-on host instead (``signon.py``)."""
        if self.sites.signon:
            self.redirect(self.sites.signon_start_url(self))
            return
        target = self.path if self.path.startswith("/") else "/"
        self.redirect(f"{login_path}?next={quote(target, safe='')}")

    # --- responses ------------------------------------------------------------------------------

    def send_body(
        self, status: int, content_type: str, body: bytes, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        """Send a complete response with Content-Length, so the connection can be reused."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def send_page(
        self,
        title: str,
        body_html: str,
        status: int = 200,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        """Send an old-style HTML page; error pages also go out as 200, as the real systems do."""
        self.send_body(status, HTML_TYPE, self.page_html(title, body_html).encode(), headers)

    def page_html(self, title: str, body_html: str) -> str:
        """The full HTML document in this site's look."""
        return (
            '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">\n'
            f"<html><head><title>{esc(self.site_name)} - {esc(title)}</title>"
            '<meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>\n'
            '<body bgcolor="#ffffff">\n'
            '<table width="100%" cellpadding="4" cellspacing="0" bgcolor="#003366"><tr>'
            f'<td><font color="#ffffff" size="+1"><b>{esc(self.site_name)}</b></font></td>'
            "</tr></table>\n"
            f'{body_html}\n<hr><p><font size="-1">The Open University (practice site)'
            "</font></p>\n</body></html>\n"
        )

    def redirect(self, location: str, headers: tuple[tuple[str, str], ...] = ()) -> None:
        """302 with a tiny body (old servers send one; it also keeps Content-Length honest)."""
        body = f'<html><body>Moved to <a href="{esc(location)}">here</a></body></html>'.encode()
        self.send_body(302, HTML_TYPE, body, (("Location", location), *headers))

    def not_found(self) -> None:
        """A plain 404 page."""
        self.send_page(
            "Not found", "<h1>Not Found</h1><p>The requested URL was not found.</p>", status=404
        )


def esc(text: object) -> str:
    """HTML-escape any value for text or attribute context."""
    return html.escape(str(text), quote=True)


def safe_next(target: str | None, default: str) -> str:
    """Only follow local absolute paths after login (no open redirects to other hosts)."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return default


def login_form_html(
    action: str,
    next_path: str | None,
    error: str | None,
    heading: str,
    hidden: tuple[tuple[str, str], ...] = (),
) -> str:
    """The login form every practice site uses (each with its own action, heading and hidden
    fields; ``next_path`` None sends no ``next``)."""
    message = f'<p><font color="#cc0000"><b>{esc(error)}</b></font></p>' if error else ""
    if next_path is not None:
        hidden = (("next", next_path), *hidden)
    fields = "".join(
        f'<input type="hidden" name="{esc(name)}" value="{esc(value)}">' for name, value in hidden
    )
    return (
        f"<h2>{esc(heading)}</h2>{message}"
        f'<form method="post" action="{esc(action)}" name="loginForm" id="loginForm">'
        f"{fields}"
        '<table border="0" cellpadding="3">'
        '<tr><td><label for="username">Username</label></td>'
        '<td><input type="text" name="username" id="username" size="20"></td></tr>'
        '<tr><td><label for="password">Password</label></td>'
        '<td><input type="password" name="password" id="password" size="20"></td></tr>'
        '<tr><td></td><td><input type="submit" value="Sign in"></td></tr>'
        "</table></form>"
    )


def _first_values(encoded: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(encoded, keep_blank_values=True).items()}
