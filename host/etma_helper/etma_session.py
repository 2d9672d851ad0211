"""One tutor's eTMA session: the forwarded cookies, the search form, pages and zips.

The session talks to the eTMA origin (scheme, host and port of the eTMA address) and nowhere
else. Its connection adapter refuses any request for another origin before a byte is sent, so a
redirect elsewhere (to a sign-on host, as the university's SAML and SAMS sign-in do) is never
followed: it means the tutor must log in again. A form or link on eTMA's pages that leads
elsewhere is refused the same way. The cookies are also held by a cookie policy that only returns
them for the eTMA origin. ``requests.Session`` is not thread-safe: the batch runner gives each
worker thread its own EtmaSession.

Nothing eTMA sends can hold the helper for long or fill its memory or disk (see :class:`Limits`):
every request has a deadline as well as connect and read timeouts, pages and zips have byte caps
counted as they stream, and :meth:`EtmaSession.abort` ends whatever is in flight within moments,
connecting, waiting for headers or reading a body alike. Both work by shutting down the sockets
the session's connections opened (each is registered before it connects), which wakes a thread
blocked on them from any other thread.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import heapq
import itertools
import logging
import os
import re
import socket
import sys
import threading
import time
import weakref
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.utils import collapse_rfc2231_value
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar, create_cookie, merge_cookies
from requests.sessions import merge_hooks, merge_setting
from requests.structures import CaseInsensitiveDict
from requests.utils import get_environ_proxies, get_netrc_auth
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NameResolutionError,
    NewConnectionError,
)
from urllib3.util import parse_url
from urllib3.util.connection import allowed_gai_family
from urllib3.util.retry import Retry

from .config import LIMITS
from .log_safety import log_unexpected
from .records import Cookie
from .safe_names import safe_component
from .site_profile import SiteProfile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from bs4 import BeautifulSoup

    from . import etma_pages

CHUNK = 256 * 1024
PAGE_CHUNK = 64 * 1024
ECHOED_SECRET = "eTMA's page for this student quoted your session cookie; it was not kept."
#: Letters and digits of a cookie's value, in a row, that quote it (a shorter value: in whole).
SECRET_RUN = 12
_NOT_LETTER_OR_DIGIT = re.compile(r"[\W_]+")
CONNECT_TIMEOUT = LIMITS["connect_timeout"][0]  # seconds (kept for callers of old)
USER_AGENT = "eTMA-Helper/0.1 (+tutor's own session)"
MAX_RETRY_WAIT = 10.0  # seconds between retries at most, whatever a Retry-After header asks
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """How long eTMA may take and how much it may send (defaults: ``config.LIMITS``).

    Build from the helper's settings with :meth:`from_settings`; a session given none uses
    these defaults, so every request is bounded whoever creates the session.
    """

    connect_timeout: float = LIMITS["connect_timeout"][0]  # seconds to open a connection
    read_timeout: float = LIMITS["read_timeout"][0]  # seconds of silence before a retry
    page_deadline: float = LIMITS["page_deadline"][0]  # seconds for a whole page, retries too
    download_deadline: float = LIMITS["download_deadline"][0]  # seconds for a whole zip
    max_page_bytes: int = int(LIMITS["max_page_bytes"][0])
    max_download_bytes: int = int(LIMITS["max_download_bytes"][0])

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{field.name} must be a positive number, not {value!r}")

    @classmethod
    def from_settings(cls, settings: object) -> Limits:
        """The limits ``settings`` (a :class:`~etma_helper.config.Settings`) names; defaults for
        any it lacks."""
        defaults = cls()
        return cls(
            **{
                field.name: getattr(settings, field.name, getattr(defaults, field.name))
                for field in dataclasses.fields(cls)
            }
        )


class SessionExpired(Exception):
    """eTMA answered with its login page: the tutor must log in again.

    ``elsewhere`` is the address eTMA sent the request on to, when it sent it to another origin
    (a sign-on host; or the same host over https, when the address names http).
    """

    def __init__(self, message: str = "", elsewhere: str = "") -> None:
        super().__init__(message)
        self.elsewhere = elsewhere


class StudentFailed(Exception):
    """This student cannot be fetched, for a reason a tutor can read."""


class TransferCut(StudentFailed):
    """The connection broke mid-transfer: worth another try."""


class SearchFormMissing(StudentFailed):
    """No form on eTMA's search page asks for a module and a PI; ``forms`` says what was there."""

    def __init__(self, message: str, page_url: str, forms: list[str]) -> None:
        super().__init__(message)
        self.page_url = page_url
        self.forms = forms


