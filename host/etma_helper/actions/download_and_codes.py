"""``download`` and ``codes``: start a batch for a list of students."""

from __future__ import annotations

from ..config import Settings
from ..errors import ErrorCode, ProtocolError
from ..protocol import parse_job
from . import Reply, profile_unusable


def handle(host, message: dict) -> Reply:
    job = parse_job(message["action"], message)
    if host.running_job_id is not None:
        raise ProtocolError(
            ErrorCode.JOB_RUNNING,
            "The helper is already working on a job; wait for it or cancel it first.",
            job_id=host.running_job_id,
        )
    from ..batch import BatchRunner  # heavy (requests, bs4): only when there is work
    from ..site_profile import ProfileError

    job_id = str(message["id"])
    settings = Settings.load()
    try:
        runner = BatchRunner(
            job, settings, emit=host.progress_sender(job_id), job_id=job_id, ledger=host.ledger
        )
    except ProfileError as err:
        raise profile_unusable(err, settings.profile) from err
    return Reply({"job_id": job_id, "total": len(job.pis)}, then=lambda: host.start(runner))
