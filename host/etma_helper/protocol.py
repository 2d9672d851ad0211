"""Requests from the browser, validated once at the edge into small typed records.

A download or codes request becomes a :class:`~etma_helper.records.Job` (its cookies
:class:`~etma_helper.records.Cookie`); the records themselves live in records.py.

The shapes are documented in docs/PROTOCOL.md; anything that does not fit becomes a
ProtocolError with the field it is about.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .errors import ErrorCode, ProtocolError

# The records (dataclasses) are imported where a job is parsed, not here: the native host reads
# every request's action and id with this module, hello's too, and the browser waits for that
# first answer each time it starts the helper. typing is left out for the same reason.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection
    from typing import Any

    from .records import Cookie, Job

MAX_PIS = 5000

# PIs are a letter and seven digits, perhaps with a check character nobody has published:
# validated loosely, but tightly enough that a PI is always a safe folder name.
PI_PATTERN = re.compile(r"^[A-Za-z]\d{6,8}[A-Za-z0-9]?$")
MODULE_PATTERN = re.compile(r"^[A-Za-z]{1,5}\d{1,4}[A-Za-z]?$")
ASSIGNMENT_PATTERN = re.compile(r"^[A-Za-z]{2,5} ?\d{1,3}$")
# RFC 6265 section 4.1.1: a cookie's name is an RFC 7230 token, its value cookie-octets, perhaps
# in double quotes. Anything else (CR, LF, ";", controls, non-ASCII) could split or forge the
# Cookie header, and http.client's complaint about it would quote the whole header.
COOKIE_NAME_PATTERN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}$")
COOKIE_VALUE_PATTERN = re.compile(
    r"^(?:[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*"
    r'|"[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*")$'
)
MAX_COOKIE_VALUE = 4096


def _field(obj: dict, name: str, kind: type, *, required: bool = True, default: Any = None):
    if name not in obj or obj[name] is None:
        if required:
            raise ProtocolError(
                ErrorCode.INVALID_FIELD, f"The request has no '{name}'.", field=name
            )
        return default
    value = obj[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ProtocolError(
            ErrorCode.INVALID_FIELD,
            f"'{name}' should be a {kind.__name__}.",
            field=name,
        )
    return value


def request_id(message: Any) -> str:
    """The request's id as a string, or "" when there is none to echo."""
    if isinstance(message, dict) and isinstance(message.get("id"), (str, int)):
        return str(message["id"])[:64]
    return ""


def parse_action(message: Any, known: Collection[str]) -> str:
    """Return the request's action, or raise if it is not one of ``known`` (the host's handler
    table, the one list of actions)."""
    if not isinstance(message, dict):
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "A request must be a JSON object.")
    action = message.get("action")
    if not isinstance(action, str) or action not in known:
        raise ProtocolError(
            ErrorCode.UNKNOWN_ACTION, f"Unknown action {action!r}.", action=str(action)[:40]
        )
    if not request_id(message):
        raise ProtocolError(ErrorCode.INVALID_FIELD, "The request has no 'id'.", field="id")
    return action


def normalise_pi(raw: str) -> str:
    """Upper-case a PI and check its shape; raise ValueError if it is not one."""
    pi = raw.strip().upper()
    if not PI_PATTERN.match(pi):
        raise ValueError(raw)
    return pi