class Cancelled(Exception):
    """The user cancelled: the session's requests in flight were cut, and later ones not sent."""


class _LeftOrigin(Exception):
    """A request (or a redirect) for another origin than eTMA's, refused before it was sent.

    Not a requests or OS error, so neither requests nor urllib3 handles it on the way out.
    """


class _Stopped(Exception):
    """Raised inside urllib3 when the session is cancelled or its request is past its deadline.

    Not an OSError, so urllib3 does not retry it: the request ends at once.
    """


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Guard:
    """Cuts one session's connections from another thread: on a cancel, or at a deadline.

    Every connection registers a duplicate of its socket here before connecting. Shutting the
    duplicate down ends the connection itself (it is the same socket), whether it is connecting,
    in a TLS handshake (TLS wraps the original socket object, not the duplicate) or reading; and
    a duplicate's descriptor cannot be reused by another file while the guard holds it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self.cancelled = threading.Event()
        # set when cancelled, or when the request in flight is past its deadline
        self.stopped = threading.Event()
        self.expired = False
        self._generation = 0

    def check(self) -> None:
        """Raise _Stopped if no request may go out now."""
        if self.stopped.is_set():
            raise _Stopped()

    def watch(self, sock: socket.socket) -> socket.socket:
        """Register ``sock``; return the duplicate to :meth:`forget` once it is closed."""
        duplicate = sock.dup()
        with self._lock:
            self._sockets.add(duplicate)
            stopped = self.stopped.is_set()
        if stopped:
            _shut(duplicate)
        return duplicate

    def forget(self, duplicate: socket.socket) -> None:
        """The connection is closed: let its duplicate go too (or the socket stays open)."""
        with self._lock:
            self._sockets.discard(duplicate)
        duplicate.close()

    def cut(self) -> None:
        """Shut down every connection: blocked reads, writes and connects return at once."""
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    def cancel(self) -> None:
        """End the request in flight now and refuse every later one."""
        with self._lock:
            self.cancelled.set()
            self.stopped.set()
        self.cut()

    def start(self, seconds: float) -> None:
        """A request begins: cut it if it is still going after ``seconds``."""
        with self._lock:
            if self.cancelled.is_set():
                raise Cancelled()
            self._generation += 1
            generation = self._generation
            self.expired = False
            self.stopped.clear()
        _DEADLINES.add(time.monotonic() + seconds, self, generation)

    def finish(self) -> None:
        """The request has ended; its deadline no longer applies."""
        with self._lock:
            self._generation += 1  # a deadline already due finds a newer request: no cut

    def _expire(self, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return
            self.expired = True
            self.stopped.set()
        self.cut()


class _Deadlines:
    """One thread that cuts every session's requests that run past their deadline.

    A thread per request (``threading.Timer``) cost more CPU than reading some pages. Deadlines
    are kept in a heap and never removed: when one falls due, the guard compares its generation
    with the request's, so a deadline whose request has finished cuts nothing.
    """

    def __init__(self) -> None:
        self._wake = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, _Guard, int]] = []
        self._order = itertools.count()  # ties in time never compare guards
        self._thread: threading.Thread | None = None

    def add(self, when: float, guard: _Guard, generation: int) -> None:
        """Call ``guard._expire(generation)`` at monotonic time ``when`` (or soon after)."""
        with self._wake:
            earliest = not self._heap or when < self._heap[0][0]
            heapq.heappush(self._heap, (when, next(self._order), guard, generation))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="etma-deadlines", daemon=True
                )
                self._thread.start()
            elif earliest:  # the thread sleeps until the old earliest deadline: wake it
                self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                now = time.monotonic()
                due = []
                while self._heap and self._heap[0][0] <= now:
                    due.append(heapq.heappop(self._heap))
                if not due:
                    self._wake.wait(self._heap[0][0] - now if self._heap else None)
                    continue
            for _, _, guard, generation in due:
                try:
                    guard._expire(generation)
                except Exception:  # a cut that fails must not stop every later one
                    log_unexpected(log, "cutting a request at its deadline failed")


_DEADLINES = _Deadlines()


class _WatchedConnection:
    """Connection behaviour for urllib3: register the socket before connecting, and send
    nothing once the session is stopped. Mixed into per-session subclasses that set the guard."""

    _etma_guard: _Guard
    _etma_watch: socket.socket | None = None

    def _new_conn(self) -> socket.socket:
        # urllib3's own create_connection, but the socket is registered before connect(), so
        # a cancel can end a connect that hangs (a full backlog, a dropped SYN).
        guard = self._etma_guard
        guard.check()
        host, port = self._dns_host, self.port  # type: ignore[attr-defined]
        try:
            addresses = socket.getaddrinfo(
                host.strip("[]"), port, allowed_gai_family(), socket.SOCK_STREAM
            )
        except socket.gaierror as err:
            raise NameResolutionError(self.host, self, err) from err  # type: ignore[attr-defined]
        error: OSError = OSError("getaddrinfo returned no address")
        for family, kind, proto, _, address in addresses:
            guard.check()
            sock = socket.socket(family, kind, proto)
            watch = guard.watch(sock)
            try:
                for option in self.socket_options or ():  # type: ignore[attr-defined]
                    sock.setsockopt(*option)
                timeout = self.timeout  # type: ignore[attr-defined]
                if timeout is None or isinstance(timeout, (int, float)):
                    sock.settimeout(timeout)
                if self.source_address:  # type: ignore[attr-defined]
                    sock.bind(self.source_address)  # type: ignore[attr-defined]
                sock.connect(address)
            except BaseException as err:
                sock.close()
                guard.forget(watch)
                if not isinstance(err, OSError):
                    raise
                error = err
                continue
            self._etma_forget()
            self._etma_watch = watch
            sys.audit("http.client.connect", self, self.host, self.port)  # type: ignore[attr-defined]
            return sock
        guard.check()
        if isinstance(error, TimeoutError):
            raise ConnectTimeoutError(
                self,
                f"Connection to {self.host} timed out.",  # type: ignore[attr-defined]
            ) from error
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}") from error

    def request(self, *args, **kwargs):  # noqa: ANN002, ANN003 - urllib3's signature
        self._etma_guard.check()
        return super().request(*args, **kwargs)  # type: ignore[misc]

    def close(self) -> None:
        try:
            super().close()  # type: ignore[misc]
        finally:
            self._etma_forget()

    def _etma_forget(self) -> None:
        watch, self._etma_watch = self._etma_watch, None
        if watch is not None:
            self._etma_guard.forget(watch)


class _GuardedRetry(Retry):
    """Retries whose waits end at once on a cancel or a deadline, and never last long."""

    _etma_guard: _Guard

    def sleep(self, response=None) -> None:  # noqa: ANN001 - urllib3's signature
        wait = None
        if self.respect_retry_after_header and response is not None:
            with contextlib.suppress(Exception):
                wait = self.get_retry_after(response)
        if wait is None:
            wait = self.get_backoff_time()
        if self._etma_guard.stopped.wait(min(max(wait, 0), MAX_RETRY_WAIT)):
            raise _Stopped()


def _guarded_adapter(
    guard: _Guard, retry: Retry, origin: tuple[str, str, int], **kwargs: int
) -> HTTPAdapter:
    """An HTTPAdapter whose connections and retries all answer to ``guard``, and that sends
    nothing to any origin but ``origin``: every request passes here, redirects included."""
    attrs = {"_etma_guard": guard}
    plain = type("GuardedHTTPConnection", (_WatchedConnection, HTTPConnection), attrs)
    secure = type("GuardedHTTPSConnection", (_WatchedConnection, HTTPSConnection), attrs)
    pools = {
        "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": plain}),
        "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": secure}),
    }

    class GuardedAdapter(HTTPAdapter):
        def send(self, request, *args, **kw):  # noqa: ANN001, ANN002, ANN003
            if _origin(request.url) != origin:
                raise _LeftOrigin(request.url)
            return super().send(request, *args, **kw)

        def init_poolmanager(self, *args, **kw) -> None:  # noqa: ANN002, ANN003
            super().init_poolmanager(*args, **kw)
            self.poolmanager.pool_classes_by_scheme = pools

        def proxy_manager_for(self, proxy, **kw):  # noqa: ANN001, ANN003
            manager = super().proxy_manager_for(proxy, **kw)
            if not proxy.lower().startswith("socks"):
                manager.pool_classes_by_scheme = pools
            return manager

    guarded_retry = type("SessionRetry", (_GuardedRetry,), attrs)
    params = {
        name: getattr(retry, name)
        for name in (
            "total",
            "connect",
            "read",
            "status",
            "backoff_factor",
            "status_forcelist",
            "allowed_methods",
            "raise_on_status",
        )
    }
    return GuardedAdapter(max_retries=guarded_retry(**params), **kwargs)


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _size(value: int) -> str:
    """Bytes as a person reads them: 8 MiB, 1 GiB, 300 KiB."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value} bytes"


