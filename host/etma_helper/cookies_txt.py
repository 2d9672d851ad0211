"""Reading the eTMA cookies from a cookies.txt file, for the command line.

Browser extensions export cookies in the Netscape format: one cookie a line, seven tab-separated
fields (domain, subdomains flag, path, secure flag, expiry, name, value). Parsed by hand because
``http.cookiejar.MozillaCookieJar`` rejects files without its magic first line, rejects a whole
file when one line's subdomain flag disagrees with its domain's leading dot, and keeps expiry "0"
as a string that later breaks its own expiry checks; exporters write all three.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

from .errors import ProtocolError
from .protocol import check_cookie
from .records import Cookie

HTTPONLY_PREFIX = "#HttpOnly_"


class CookiesFileError(ValueError):
    """A cookies.txt that cannot be read; the message names the file and the line."""


def _domain_matches(domain: str, host: str) -> bool:
    domain = domain.lower().lstrip(".")
    return host == domain or host.endswith("." + domain)


def load_cookies_txt(path: Path, etma_url: str) -> tuple[Cookie, ...]:
    """The cookies in ``path`` that a browser would send to ``etma_url``.

    Session cookies (expiry 0) are kept: the eTMA login is one. Expired cookies and cookies
    for other sites are left out, so nothing meant for another site reaches eTMA. A file that
    cannot be opened raises ``OSError``; one in the wrong format, ``CookiesFileError``.
    """
    host = (urlsplit(etma_url).hostname or "").lower()
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as err:
        raise CookiesFileError(f"{path} is not a cookies.txt file (not text: {err})") from err
    now = time.time()
    cookies = []
    for number, line in enumerate(lines, start=1):
        if line.startswith(HTTPONLY_PREFIX):
            line = line[len(HTTPONLY_PREFIX) :]  # an HttpOnly cookie, not a comment
        elif line.startswith("#") or not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) == 6:
            fields.append("")  # some exporters drop the tab before an empty value
        if len(fields) != 7:
            raise CookiesFileError(
                f"{path} line {number}: expected 7 tab-separated fields (Netscape cookies.txt "
                f"format), found {len(fields)}"
            )
        domain, _subdomains, cookie_path, secure, expires, name, value = fields
        try:
            expiry = int(float(expires or 0))
        except ValueError:
            raise CookiesFileError(
                f"{path} line {number}: the expiry {expires!r} is not a number"
            ) from None
        if (expiry and expiry < now) or not _domain_matches(domain, host):
            continue
        try:
            check_cookie(name, value)
        except ProtocolError as err:
            raise CookiesFileError(f"{path} line {number}: {err.message}") from None
        cookies.append(
            Cookie(
                name=name,
                value=value,
                domain=domain.lstrip("."),
                path=cookie_path or "/",
                secure=secure.upper() == "TRUE",
            )
        )
    return tuple(cookies)
