"""Running one job: every student fetched concurrently, each ending with a true status.

One student's failure never stops the batch; a lost eTMA session does, cleanly: students already
finished stay finished and the rest are marked "needs login".
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from .config import Settings
from .errors import ErrorCode, ProtocolError
from .etma_session import (
    Cancelled,
    DownloadedZip,
    EtmaSession,
    SessionExpired,
    StudentFailed,
    TransferCut,
)
from .ledger import Ledger
from .protocol import Job
from .records import FINAL_STATES, JobSummary, Outcome
from .site_profile import ProfileError, SiteProfile
from .unpack import UnsafeZip, move_into, unpack

log = logging.getLogger(__name__)

STAGING = ".etma-partial"
CODES_CSV = "confirmation_codes.csv"
DOWNLOAD_ATTEMPTS = 3
UNPACKERS = 2
NEEDS_LOGIN = "Your eTMA session has ended: log in to eTMA in the browser, then run this again."


def module_folder(settings: Settings, module: str) -> Path:
    """``<download root>/<module>``, created and checked writable, or a clear error."""
    folder = settings.download_root / module
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ProtocolError(
            ErrorCode.DOWNLOAD_ROOT_UNUSABLE,
            f"Cannot create the download folder {folder}: {err.strerror}. "
            "Choose another folder in the helper's settings.",
            folder=str(folder),
        ) from err
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ProtocolError(
            ErrorCode.DOWNLOAD_ROOT_UNUSABLE,
            f"The download folder {folder} is not writable. "
            "Choose another in the helper's settings.",
            folder=str(folder),
        )
    return folder


def load_profile(settings: Settings) -> SiteProfile:
    """The site profile the settings name (or the built-in one), or a clear job error."""
    try:
        return SiteProfile.load(settings.profile)
    except ProfileError as err:
        raise ProtocolError(
            ErrorCode.SITE_PROFILE_UNUSABLE, str(err), profile=str(settings.profile)
        ) from err


class BatchRunner:
    """Fetches one job's students with a bounded number of workers, recording each outcome."""

    def __init__(
        self,
        job: Job,
        settings: Settings,
        emit: Callable[[Outcome], None],
        job_id: str = "",
        ledger: Ledger | None = None,
    ) -> None:
        self.job = job
        self.settings = settings
        self.emit = emit
        self.job_id = job_id or f"job-{time.time_ns()}"
        self.folder = module_folder(settings, job.module)
        self.profile = load_profile(settings)
        self.ledger = ledger if ledger is not None else Ledger()
        self.cancelled = threading.Event()
        self.login_lost = threading.Event()
        self._local = threading.local()
        self._sessions: list[EtmaSession] = []
        self._sessions_lock = threading.Lock()
        self._search_form = None
        self._form_lock = threading.Lock()
        self._unpackers: ThreadPoolExecutor

    def cancel(self) -> None:
        """Stop new work now and cut in-flight transfers."""
        self.cancelled.set()
        with self._sessions_lock:
            for session in self._sessions:
                session.abort()

    def _session(self) -> EtmaSession:
        session = getattr(self._local, "session", None)
        if session is None:
            session = EtmaSession(
                self.job.etma_url,
                self.job.cookies,
                profile=self.profile,
                read_timeout=self.settings.read_timeout,
            )
            with self._sessions_lock:
                self._sessions.append(session)
            # The search form is the same for every student: one worker reads it, all use it.
            with self._form_lock:
                if self._search_form is None:
                    self._search_form = session.search_form()
            session.use_search_form(self._search_form)
            self._local.session = session
        return session

    def run(self) -> JobSummary:
        """Fetch every student; return the summary once all have a final state.

        Workers only talk to eTMA; each finished download is unpacked by a separate pool, so the
        connections never sit idle while files are written.
        """
        started = time.monotonic()
        job = self.job
        self.ledger.start_job(
            self.job_id, job.action, job.module, job.assignment, job.etma_url, len(job.pis)
        )
        # pandas takes a noticeable moment to import: do it while the network is busy.
        threading.Thread(target=_warm_up_export, daemon=True).start()
        workers = min(self.settings.concurrency, len(job.pis))
        with (
            ThreadPoolExecutor(workers, thread_name_prefix="etma") as fetchers,
            ThreadPoolExecutor(UNPACKERS, thread_name_prefix="unpack") as self._unpackers,
        ):
            stages = list(fetchers.map(self._fetch_one, job.pis))
            records = [s.result() if isinstance(s, Future) else s for s in stages]
        with self._sessions_lock:
            for session in self._sessions:
                session.close()
        shutil.rmtree(self.folder / STAGING, ignore_errors=True)
        codes_csv = None
        if any(r.code for r in records):
            from .export import write_codes_csv

            codes_csv = str(write_codes_csv(self.folder / CODES_CSV, records))
        counts = Counter(r.state for r in records)
        if self.cancelled.is_set():
            outcome = "cancelled"
        elif self.login_lost.is_set():
            outcome = "needs_login"
        else:
            outcome = "finished"
        self.ledger.finish_job(self.job_id, outcome)
        return JobSummary(
            job_id=self.job_id,
            action=job.action,
            module=job.module,
            outcome=outcome,
            counts={s: counts.get(s, 0) for s in FINAL_STATES},
            folder=str(self.folder),
            codes_csv=codes_csv,
            seconds=time.monotonic() - started,
        )

    def _fetch_one(self, pi: str) -> Outcome | Future[Outcome]:
        """Talk to eTMA for one student; hand a downloaded zip on to the unpacking pool."""
        if self.cancelled.is_set():
            return self._finish(Outcome(pi, "cancelled", "Cancelled before it started."))
        if self.login_lost.is_set():
            return self._finish(Outcome(pi, "needs_login", NEEDS_LOGIN))
        earlier = self._already_on_disk(pi)
        if earlier is not None:
            return self._finish(earlier)
        self.emit(Outcome(pi, "working"))
        stage = self._guarded(pi, self._fetch, pi)
        if isinstance(stage, Outcome):
            return self._finish(stage)
        return self._unpackers.submit(self._unpack_and_finish, pi, *stage)

    def _unpack_and_finish(self, pi: str, code: str, downloaded: DownloadedZip) -> Outcome:
        return self._finish(self._guarded(pi, self._unpack, pi, code, downloaded))

    def _finish(self, outcome: Outcome) -> Outcome:
        """Record a student's final outcome in the ledger, then report it."""
        self.ledger.record(self.job_id, self.job.module, self.job.action, outcome)
        self.emit(outcome)
        return outcome

    def _already_on_disk(self, pi: str) -> Outcome | None:
        """An earlier download of this student, if every file it wrote is still there."""
        if self.job.action != "download" or self.job.force:
            return None
        earlier = self.ledger.last_download(self.job.module, pi)
        if earlier is None or earlier.folder is None:
            return None
        folder = Path(earlier.folder)
        for entry in earlier.files:
            path = folder.joinpath(*entry.path.split("/"))
            try:
                if path.stat().st_size != entry.size:
                    return None
            except OSError:
                return None
        return dataclasses.replace(earlier, reason="Already downloaded earlier.")

    def _guarded(self, pi: str, stage, *args):
        """Run one stage for a student, turning every failure into that student's outcome."""
        try:
            return stage(*args)
        except SessionExpired:
            self.login_lost.set()
            return Outcome(pi, "needs_login", NEEDS_LOGIN)
        except Cancelled:
            return Outcome(pi, "cancelled", "Cancelled while downloading.")
        except (StudentFailed, UnsafeZip) as err:
            if self.cancelled.is_set():
                return Outcome(pi, "cancelled", "Cancelled while downloading.")
            return Outcome(pi, "failed", str(err))
        except Exception:
            log.exception("unexpected failure for one student")
            return Outcome(pi, "failed", "Unexpected problem; the helper's log has details.")

    def _fetch(self, pi: str) -> Outcome | tuple[str, DownloadedZip]:
        """Read the student's page and download their zip: a final outcome, or (code, zip)."""
        session = self._session()
        page = session.student_page(self.job.module, pi)
        if page.code is None and page.download is None:
            return Outcome(pi, "failed", page.problem or "eTMA shows nothing for this student.")
        code = page.code or ""
        if self.job.action == "codes":
            if not code:
                return Outcome(pi, "failed", "eTMA's page shows no confirmation code.")
            return Outcome(pi, "done", code=code)
        if page.download is None:
            return Outcome(pi, "failed", "No files have been submitted for this assignment.", code)
        staging = self.folder / STAGING / pi
        shutil.rmtree(staging, ignore_errors=True)
        for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
            if self.cancelled.is_set():
                raise Cancelled()
            try:
                return code, session.download_zip(
                    page.download, staging / "script.zip", self.cancelled
                )
            except TransferCut:
                if attempt == DOWNLOAD_ATTEMPTS or self.cancelled.is_set():
                    shutil.rmtree(staging, ignore_errors=True)
                    raise
                time.sleep(0.5 * attempt)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        raise AssertionError("unreachable")

    def _unpack(self, pi: str, code: str, downloaded: DownloadedZip) -> Outcome:
        """Unpack a verified zip into the student's folder."""
        staging = downloaded.path.parent
        try:
            files = unpack(downloaded.path, staging / "files")
            target = self.folder / pi
            move_into(staging / "files", target, [f.path for f in files])
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        log.info("student done: %d files, %d bytes", len(files), downloaded.size)
        return Outcome(
            pi, "done", "", code, str(target), tuple(files), downloaded.size, downloaded.sha256
        )


def _warm_up_export() -> None:
    """Import what the codes table needs, so writing it at the end costs no wait."""
    import openpyxl  # noqa: F401
    import pandas  # noqa: F401
