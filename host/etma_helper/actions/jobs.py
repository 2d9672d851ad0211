"""``jobs``: the newest jobs from the ledger, for the popup."""

from __future__ import annotations

from ..errors import ErrorCode, ProtocolError
from . import Reply


def handle(host, message: dict) -> Reply:
    limit = message.get("limit", 10)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 50:
        raise ProtocolError(ErrorCode.INVALID_FIELD, "'limit' should be 1 to 50.", field="limit")
    return Reply({"jobs": host.ledger().recent_jobs(limit), "running": host.running_job_id})