def _drop_redirect_body(response: requests.Response, *args, **kwargs) -> requests.Response:  # noqa: ANN002, ANN003
    """requests reads a redirect's whole body into memory before following it: close it unread."""
    if response.is_redirect:
        response.close()
        response._content = b""  # what requests reads when it follows the redirect
    return response


def _origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port), read by the parser urllib3 connects with."""
    parts = parse_url(url)
    scheme = (parts.scheme or "").lower()
    return scheme, (parts.host or "").lower(), parts.port or (443 if scheme == "https" else 80)


class OriginOnlyPolicy(DefaultCookiePolicy):
    """Send and accept cookies for exactly one origin, whatever domain a cookie claims."""

    def __init__(self, origin_url: str) -> None:
        super().__init__()
        self._origin = _origin(origin_url)

    def _same_origin(self, request) -> bool:
        return _origin(request.get_full_url()) == self._origin

    def set_ok(self, cookie, request) -> bool:
        return self._same_origin(request) and super().set_ok(cookie, request)

    def return_ok(self, cookie, request) -> bool:
        return self._same_origin(request) and super().return_ok(cookie, request)

    def domain_return_ok(self, domain, request) -> bool:
        return self._same_origin(request)

    def path_return_ok(self, path, request) -> bool:
        return self._same_origin(request) and super().path_return_ok(path, request)


@dataclass(frozen=True)
class DownloadedZip:
    """A complete, verified zip on disk."""

    path: Path
    server_filename: str
    size: int
    sha256: str


def server_filename(content_disposition: str) -> str:
    """The attachment's name (RFC 6266, ``filename*`` preferred), made safe for any OS."""
    message = Message()
    message["Content-Disposition"] = content_disposition
    names = [v for k, v in message.get_params([], header="content-disposition") if k == "filename"]
    # the RFC 2231 form (filename*) comes back as a tuple; RFC 6266 says it wins
    extended = [v for v in names if isinstance(v, tuple)]
    name = collapse_rfc2231_value((extended or names or [""])[0])
    return safe_component(name.replace("\\", "/").rsplit("/", 1)[-1]) if name else ""


