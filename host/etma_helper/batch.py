"""Running one job: every student fetched concurrently, each ending with a true status.

One student's failure never stops the batch; a lost eTMA session does, cleanly: students already
finished stay finished and the rest are marked "needs login".
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .config import Settings
from .errors import ErrorCode, ProtocolError
from .etma_session import Cancelled, EtmaSession, SessionExpired, StudentFailed
from .protocol import Job
from .records import JobSummary, StudentRecord
from .unpack import UnsafeZip, move_into, unpack

log = logging.getLogger(__name__)

STAGING = ".etma-partial"
CODES_CSV = "confirmation_codes.csv"
DOWNLOAD_ATTEMPTS = 3
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


class BatchRunner:
    """Fetches one job's students with a bounded number of workers."""

    def __init__(
        self, job: Job, settings: Settings, emit: Callable[[StudentRecord], None], job_id: str = ""
    ) -> None:
        self.job = job
        self.settings = settings
        self.emit = emit
        self.job_id = job_id
        self.folder = module_folder(settings, job.module)
        self.cancelled = threading.Event()
        self.login_lost = threading.Event()
        self._local = threading.local()
        self._sessions: list[EtmaSession] = []
        self._sessions_lock = threading.Lock()

    def cancel(self) -> None:
        """Stop new work now and cut in-flight transfers."""
        self.cancelled.set()
        with self._sessions_lock:
            for session in self._sessions:
                session.abort()

    def _session(self) -> EtmaSession:
        session = getattr(self._local, "session", None)
        if session is None:
            session = EtmaSession(self.job.etma_url, self.job.cookies)
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def run(self) -> JobSummary:
        """Fetch every student; return the summary once all have a final state."""
        started = time.monotonic()
        workers = min(self.settings.concurrency, len(self.job.pis))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="etma") as pool:
            records = list(pool.map(self._fetch_one, self.job.pis))
        with self._sessions_lock:
            for session in self._sessions:
                session.close()
        shutil.rmtree(self.folder / STAGING, ignore_errors=True)
        codes_csv = None
        if any(r.code for r in records):
            from .export import write_codes_csv

            codes_csv = str(write_codes_csv(self.folder / CODES_CSV, records))
        counts = Counter(r.state for r in records)
        outcome = (
            "cancelled"
            if self.cancelled.is_set()
            else "needs_login"
            if self.login_lost.is_set()
            else "finished"
        )
        return JobSummary(
            job_id=self.job_id,
            action=self.job.action,
            module=self.job.module,
            outcome=outcome,
            counts={
                state: counts.get(state, 0)
                for state in ("done", "failed", "needs_login", "cancelled")
            },
            folder=str(self.folder),
            codes_csv=codes_csv,
            seconds=time.monotonic() - started,
        )

    def _fetch_one(self, pi: str) -> StudentRecord:
        if self.cancelled.is_set():
            record = StudentRecord(pi, "cancelled", "Cancelled before it started.")
        elif self.login_lost.is_set():
            record = StudentRecord(pi, "needs_login", NEEDS_LOGIN)
        else:
            self.emit(StudentRecord(pi, "working"))
            record = self._attempt(pi)
        self.emit(record)
        return record

    def _attempt(self, pi: str) -> StudentRecord:
        try:
            return self._fetch(pi)
        except SessionExpired:
            self.login_lost.set()
            return StudentRecord(pi, "needs_login", NEEDS_LOGIN)
        except Cancelled:
            return StudentRecord(pi, "cancelled", "Cancelled while downloading.")
        except (StudentFailed, UnsafeZip) as err:
            if self.cancelled.is_set():
                return StudentRecord(pi, "cancelled", "Cancelled while downloading.")
            return StudentRecord(pi, "failed", str(err))
        except Exception:
            log.exception("unexpected failure for one student")
            return StudentRecord(
                pi, "failed", "An unexpected problem; the helper's log has details."
            )
        finally:
            shutil.rmtree(self.folder / STAGING / pi, ignore_errors=True)

    def _fetch(self, pi: str) -> StudentRecord:
        session = self._session()
        page = session.student_page(self.job.module, pi)
        if page.code is None and page.download is None:
            return StudentRecord(
                pi, "failed", page.problem or "eTMA shows nothing for this student."
            )
        code = page.code or ""
        if self.job.action == "codes":
            if not code:
                return StudentRecord(pi, "failed", "eTMA's page shows no confirmation code.")
            return StudentRecord(pi, "done", code=code)
        if page.download is None:
            return StudentRecord(
                pi, "failed", "No files have been submitted for this assignment.", code=code
            )
        staging = self.folder / STAGING / pi
        shutil.rmtree(staging, ignore_errors=True)
        for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
            if self.cancelled.is_set():
                raise Cancelled()
            try:
                downloaded = session.download_zip(
                    page.download, staging / "script.zip.part", self.cancelled
                )
                break
            except StudentFailed:
                if attempt == DOWNLOAD_ATTEMPTS or self.cancelled.is_set():
                    raise
                time.sleep(0.5 * attempt)
        files = unpack(downloaded.path, staging / "files")
        target = self.folder / pi
        move_into(staging / "files", target, files)
        log.info("student done: %d files, %d bytes", len(files), downloaded.size)
        return StudentRecord(pi, "done", code=code, files=files, folder=str(target))
