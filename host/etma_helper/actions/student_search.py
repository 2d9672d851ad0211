"""``student_search``: how to open one student's eTMA page in the browser.

The helper finds eTMA's search form by meaning (the same way a batch does) and returns it filled
in; the extension submits it from an eTMA tab, so the browser uses its own session.
"""

from __future__ import annotations

from ..config import Settings
from ..errors import ErrorCode, ProtocolError
from ..protocol import parse_job
from . import Reply


def handle(host, message: dict) -> Reply:
    job_fields = {key: message.get(key) for key in ("etma_url", "module", "cookies")}
    job = parse_job("codes", {"job": {**job_fields, "pis": [message.get("pi")]}})
    from ..batch import load_profile
    from ..etma_session import EtmaSession, SessionExpired, StudentFailed

    session = EtmaSession(job.etma_url, job.cookies, profile=load_profile(Settings.load()))
    try:
        search = session.search_form()
    except SessionExpired as err:
        raise ProtocolError(
            ErrorCode.NEEDS_LOGIN, "Your eTMA session has ended: log in to eTMA, then try again."
        ) from err
    except StudentFailed as err:
        raise ProtocolError(ErrorCode.SEARCH_FORM_MISSING, str(err)) from err
    finally:
        session.close()
    fields = search.form.payload(**{search.module_field: job.module, search.pi_field: job.pis[0]})
    return Reply(
        {
            "action": search.form.action,
            "method": search.form.method,
            "fields": [list(pair) for pair in fields],
            "module_field": search.module_field,
            "pi_field": search.pi_field,
        }
    )