def _header_charset(response: requests.Response) -> str | None:
    """The charset named in the Content-Type header, if any (a browser lets it win)."""
    message = Message()
    message["Content-Type"] = response.headers.get("Content-Type", "text/html")
    return message.get_content_charset()


class _OriginOnlySession(requests.Session):
    """A requests session whose requests, redirects included, obey the jar's cookie policy.

    requests copies the session's cookies into a fresh jar with the default policy for every
    request, and its redirects reuse that jar: the default policy sends a host's cookies to any
    port of that host, and non-secure ones over plain http. Keep the origin-only policy there.
    """

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        # requests.Session.prepare_request, with a copy of the session's jar as the request's
        # only jar: requests would first merge the cookies into a default-policy jar and build
        # the Cookie header from it, twice the work of every request for a header then replaced.
        jar = self.cookies.copy()  # RequestsCookieJar.copy keeps the policy
        if request.cookies:
            merge_cookies(jar, request.cookies)
        auth = request.auth
        if self.trust_env and not auth and not self.auth:
            auth = get_netrc_auth(request.url)
        headers = merge_setting(request.headers, self.headers, dict_class=CaseInsensitiveDict)
        if "Cookie" in headers:  # the jar's header, never one given with the request
            headers = CaseInsensitiveDict(headers)
            del headers["Cookie"]
        prepared = requests.PreparedRequest()
        prepared.prepare(
            method=request.method.upper(),
            url=request.url,
            files=request.files,
            data=request.data,
            json=request.json,
            headers=headers,
            params=merge_setting(request.params, self.params),
            auth=merge_setting(auth, self.auth),
            cookies=jar,
            hooks=merge_hooks(request.hooks, self.hooks),
        )
        return prepared