def check_etma_url(url: str) -> str:
    """Accept an http(s) address with a host and nothing secret in it."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProtocolError(
            ErrorCode.INVALID_FIELD,
            "The eTMA address must be an http or https address, such as https://etma.example/admin.",
            field="etma_url",
        )
    # "user:password@" (even an empty user, as in http://:secret@host/) would be kept in the
    # ledger and sent to the server: the tutor's eTMA session is their browser's cookies alone.
    if "@" in parts.netloc or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        raise ProtocolError(
            ErrorCode.INVALID_FIELD,
            "The eTMA address must not hold a user name, a password or spaces: give the plain "
            "address, such as https://etma.example/admin, and log in to eTMA in the browser.",
            field="etma_url",
        )
    return url


def normalise_assignment(raw: str) -> str:
    """``TMA 02`` and ``tma02`` are one assignment, ``TMA02``; raise ValueError if not one."""
    assignment = raw.strip().upper()
    if assignment and not ASSIGNMENT_PATTERN.match(assignment):
        raise ValueError(raw)
    return assignment.replace(" ", "")


def check_cookie(name: str, value: str) -> None:
    """Refuse a cookie whose name or value RFC 6265 does not allow (no value is ever quoted)."""
    if not COOKIE_NAME_PATTERN.match(name):
        raise ProtocolError(
            ErrorCode.INVALID_FIELD,
            "A cookie's name is not a valid cookie name; log in to eTMA again.",
            field="cookies",
        )
    if len(value) > MAX_COOKIE_VALUE or not COOKIE_VALUE_PATTERN.match(value):
        raise ProtocolError(
            ErrorCode.INVALID_FIELD,
            f"The value of the cookie {name!r} holds characters a cookie may not; "
            "log in to eTMA again.",
            field="cookies",
            cookie=name,
        )


def parse_cookies(holder: dict) -> tuple[Cookie, ...]:
    """The optional ``cookies`` list of a request (or of its ``job``), each cookie checked."""
    from .records import Cookie

    cookies = []
    for raw in _field(holder, "cookies", list, required=False, default=[]):
        if not isinstance(raw, dict):
            raise ProtocolError(
                ErrorCode.INVALID_FIELD, "Each cookie must be an object.", field="cookies"
            )
        cookie = Cookie(
            name=_field(raw, "name", str),
            value=_field(raw, "value", str),
            domain=_field(raw, "domain", str),
            path=_field(raw, "path", str, required=False, default="/"),
            secure=_field(raw, "secure", bool, required=False, default=False),
        )
        check_cookie(cookie.name, cookie.value)
        cookies.append(cookie)
    return tuple(cookies)


def parse_module(raw: object) -> str:
    """A request's ``module`` (such as ``tm351 ``), tidied to ``TM351``; INVALID_FIELD otherwise."""
    module = raw.strip().upper() if isinstance(raw, str) else ""
    if not MODULE_PATTERN.match(module):
        shown = raw.strip()[:20] if isinstance(raw, str) else str(raw)[:20]
        raise ProtocolError(
            ErrorCode.INVALID_FIELD,
            f"'{shown}' is not a module code (letters then digits, such as TM351).",
            field="module",
        )
    return module


def parse_assignment(raw: object) -> str:
    """A request's ``assignment`` (``TMA 02``, ``tma02``) tidied to ``TMA02``; ``""`` for none
    (absent or blank); INVALID_FIELD otherwise."""
    if raw is None:
        return ""
    try:
        if not isinstance(raw, str):
            raise ValueError(raw)
        return normalise_assignment(raw)
    except ValueError:
        shown = raw.strip()[:20] if isinstance(raw, str) else str(raw)[:20]
        raise ProtocolError(
            ErrorCode.INVALID_FIELD,
            f"'{shown}' is not an assignment (such as TMA02).",
            field="assignment",
        ) from None


def parse_job(action: str, message: dict) -> Job:
    """Validate a download/codes request into a Job."""
    from .records import Job

    job = _field(message, "job", dict)
    etma_url = check_etma_url(_field(job, "etma_url", str))
    module = parse_module(_field(job, "module", str))
    assignment = parse_assignment(_field(job, "assignment", str, required=False, default=""))
    raw_pis = _field(job, "pis", list)
    if not raw_pis or len(raw_pis) > MAX_PIS:
        raise ProtocolError(
            ErrorCode.INVALID_FIELD,
            f"Send between 1 and {MAX_PIS} student PIs.",
            field="pis",
        )
    pis: dict[str, None] = {}
    for raw in raw_pis:
        try:
            if not isinstance(raw, str):
                raise ValueError(raw)
            pis[normalise_pi(raw)] = None
        except ValueError:
            raise ProtocolError(
                ErrorCode.INVALID_FIELD,
                f"{str(raw)[:20]!r} is not a student PI (a letter and seven digits).",
                field="pis",
            ) from None
    cookies = parse_cookies(job)
    return Job(
        action=action,
        etma_url=etma_url,
        module=module,
        assignment=assignment,
        pis=tuple(pis),
        cookies=cookies,
        force=_field(job, "force", bool, required=False, default=False),
        names=_names(job, pis),
    )


def _names(job: dict, pis: Collection[str]) -> dict[str, str]:
    """The job's optional ``names``: PI -> the tutor's name for that student, every PI one of
    the job's, every name a string of at most MAX_NAME characters with no control characters."""
    from .records import MAX_NAME, clean_name

    raw = _field(job, "names", dict, required=False, default={})
    names: dict[str, str] = {}
    for key, value in raw.items():
        try:
            pi = normalise_pi(key)
        except ValueError:
            pi = ""
        if pi not in pis:
            raise ProtocolError(
                ErrorCode.INVALID_FIELD,
                f"'names' holds {str(key)[:20]!r}, which is not one of the job's PIs.",
                field="names",
            )
        name = clean_name(value) if isinstance(value, str) else None
        if name is None:
            raise ProtocolError(
                ErrorCode.INVALID_FIELD,
                f"The name for {pi} should be text of at most {MAX_NAME} characters, "
                "without control characters.",
                field="names",
            )
        if name:
            names[pi] = name
    return names
