"""Is the eTMA address right? One quick look at it, before a job and for "Test connection".

A wrong or unreachable address used to cost every student of a job its own slow failure ("try
again later", thirty times over). Instead, a job first reads eTMA's search page once, with short
limits, and says what is wrong in a sentence that names the address:

* ``ok``: the page holds the admin (EAB) tab's search form (module code and student PI); the
  form found is handed on, so the job does not read the page again;
* ``needs_login``: eTMA answered with its login page, or sent the request on to a sign-on host:
  the address is right, the tutor must log in (this is not a wrong address);
* ``not_etma``: something answered, but not with eTMA's admin page (an HTTP error such as 404,
  a page without the search form);
* ``unreachable``: nothing useful answered (connection refused, no such host, a timeout, a
  failed secure connection, server errors).

The words for a person (``problem``) follow the address: "http://… could not be reached
(connection refused)". Each edge puts its own "what to change and where" before them.
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
from dataclasses import dataclass, replace
from http import HTTPStatus
from urllib.parse import urlsplit, urlunsplit

from .errors import ErrorCode, ProtocolError
from .etma_session import Cancelled, EtmaSession, Limits, SearchFormMissing, SessionExpired

TYPE_CHECKING = False
if TYPE_CHECKING:  # Beautiful Soup loads while the check's request is on its way
    from .etma_pages import SearchForm

#: Limits for the look: short, so a wrong address is known in seconds, not minutes.
CHECK_CONNECT_TIMEOUT = 5.0
CHECK_READ_TIMEOUT = 10.0
CHECK_PAGE_DEADLINE = 15.0
#: The whole look, every page and the name lookup included (a resolver can hang longer than any
#: socket timeout): past it the session is cut and the address "did not answer".
CHECK_DEADLINE = 20.0

VERDICTS = ("ok", "needs_login", "not_etma", "unreachable")


@dataclass(frozen=True)
class AddressCheck:
    """What one look at the eTMA address found."""

    verdict: str
    etma_url: str
    #: for a person, after the address: "could not be reached (connection refused)"; "" when ok
    problem: str = ""
    #: the search form, when the verdict is ok
    search_form: SearchForm | None = None

    @property
    def wrong_address(self) -> bool:
        """True when the address itself must change (not a login, not ok)."""
        return self.verdict in ("not_etma", "unreachable")

    def sentence(self) -> str:
        """The address and what is wrong with it: "http://… could not be reached (…)"."""
        return f"{self.etma_url} {self.problem}" if self.problem else self.etma_url


def wrong_address_error(check: AddressCheck) -> ProtocolError:
    """A job stopped before its first student because the eTMA address must change: the
    extension's words (the options page is where the address lives), and the facts in params."""
    return ProtocolError(
        ErrorCode.WRONG_ETMA_ADDRESS,
        f"Check the eTMA address in eTMA Helper's options: {check.sentence()}.",
        etma_url=check.etma_url,
        problem=check.problem,
        verdict=check.verdict,
    )


def check_limits(limits: Limits) -> Limits:
    """The session limits for the look: the tutor's own, but never longer than the check's."""
    return replace(
        limits,
        connect_timeout=min(limits.connect_timeout, CHECK_CONNECT_TIMEOUT),
        read_timeout=min(limits.read_timeout, CHECK_READ_TIMEOUT),
        page_deadline=min(limits.page_deadline, CHECK_PAGE_DEADLINE),
    )


def check_address(session: EtmaSession, deadline: float = CHECK_DEADLINE) -> AddressCheck:
    """Look at the address ``session`` is for, within ``deadline`` seconds overall.

    The session should be made with :func:`check_limits` and few retries; it is aborted when
    the deadline passes, so a caller may close it at once afterwards.
    """
    answer: list[AddressCheck] = []
    look = threading.Thread(
        target=lambda: answer.append(_look(session)), name="address-check", daemon=True
    )
    look.start()
    look.join(deadline)
    if not answer:
        session.abort()
        look.join(1.0)
        if not answer or answer[0].verdict == "unreachable":
            return AddressCheck(
                "unreachable", session.etma_url, f"did not answer within {deadline:g} s"
            )
    return answer[0]