def _use_environment_once(http: requests.Session, url: str) -> None:
    """Read once what requests would read from the environment before every request, for the one
    origin ``url`` names, and keep it on ``http``: the proxy (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY,
    NO_PROXY), the CA bundle (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) and a netrc login.

    ``requests.Session.trust_env`` scans the environment on every request (a noticeable share of
    a student's CPU time); a session that talks to one origin gets the same answer each time,
    and redirects elsewhere are never followed.
    """
    http.proxies.update(get_environ_proxies(url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle and http.verify is True:
        http.verify = bundle
    if http.auth is None:
        http.auth = get_netrc_auth(url)
    http.trust_env = False


def _pages():  # noqa: ANN202 - the etma_pages module
    """etma_pages, imported on first use: it brings Beautiful Soup, the slowest of the job's
    imports, which can then load while the first request is on its way to eTMA."""
    from . import etma_pages

    return etma_pages


@dataclass(frozen=True)
class FetchedPage:
    """A page as eTMA sent it: its bytes, final address and the charset its header named."""

    body: bytes
    url: str
    charset: str | None


class PageReader:
    """Reads the pages a session fetched: parsing, the login check, and keeping the session's
    own values out of what a page says.

    It only reads what it was made with, so a job's workers read pages with it while the
    session's connection carries other requests.
    """

    def __init__(self, profile: SiteProfile, cookies: tuple[Cookie, ...]) -> None:
        self.profile = profile
        # Session values a hostile or careless page might echo back; never let them travel on.
        values = [cookie.value for cookie in cookies if len(cookie.value) >= 6]
        self._secrets = tuple(value.casefold() for value in values)
        # A page may show a long value trimmed, cut short or broken into groups, and the reader
        # trims what it reads too (a leading "-" goes with the label's punctuation): every run
        # of SECRET_RUN of its letters and digits quotes it, whatever separates them.
        self._secret_runs = frozenset(
            squeezed[start : start + SECRET_RUN]
            for squeezed in map(_letters_and_digits, values)
            for start in range(len(squeezed) - SECRET_RUN + 1)
        )

    def parse(self, fetched: FetchedPage) -> BeautifulSoup:
        """The page, parsed; a login page ends the session (:class:`SessionExpired`)."""
        # Parse the bytes, not response.text: requests assumes Latin-1 when the header names no
        # charset, while the page's own meta tag may say otherwise.
        soup = _pages().parse(fetched.body, fetched.charset)
        if _pages().looks_like_login(soup, self.profile, fetched.url):
            raise SessionExpired("eTMA showed its login page.")
        return soup

    def student_page(self, fetched: FetchedPage) -> etma_pages.StudentPage:
        """What a fetched student page says, with nothing that quotes the session's cookies."""
        page = _pages().read_student_page(self.parse(fetched), fetched.url, self.profile)
        if self.holds_secret(page.code or "") or self.holds_secret(page.code_text):
            # A page that echoes the session is not believed in anything else it says either.
            page = dataclasses.replace(
                page,
                code=None,
                problem=ECHOED_SECRET,
                nothing_submitted=False,
                name=None,
                code_text="",
            )
        if page.problem and self.holds_secret(page.problem):
            page = dataclasses.replace(page, problem=ECHOED_SECRET)
        if page.name and self.holds_secret(page.name):
            page = dataclasses.replace(page, name=None)
        return page

    def holds_secret(self, text: str) -> bool:
        """True if ``text`` (from eTMA's page, bound for reasons and tables) quotes a cookie,
        in whole or in a run of ``SECRET_RUN`` of its letters and digits."""
        folded, squeezed = text.casefold(), _letters_and_digits(text)
        return any(secret in folded for secret in self._secrets) or any(
            run in squeezed for run in self._secret_runs
        )


def _letters_and_digits(text: str) -> str:
    """``text`` folded to lower case, with everything but letters and digits left out."""
    return _NOT_LETTER_OR_DIGIT.sub("", text.casefold())


class EtmaSession:
    """Talks to eTMA as the tutor, with the cookies their browser holds.

    Use it as a context manager (``with EtmaSession(...) as session:``): the block's end closes
    it, releasing its connections, however the block ends.
    """

    def __init__(
        self,
        etma_url: str,
        cookies: tuple[Cookie, ...],
        *,
        profile: SiteProfile | None = None,
        retries: int = 3,
        read_timeout: float | None = None,
        limits: Limits | None = None,
    ) -> None:
        """``limits`` bound every request (defaults when None); ``read_timeout``, if given,
        overrides theirs (the keyword older callers pass)."""
        limits = limits if limits is not None else Limits()
        if read_timeout is not None:
            limits = dataclasses.replace(limits, read_timeout=read_timeout)
        self.limits = limits
        self.etma_url = etma_url
        self._origin = _origin(etma_url)
        self.timeout = (limits.connect_timeout, limits.read_timeout)
        self.profile = profile if profile is not None else SiteProfile.builtin()
        self.http = _OriginOnlySession()
        _use_environment_once(self.http, etma_url)
        self.http.headers["User-Agent"] = USER_AGENT
        self.http.cookies = RequestsCookieJar(policy=OriginOnlyPolicy(etma_url))
        host = urlsplit(etma_url).hostname or ""
        for cookie in cookies:
            self.http.cookies.set_cookie(
                create_cookie(
                    cookie.name,
                    cookie.value,
                    domain=host,
                    path=cookie.path or "/",
                    secure=cookie.secure,
                )
            )
        #: reads what this session fetches; it holds no connection, so any thread may use it
        self.reader = PageReader(self.profile, cookies)
        retry = Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            backoff_factor=0.3,
            status_forcelist=(500, 502, 503, 504),
            allowed_methods=None,  # eTMA's POSTs only read: safe to repeat
            raise_on_status=False,
        )
        self._guard = _Guard()
        adapter = _guarded_adapter(
            self._guard, retry, self._origin, pool_connections=2, pool_maxsize=2
        )
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        self.http.hooks["response"].append(_drop_redirect_body)
        self._search_form: etma_pages.SearchForm | None = None

    def __enter__(self) -> EtmaSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`abort` (or :meth:`close`) was called: no request goes out again."""
        return self._guard.cancelled.is_set()

    def close(self) -> None:
        """Stop any request in flight and release connections."""
        self.abort()
        self.http.close()

    def abort(self) -> None:
        """Cancel, from any thread: every request in flight ends at once with :class:`Cancelled`
        (connecting, waiting for headers or reading), and any later one raises it unsent.

        Closing a socket does not wake a thread blocked on it; shutting it down does, and the
        blocked thread then closes it itself.
        """
        self._guard.cancel()

    @contextlib.contextmanager
    def _deadline(self, seconds: float, late: str) -> Iterator[None]:
        """Run one request with an overall deadline; a cancel or the deadline cutting it turns
        whatever error that caused into :class:`Cancelled` or ``StudentFailed(late)``."""
        self._guard.start(seconds)
        try:
            yield
        except Exception as err:
            self._raise_if_stopped(late, err)
            raise
        finally:
            self._guard.finish()
        self._raise_if_stopped(late)

    def _raise_if_stopped(self, late: str, cause: BaseException | None = None) -> None:
        if self._guard.cancelled.is_set():
            raise Cancelled() from cause
        if self._guard.expired:
            raise StudentFailed(late) from cause

    def _send(self, method: str, url: str, *, data=None, stream: bool = False) -> requests.Response:
        """Send one request to eTMA, following eTMA's own redirects only.

        A redirect to another origin is a sign-in page elsewhere: :class:`SessionExpired`, with
        nothing sent there. A request a page sends elsewhere (its form or link) fails the student.
        """
        try:
            response = self.http.request(
                method, url, data=data, stream=stream, timeout=self.timeout
            )
        except _LeftOrigin as left:
            if _origin(url) == self._origin:
                raise SessionExpired(
                    "eTMA sent the request on to another site (a sign-in page); the helper "
                    "sent nothing there.",
                    elsewhere=str(left.args[0]) if left.args else "",
                ) from None
            raise StudentFailed(
                "eTMA's page leads to another site than the eTMA address; the helper sent nothing "
                "there. If eTMA has moved, change the eTMA address in the extension's options."
            ) from None
        except requests.exceptions.TooManyRedirects as err:
            raise StudentFailed("eTMA kept redirecting the request; try again later.") from err
        except requests.exceptions.RetryError as err:
            raise StudentFailed("eTMA kept answering with server errors; try again later.") from err
        except requests.exceptions.Timeout as err:
            raise StudentFailed("eTMA did not answer in time; try again later.") from err
        except requests.exceptions.ConnectionError as err:
            raise StudentFailed(
                "Could not reach eTMA (connection failed); try again later."
            ) from err
        if response.status_code == 401:  # "Unauthorized": sign in first
            response.close()
            raise SessionExpired("eTMA asked for a sign-in (HTTP 401).")
        if response.status_code >= 400:
            response.close()
            raise StudentFailed(f"eTMA answered with an error (HTTP {response.status_code}).")
        return response

    def _page(
        self, method: str, url: str, data=None, *, what: str = "this student's page"
    ) -> tuple[BeautifulSoup, str]:
        """The parsed page and its final address; a login page ends the session."""
        fetched = self._fetch_page(method, url, data, what=what)
        return self.reader.parse(fetched), fetched.url

    def _fetch_page(
        self, method: str, url: str, data=None, *, what: str = "this student's page"
    ) -> FetchedPage:
        """A page's bytes and final address, as eTMA sent them, not yet read.

        ``what`` names the page in reasons: the whole request must end within the page deadline
        and the page hold at most the page byte cap.
        """
        limit = self.limits.page_deadline
        late = f"eTMA took longer than {_seconds(limit)} to send {what}; try again later."
        with self._deadline(limit, late):
            response = self._send(method, url, data=data, stream=True)
            try:
                body = self._read_page(response, what)
            finally:
                response.close()
        return FetchedPage(body, response.url, _header_charset(response))

    def _read_page(self, response: requests.Response, what: str) -> bytes:
        """The page's bytes, read as they stream and refused past the page byte cap."""
        cap = self.limits.max_page_bytes
        too_big = (
            f"eTMA sent more than {_size(cap)} for {what} (the helper's limit for one page); "
            "it was not read."
        )
        announced = response.headers.get("Content-Length", "").strip()
        if announced.isdigit() and int(announced) > cap:
            raise StudentFailed(too_big)
        body = bytearray()
        try:
            for chunk in response.iter_content(PAGE_CHUNK):
                # A cut socket still yields what keeps arriving: stop on the flag as well.
                self._guard.check()
                body += chunk
                if len(body) > cap:
                    raise StudentFailed(too_big)
        except (requests.exceptions.RequestException, HTTPError) as err:
            raise StudentFailed(f"eTMA stopped sending {what} part-way; try again later.") from err
        return bytes(body)

    def search_page_url(self) -> str:
        """Where the search form should be: the profile's path under the eTMA address."""
        path = self.profile.search_path
        return urljoin(self.etma_url, path) if path else self.etma_url

    def search_form(self) -> etma_pages.SearchForm:
        """The admin tab's module + PI form, found once per session."""
        if self._search_form is None:
            what = "its search page"
            soup, url = self._page("GET", self.search_page_url(), what=what)
            found = _pages().find_search_form(soup, url, self.profile)
            if found is None:
                admin = _pages().find_admin_link(soup, url, self.profile)
                if admin:
                    soup, url = self._page("GET", admin, what=what)
                    found = _pages().find_search_form(soup, url, self.profile)
            if found is None:
                raise SearchFormMissing(
                    "Could not find eTMA's student search form (module code and PI) at "
                    f"{url}; check the eTMA address in the extension's options, or the "
                    "helper's site profile.",
                    url,
                    _pages().describe_forms(soup, url),
                )
            self._search_form = found
        return self._search_form

    def use_search_form(self, form: etma_pages.SearchForm) -> None:
        """Use a search form another session already found (it is the same for everyone)."""
        self._search_form = form

    def student_page(self, module: str, pi: str) -> etma_pages.StudentPage:
        """Submit the search form for one student and read the page it returns."""
        return self.reader.student_page(self.fetch_student_page(module, pi))

    def fetch_student_page(self, module: str, pi: str) -> FetchedPage:
        """Submit the search form for one student: the answer, not yet read.

        Only this part needs the session's connection; :attr:`reader` reads the answer.
        """
        search = self.search_form()
        payload = search.form.payload(**{search.module_field: module, search.pi_field: pi})
        if search.form.method == "post":
            return self._fetch_page("POST", search.form.action, data=payload)
        request = requests.Request("GET", search.form.action, params=payload).prepare()
        return self._fetch_page("GET", request.url)

    def download_zip(
        self, form: etma_pages.Form, zip_path: Path, cancelled: threading.Event
    ) -> DownloadedZip:
        """Submit the download form and stream the zip to disk, never whole in memory.

        It is written to ``<zip_path>.part`` and renamed to ``zip_path`` only once its size
        matches what the server announced and it opens as a zip, so a partial file never looks
        finished; on any failure the ``.part`` is deleted. The whole download must end within
        the download deadline and hold at most the download byte cap (refused at once when the
        server announces more).
        """
        part_path = zip_path.with_name(zip_path.name + ".part")
        method = "POST" if form.method == "post" else "GET"
        data = form.payload()
        url = form.action
        if method == "GET":
            url = requests.Request("GET", url, params=data).prepare().url
            data = None
        limit = self.limits.download_deadline
        late = (
            f"eTMA took longer than {_seconds(limit)} to send this student's zip; try again later."
        )
        try:
            with self._deadline(limit, late):
                response = self._send(method, url, data=data, stream=True)
                try:
                    size, digest = self._stream_zip(response, part_path, cancelled)
                finally:
                    response.close()
            if cancelled.is_set():
                raise Cancelled()
            expected = response.headers.get("Content-Length", "").strip()
            if expected.isdigit() and int(expected) != size:
                raise TransferCut(
                    f"The download was cut off ({size} of {expected} bytes); try again."
                )
            try:
                zipfile.ZipFile(part_path).close()
            except (zipfile.BadZipFile, OSError) as err:
                raise StudentFailed("eTMA sent a file that is not a valid zip.") from err
            part_path.replace(zip_path)
        except BaseException:
            with contextlib.suppress(OSError):
                part_path.unlink(missing_ok=True)
            raise
        name = server_filename(response.headers.get("Content-Disposition", ""))
        if self.reader.holds_secret(name):
            name = ""  # a name quoting the session cookie must go nowhere (ledger, messages)
        return DownloadedZip(zip_path, name, size, digest)

    def _stream_zip(
        self, response: requests.Response, part_path: Path, cancelled: threading.Event
    ) -> tuple[int, str]:
        """Write the response's body to ``part_path``; (bytes written, their SHA-256)."""
        cap = self.limits.max_download_bytes
        kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        is_attachment = "attachment" in response.headers.get("Content-Disposition", "").lower()
        try:
            if kind in ("text/html", "application/xhtml+xml") and not is_attachment:
                soup = _pages().parse(response.raw.read(512 * 1024, decode_content=True))
                if _pages().looks_like_login(soup, self.profile, response.url):
                    raise SessionExpired("eTMA showed its login page instead of the zip.")
                raise StudentFailed("eTMA answered with a web page instead of the zip file.")
            announced = response.headers.get("Content-Length", "").strip()
            if announced.isdigit() and int(announced) > cap:
                raise StudentFailed(
                    f"eTMA's zip for this student is {_size(int(announced))}, more than the "
                    f"helper's limit of {_size(cap)}; it was not downloaded."
                )
            digest = hashlib.sha256()
            size = 0
            part_path.parent.mkdir(parents=True, exist_ok=True)
            with open(part_path, "wb") as out:
                for chunk in response.iter_content(CHUNK):
                    if cancelled.is_set():
                        raise Cancelled()
                    # A cut socket still yields what keeps arriving: stop on the flag as well.
                    self._guard.check()
                    if size + len(chunk) > cap:
                        raise StudentFailed(
                            f"eTMA sent more than {_size(cap)} for this student's zip (the "
                            "helper's limit); the download was stopped and deleted."
                        )
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
        except (requests.exceptions.RequestException, HTTPError) as err:
            if cancelled.is_set():
                raise Cancelled() from err
            raise TransferCut("The download was cut off before the end; try again.") from err
        return size, digest.hexdigest()
