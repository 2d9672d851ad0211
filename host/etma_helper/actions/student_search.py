"""``student_search``: how to open one student's eTMA page in the browser.

The helper finds eTMA's search form by meaning (the same way a batch does) and returns it filled
in; the extension submits it from an eTMA tab, so the browser uses its own session. Reading eTMA
can be slow, so the work runs off the read loop (``Reply.later``).
"""

from __future__ import annotations

from ..config import Settings
from ..errors import ErrorCode, ProtocolError
from ..framing import MAX_OUTGOING, encode
from ..protocol import parse_job
from . import Reply, profile_unusable

#: Bytes of form fields a reply may carry; the rest of a frame is left for the envelope.
FIELDS_BUDGET = MAX_OUTGOING - 16 * 1024


def fit_fields(fields: list[tuple[str, str]], keep: set[str]) -> tuple[list, list[str]]:
    """The fields that fit in a reply, and the names of those left out (largest first).

    Old ASP.NET pages carry hidden state (``__VIEWSTATE``) of hundreds of KB; what does not fit
    is named in ``page_fields`` and the extension takes it from the eTMA page it opens.
    """
    sent = [list(pair) for pair in fields]
    left_out: list[str] = []
    while len(encode({"fields": sent})) > FIELDS_BUDGET:
        movable = [pair for pair in sent if pair[0] not in keep]
        if not movable:
            break
        largest = max(movable, key=lambda pair: len(pair[1]))
        sent.remove(largest)
        left_out.append(largest[0])
    return sent, left_out


def handle(host, message: dict) -> Reply:
    job_fields = {key: message.get(key) for key in ("etma_url", "module", "cookies")}
    job = parse_job("codes", {"job": {**job_fields, "pis": [message.get("pi")]}})
    settings = Settings.load()

    def search() -> dict:
        from ..etma_session import Cancelled, EtmaSession, Limits, SessionExpired, StudentFailed
        from ..site_profile import ProfileError, load_profile

        try:
            profile = load_profile(settings)
        except ProfileError as err:
            raise profile_unusable(err, settings.profile) from err
        limits = Limits.from_settings(settings)
        try:
            with EtmaSession(job.etma_url, job.cookies, profile=profile, limits=limits) as session:
                form = session.search_form()
        except SessionExpired as err:
            raise ProtocolError(
                ErrorCode.NEEDS_LOGIN,
                "Your eTMA session has ended: log in to eTMA, then try again.",
            ) from err
        except (StudentFailed, Cancelled) as err:
            raise ProtocolError(ErrorCode.SEARCH_FORM_MISSING, str(err)) from err
        pairs = form.form.payload(**{form.module_field: job.module, form.pi_field: job.pis[0]})
        fields, page_fields = fit_fields(pairs, keep={form.module_field, form.pi_field})
        data = {
            "action": form.form.action,
            "method": form.form.method,
            "fields": fields,
            "module_field": form.module_field,
            "pi_field": form.pi_field,
        }
        if page_fields:
            data["page_fields"] = page_fields
        return data

    return Reply(later=search)
