"""``cancel``: stop the running job."""

from __future__ import annotations

from ..errors import ErrorCode, ProtocolError
from . import Reply


def handle(host, message: dict) -> Reply:
    job_id = message.get("job_id")
    if not isinstance(job_id, str) or job_id != host.running_job_id:
        raise ProtocolError(ErrorCode.NO_SUCH_JOB, "That job is not running.", job_id=str(job_id))
    host.cancel()
    return Reply({"job_id": job_id, "cancelled": True})