def _look(session: EtmaSession) -> AddressCheck:
    url = session.etma_url
    try:
        form = session.search_form()
    except SessionExpired as err:
        moved = _moved_to_https(url, err.elsewhere)
        if moved:
            return AddressCheck("not_etma", url, f"has moved to https: use {moved}")
        return AddressCheck("needs_login", url, "asks you to log in to eTMA")
    except SearchFormMissing as err:
        where = "" if _same_page(err.page_url, url) else f" (it led to {err.page_url})"
        return AddressCheck(
            "not_etma",
            url,
            "is not eTMA's admin page: no form on it asks for a module code and a student PI"
            + where,
        )
    except Cancelled:
        return AddressCheck("unreachable", url, "did not answer in time")
    except Exception as err:  # StudentFailed and anything else: say what happened
        return _failure(url, err)
    return AddressCheck("ok", url, search_form=form)


def _moved_to_https(url: str, elsewhere: str) -> str:
    """The https address to use when eTMA sent an http address to the same host over https
    (not a sign-in: the address itself is out of date); "" otherwise."""
    was, now = urlsplit(url), urlsplit(elsewhere)
    if was.scheme != "http" or now.scheme != "https" or not now.hostname:
        return ""
    if now.hostname != was.hostname:
        return ""
    return urlunsplit(("https", now.netloc, was.path, was.query, ""))


def _same_page(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def _causes(err: BaseException) -> list[BaseException]:
    """``err`` and everything behind it: causes, contexts, and the errors requests and urllib3
    keep in ``args`` and ``reason``."""
    found: list[BaseException] = []
    todo = [err]
    while todo:
        current = todo.pop()
        if any(current is seen for seen in found):
            continue
        found.append(current)
        inner = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        inner += [arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException)]
        todo += [e for e in inner if isinstance(e, BaseException)]
    return found


def _failure(url: str, err: BaseException) -> AddressCheck:
    """An error reading the address, as what a person needs to know."""
    import requests
    from urllib3.exceptions import NameResolutionError

    causes = _causes(err)

    def has(kind) -> BaseException | None:
        return next((c for c in causes if isinstance(c, kind)), None)

    host = urlsplit(url).hostname or url
    if has(NameResolutionError) or has(socket.gaierror):
        return AddressCheck("unreachable", url, f"could not be reached (no such host: {host})")
    if has(ConnectionRefusedError):
        return AddressCheck("unreachable", url, "could not be reached (connection refused)")
    tls = has(ssl.SSLError) or has(requests.exceptions.SSLError)
    if tls:
        why = _tls_words(tls)
        detail = f"TLS: {why}" if why else "TLS error"
        return AddressCheck("unreachable", url, f"could not be reached securely ({detail})")
    if has(requests.exceptions.ConnectTimeout):
        return AddressCheck("unreachable", url, "did not answer (the connection timed out)")
    if has(requests.exceptions.ReadTimeout) or "took longer than" in str(err):
        return AddressCheck("unreachable", url, "did not answer in time")
    if has(TimeoutError):
        return AddressCheck("unreachable", url, "did not answer (the connection timed out)")
    if has(requests.exceptions.RetryError):
        return AddressCheck("unreachable", url, "answered only with server errors")
    status = re.search(r"HTTP (\d{3})", str(err))
    if status:
        code = int(status.group(1))
        words = _status_words(code)
        verdict = "unreachable" if code >= 500 else "not_etma"
        return AddressCheck(verdict, url, f"answered with an error (HTTP {code}{words})")
    if has(ConnectionError) or has(requests.exceptions.ConnectionError):
        return AddressCheck("unreachable", url, "could not be reached (the connection failed)")
    text = str(err).rstrip(".")
    return AddressCheck("not_etma", url, f"did not give eTMA's admin page ({text})")


def _status_words(code: int) -> str:
    try:
        return f" {HTTPStatus(code).phrase}"
    except ValueError:
        return ""


def _tls_words(err: BaseException) -> str:
    """What a failed secure connection says, short ("certificate verify failed"), or ""."""
    verify = getattr(err, "verify_message", None)
    if isinstance(verify, str) and verify:
        return verify
    reason = getattr(err, "reason", None)
    if isinstance(reason, str) and reason:
        return reason.replace("_", " ").lower()
    match = re.search(r"\] ([^()]+?) \(_ssl", str(err))
    return match.group(1).strip() if match else ""
