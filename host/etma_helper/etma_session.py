"""One tutor's eTMA session: the forwarded cookies, the search form, pages and zips.

Cookies are held by a cookie policy that only ever returns them for the eTMA origin, so a redirect
to any other host carries none. ``requests.Session`` is not thread-safe: the batch runner gives
each worker thread its own EtmaSession.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import socket
import threading
import zipfile
from dataclasses import dataclass
from email.message import Message
from email.utils import collapse_rfc2231_value
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
from bs4 import BeautifulSoup
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar, create_cookie
from urllib3.util.retry import Retry

from . import etma_pages
from .protocol import Cookie
from .safe_names import safe_component
from .site_profile import SiteProfile

CHUNK = 1024 * 1024
ECHOED_SECRET = "eTMA's page for this student quoted your session cookie; it was not kept."
CONNECT_TIMEOUT = 10  # seconds
USER_AGENT = "eTMA-Helper/0.1 (+tutor's own session)"


class SessionExpired(Exception):
    """eTMA answered with its login page: the tutor must log in again."""


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
    """The user cancelled while a transfer was running."""


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


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
        prepared = super().prepare_request(request)
        jar = self.cookies.copy()  # RequestsCookieJar.copy keeps the policy
        prepared._cookies = jar
        prepared.headers.pop("Cookie", None)
        prepared.prepare_cookies(jar)
        return prepared


class EtmaSession:
    """Talks to eTMA as the tutor, with the cookies their browser holds."""

    def __init__(
        self,
        etma_url: str,
        cookies: tuple[Cookie, ...],
        *,
        profile: SiteProfile | None = None,
        retries: int = 3,
        read_timeout: float = 60,
    ) -> None:
        self.etma_url = etma_url
        self.timeout = (CONNECT_TIMEOUT, read_timeout)
        self.profile = profile if profile is not None else SiteProfile.builtin()
        self.http = _OriginOnlySession()
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
        # Session values a hostile or careless page might echo back; never let them travel on.
        self._secrets = tuple(c.value.casefold() for c in cookies if len(c.value) >= 6)
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
        adapter = HTTPAdapter(max_retries=retry, pool_connections=2, pool_maxsize=2)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        self._search_form: etma_pages.SearchForm | None = None
        self._lock = threading.Lock()
        self._active: requests.Response | None = None

    def close(self) -> None:
        """Stop any transfer in flight and release connections."""
        self.abort()
        self.http.close()

    def abort(self) -> None:
        """Cut the transfer being read, from any thread, so a cancel is prompt.

        Closing a socket does not wake a thread blocked reading it, and closing the response
        from another thread races with that read; shutting the socket down wakes the reader,
        which then closes the response itself.
        """
        with self._lock:
            response = self._active
        if response is None:
            return
        sock = getattr(getattr(response.raw, "_connection", None), "sock", None)
        if sock is None:
            response.close()
            return
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def _send(self, method: str, url: str, *, data=None, stream: bool = False) -> requests.Response:
        try:
            response = self.http.request(
                method, url, data=data, stream=stream, timeout=self.timeout
            )
        except requests.exceptions.RetryError as err:
            raise StudentFailed("eTMA kept answering with server errors; try again later.") from err
        except requests.exceptions.Timeout as err:
            raise StudentFailed("eTMA did not answer in time; try again later.") from err
        except requests.exceptions.ConnectionError as err:
            raise StudentFailed(
                "Could not reach eTMA (connection failed); try again later."
            ) from err
        if _origin(response.url) != _origin(self.etma_url):
            response.close()
            raise SessionExpired("eTMA sent the request to another site (a sign-in page).")
        if response.status_code >= 400:
            response.close()
            raise StudentFailed(f"eTMA answered with an error (HTTP {response.status_code}).")
        return response

    def _page(self, method: str, url: str, data=None) -> tuple[BeautifulSoup, str]:
        """The parsed page and its final address; a login page ends the session."""
        response = self._send(method, url, data=data)
        # Parse the bytes, not response.text: requests assumes Latin-1 when the header names no
        # charset, while the page's own meta tag may say otherwise.
        soup = etma_pages.parse(response.content, _header_charset(response))
        if etma_pages.looks_like_login(soup, self.profile, response.url):
            raise SessionExpired("eTMA showed its login page.")
        return soup, response.url

    def search_page_url(self) -> str:
        """Where the search form should be: the profile's path under the eTMA address."""
        path = self.profile.search_path
        return urljoin(self.etma_url, path) if path else self.etma_url

    def search_form(self) -> etma_pages.SearchForm:
        """The admin tab's module + PI form, found once per session."""
        if self._search_form is None:
            soup, url = self._page("GET", self.search_page_url())
            found = etma_pages.find_search_form(soup, url, self.profile)
            if found is None:
                admin = etma_pages.find_admin_link(soup, url, self.profile)
                if admin:
                    soup, url = self._page("GET", admin)
                    found = etma_pages.find_search_form(soup, url, self.profile)
            if found is None:
                raise SearchFormMissing(
                    "Could not find eTMA's student search form (module code and PI) at "
                    f"{url}; check the eTMA address in the extension's options, or the "
                    "helper's site profile.",
                    url,
                    etma_pages.describe_forms(soup, url),
                )
            self._search_form = found
        return self._search_form

    def use_search_form(self, form: etma_pages.SearchForm) -> None:
        """Use a search form another session already found (it is the same for everyone)."""
        self._search_form = form

    def student_page(self, module: str, pi: str) -> etma_pages.StudentPage:
        """Submit the search form for one student and read the page it returns."""
        search = self.search_form()
        payload = search.form.payload(**{search.module_field: module, search.pi_field: pi})
        if search.form.method == "post":
            soup, url = self._page("POST", search.form.action, data=payload)
        else:
            request = requests.Request("GET", search.form.action, params=payload).prepare()
            soup, url = self._page("GET", request.url)
        page = etma_pages.read_student_page(soup, url, self.profile)
        if page.code and self._holds_secret(page.code):
            page = dataclasses.replace(page, code=None, problem=ECHOED_SECRET)
        if page.problem and self._holds_secret(page.problem):
            page = dataclasses.replace(page, problem=ECHOED_SECRET)
        return page

    def _holds_secret(self, text: str) -> bool:
        """True if ``text`` (from eTMA's page, bound for reasons and tables) quotes a cookie."""
        folded = text.casefold()
        return any(secret in folded for secret in self._secrets)

    def download_zip(
        self, form: etma_pages.Form, zip_path: Path, cancelled: threading.Event
    ) -> DownloadedZip:
        """Submit the download form and stream the zip to disk, never whole in memory.

        It is written to ``<zip_path>.part`` and renamed to ``zip_path`` only once its size
        matches what the server announced and it opens as a zip, so a partial file never looks
        finished.
        """
        part_path = zip_path.with_name(zip_path.name + ".part")
        method = "POST" if form.method == "post" else "GET"
        data = form.payload()
        url = form.action
        if method == "GET":
            url = requests.Request("GET", url, params=data).prepare().url
            data = None
        response = self._send(method, url, data=data, stream=True)
        with self._lock:
            self._active = response
        digest = hashlib.sha256()
        size = 0
        try:
            kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            is_attachment = "attachment" in response.headers.get("Content-Disposition", "").lower()
            if kind in ("text/html", "application/xhtml+xml") and not is_attachment:
                soup = etma_pages.parse(response.raw.read(512 * 1024, decode_content=True))
                if etma_pages.looks_like_login(soup, self.profile, response.url):
                    raise SessionExpired("eTMA showed its login page instead of the zip.")
                raise StudentFailed("eTMA answered with a web page instead of the zip file.")
            expected = response.headers.get("Content-Length")
            part_path.parent.mkdir(parents=True, exist_ok=True)
            with open(part_path, "wb") as out:
                for chunk in response.iter_content(CHUNK):
                    if cancelled.is_set():
                        raise Cancelled()
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
        ) as err:
            if cancelled.is_set():
                raise Cancelled() from err
            raise TransferCut("The download was cut off before the end; try again.") from err
        finally:
            with self._lock:
                self._active = None
            response.close()
        if expected is not None and expected.isdigit() and int(expected) != size:
            raise TransferCut(f"The download was cut off ({size} of {expected} bytes); try again.")
        try:
            zipfile.ZipFile(part_path).close()
        except (zipfile.BadZipFile, OSError) as err:
            raise StudentFailed("eTMA sent a file that is not a valid zip.") from err
        part_path.replace(zip_path)
        return DownloadedZip(
            zip_path,
            server_filename(response.headers.get("Content-Disposition", "")),
            size,
            digest.hexdigest(),
        )
