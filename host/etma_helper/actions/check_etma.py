"""``check_etma``: is this the right eTMA address, and is the tutor logged in there?

The options page's "Test connection" sends the address typed in its field (saved or not) with
the browser's eTMA cookies; the helper looks once, with the short limits a job's own start-up
check uses (address_check.py), and answers with a verdict and the words for it. Reading eTMA
can be slow, so the look runs off the read loop (``Reply.later``).
"""

from __future__ import annotations

from ..config import Settings
from ..errors import ErrorCode, ProtocolError
from ..protocol import check_etma_url, parse_cookies
from . import Reply, profile_unusable


def handle(host, message: dict) -> Reply:
    raw = message.get("etma_url")
    if not isinstance(raw, str) or not raw.strip():
        raise ProtocolError(
            ErrorCode.INVALID_FIELD, "The request has no 'etma_url'.", field="etma_url"
        )
    etma_url = check_etma_url(raw.strip())
    cookies = parse_cookies(message)
    settings = Settings.load()

    def look() -> dict:
        from ..address_check import check_address, check_limits
        from ..etma_session import EtmaSession, Limits
        from ..site_profile import ProfileError, load_profile

        try:
            profile = load_profile(settings)
        except ProfileError as err:
            raise profile_unusable(err, settings.profile) from err
        limits = check_limits(Limits.from_settings(settings))
        with EtmaSession(etma_url, cookies, profile=profile, limits=limits, retries=1) as session:
            check = check_address(session)
        data = {"verdict": check.verdict, "etma_url": etma_url, "problem": check.problem}
        if check.search_form is not None:
            data["page_url"] = check.search_form.page_url or etma_url
        return data

    return Reply(later=look)
