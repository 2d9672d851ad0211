"""Running one job: every student fetched concurrently, each ending with a true status.

One student's failure never stops the batch; a lost eTMA session or a nearly full disk does,
cleanly: students already finished stay finished and the rest say why they were not fetched.

A job's identity is its module and assignment: its files go to
``<download root>/<module>/<assignment>/<PI>/`` (``<module>/<PI>/`` for a job that names no
assignment), beside that assignment's codes table, and a student counts as downloaded only when
their files are in the folder this job writes to.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import logging
import os
import shutil
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from .address_check import AddressCheck, check_address, check_limits, wrong_address_error
from .config import Settings
from .errors import ErrorCode, ProtocolError
from .etma_session import (
    Cancelled,
    DownloadedZip,
    EtmaSession,
    Limits,
    PageReader,
    SessionExpired,
    StudentFailed,
    TransferCut,
)
from .ledger import Ledger
from .log_safety import log_unexpected
from .records import FINAL_STATES, FileEntry, Job, JobSummary, Outcome
from .site_profile import load_profile
from .unpack import UnsafeZip, ZipLimits, move_into, unpack

TYPE_CHECKING = False
if TYPE_CHECKING:  # Beautiful Soup loads while the address check's request is on its way
    from .etma_pages import StudentPage

log = logging.getLogger(__name__)

STAGING = ".etma-partial"
CODES_CSV = "confirmation_codes.csv"
DOWNLOAD_ATTEMPTS = 3
UNPACKERS = 2
#: Workers beyond the job's connections: while every connection carries a request, these read a
#: page that has arrived or start the next student, so no connection waits for the CPU. A job
#: with one connection has none: it stays one student at a time, in order, as a tutor who
#: chose one at a time expects.
READERS = 2
#: How long a worker giving a connection back waits, at most, for a waiting worker to take it.
HANDOFF_SECONDS = 0.005
NEEDS_LOGIN = "Your eTMA session has ended: log in to eTMA in the browser, then run this again."
#: Free space a job leaves on the disk: below it, the job stops before writing more.
MIN_FREE_BYTES = 256 * 1024 * 1024
COPY_CHUNK = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class _PageFacts:
    """What a student's page said about them besides the code: name, submission date, late."""

    name: str = ""
    submitted: str = ""
    late: bool | None = None


class DiskNearlyFull(Exception):
    """The download folder's disk has less free space than a job must leave."""


def free_bytes(folder: Path) -> int:
    """Free space for an ordinary user on the disk holding ``folder``."""
    return shutil.disk_usage(folder).free


def disk_full_reason(folder: Path) -> str:
    try:
        free = f"{free_bytes(folder) / 1024**2:.0f} MB free"
    except OSError:
        free = "no space left"
    return (
        f"The disk holding {folder} is nearly full ({free}; a job leaves at least "
        f"{MIN_FREE_BYTES // 1024**2} MB). Free some space, then run the job again: "
        "students already finished are not fetched again."
    )


def job_folder(settings: Settings, module: str, assignment: str = "") -> Path:
    """``<download root>/<module>/<assignment>``, created and checked writable, or a clear
    error; ``<download root>/<module>`` for a job that names no assignment."""
    folder = settings.download_root / module
    if assignment:
        folder = folder / assignment
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
    """Fetches one job's students with a bounded number of workers, recording each outcome.

    The job's concurrency bounds its connections to eTMA, and so its requests in flight: each
    worker borrows a connection for one request and gives it back before reading the answer.
    """

    def __init__(
        self,
        job: Job,
        settings: Settings,
        emit: Callable[[Outcome], None],
        job_id: str = "",
        ledger: Ledger | Callable[[], Ledger] | None = None,
    ) -> None:
        """``ledger``: the ledger, or what opens it; run() calls that while its first request
        to eTMA is on its way, so opening the ledger never delays the first student."""
        self.job = job
        self.settings = settings
        self.emit = emit
        self.job_id = job_id or f"job-{time.time_ns()}"
        self.folder = job_folder(settings, job.module, job.assignment)
        if free_bytes(self.folder) < MIN_FREE_BYTES:
            raise ProtocolError(
                ErrorCode.DISK_FULL, disk_full_reason(self.folder), folder=str(self.folder)
            )
        self.profile = load_profile(settings)  # ProfileError: the caller says it its way
        opener = Ledger if ledger is None else ledger
        self._open_ledger: Callable[[], Ledger] = opener if callable(opener) else lambda: opener
        self.ledger: Ledger
        self.cancelled = threading.Event()
        self.login_lost = threading.Event()
        self.disk_full = threading.Event()
        # Codes read from students' pages, kept when what follows (the zip) fails.
        self._codes: dict[str, str] = {}
        self._started = 0  # students whose fetch has begun
        self._warm_up_after = 0
        self._started_lock = threading.Lock()
        # What students' pages said about them, kept for their outcome whatever happens next:
        # the facts alone, not the page (its forms may carry hundreds of KB of hidden state).
        self._facts: dict[str, _PageFacts] = {}
        self._notes: dict[str, str] = {}  # what a tutor should know about a done student
        self._how: Counter[str] = Counter()
        self._copied_from: set[str] = set()
        self._how_lock = threading.Lock()
        self._reader = PageReader(self.profile, job.cookies)
        self._earlier: dict[str, Outcome] = {}  # each student's last download, read at the start
        self._sessions: list[EtmaSession] = []
        self._idle: deque[EtmaSession] = deque()
        self._sessions_lock = threading.Lock()
        self._came_back = threading.Condition(self._sessions_lock)  # a session is idle
        self._picked_up = threading.Condition(self._sessions_lock)  # a waiting worker took one
        self._waiting = 0  # workers waiting for a session
        self._taken = 0  # sessions waiting workers have taken, so far
        self._search_form = None
        self._form_lock = threading.Lock()
        self._unpackers: ThreadPoolExecutor
        self._open_sessions: contextlib.ExitStack  # the sessions run() closes as it ends

    def cancel(self) -> None:
        """Stop new work now and cut in-flight transfers."""
        self.cancelled.set()
        with self._sessions_lock:
            for session in self._sessions:
                session.abort()

    @contextlib.contextmanager
    def _connection(self) -> Iterator[EtmaSession]:
        """One of the job's sessions (each one connection) for one request, then back.

        At most ``concurrency`` sessions exist: a worker waits for one to come back when all
        are busy, so eTMA never has more requests from this job in flight than that.
        """
        fresh = False
        with self._sessions_lock:
            if not self._idle and len(self._sessions) < self.settings.concurrency:
                session, fresh = self._new_session(), True
            else:
                self._waiting += 1
                self._came_back.wait_for(lambda: self._idle)  # every borrower gives one back
                self._waiting -= 1
                session = self._idle.popleft()
                self._taken += 1
                self._picked_up.notify_all()
        try:
            if self.login_lost.is_set():  # found while this worker waited: send nothing more
                raise SessionExpired("eTMA's session ended while this student waited.")
            if fresh:
                self._use_search_form(session)
            yield session
        finally:
            self._give_back(session)

    def _give_back(self, session: EtmaSession) -> None:
        """Return a session; when a worker is waiting for one, let it send its request first.

        The worker giving the session back goes on to read the answer it got, which holds
        the interpreter for a while; the waiting worker would wait for that before it could
        send, and the connection would sit idle meanwhile.
        """
        with self._sessions_lock:
            self._idle.append(session)
            self._came_back.notify()
            if self._waiting:
                taken = self._taken
                self._picked_up.wait_for(lambda: self._taken > taken, timeout=HANDOFF_SECONDS)

    def _new_session(self) -> EtmaSession:
        """A new session for the job, closed when run() ends (called under _sessions_lock)."""
        session = EtmaSession(
            self.job.etma_url,
            self.job.cookies,
            profile=self.profile,
            limits=Limits.from_settings(self.settings),
        )
        self._sessions.append(session)
        self._open_sessions.enter_context(session)
        if self.cancelled.is_set():  # a cancel that came before this session was listed
            session.abort()
        return session

    def _use_search_form(self, session: EtmaSession) -> None:
        """The search form is the same for every student: one session reads it, all use it."""
        with self._form_lock:
            if self._search_form is None:
                if self.login_lost.is_set():  # the session before found the tutor signed out
                    raise SessionExpired("eTMA's session ended while reading its search page.")
                self._search_form = session.search_form()
        session.use_search_form(self._search_form)

    def run(self) -> JobSummary:
        """Fetch every student; return the summary once all have a final state.

        Workers borrow one of the job's connections for each request and give it back before
        reading the answer, and each finished download is unpacked by a separate pool: the
        connections never sit idle while pages are read or files written.
        """
        started = time.monotonic()
        job = self.job
        # One look at the address first: a wrong one stops the job now, every student left
        # unfinished, instead of failing them one by one. The ledger opens while it is looking.
        with ThreadPoolExecutor(1, thread_name_prefix="address") as looking:
            look = looking.submit(self._check_address)
            try:
                self.ledger = self._open_ledger()
                self.ledger.start_job(
                    self.job_id, job.action, job.module, job.assignment, job.etma_url, len(job.pis)
                )
                if job.action == "download" and not job.force:
                    self._earlier = self.ledger.last_downloads(job.module, job.assignment)
            except BaseException:
                self.cancel()  # the job cannot run: cut the look short
                raise
            check = look.result()
        if check.wrong_address and not self.cancelled.is_set():
            self.ledger.finish_job(self.job_id, "wrong_address")
            raise wrong_address_error(check)
        if check.verdict == "needs_login":
            self.login_lost.set()
        elif check.search_form is not None:
            self._search_form = check.search_form
        connections = self.settings.concurrency
        workers = min(connections + (READERS if connections > 1 else 0), len(job.pis))
        # The codes table's workbook library takes a noticeable moment of CPU to import. Done at
        # the start it would hold the GIL while every worker parses pages; it starts instead
        # when the last students are being fetched, while the workers wait on eTMA's answers.
        self._warm_up_after = len(job.pis) - workers
        # Left in reverse order: the pools finish their work, then every worker's session
        # closes, even when something unexpected ends the job early.
        with (
            contextlib.ExitStack() as self._open_sessions,
            ThreadPoolExecutor(workers, thread_name_prefix="etma") as fetchers,
            ThreadPoolExecutor(UNPACKERS, thread_name_prefix="unpack") as self._unpackers,
        ):
            stages = list(fetchers.map(self._fetch_one, job.pis))
            records = [s.result() if isinstance(s, Future) else s for s in stages]
        shutil.rmtree(self.folder / STAGING, ignore_errors=True)
        codes_csv = None
        if any(r.code or r.state in ("done", "not_submitted") for r in records):
            from .export import write_codes_csv

            codes_csv = str(
                write_codes_csv(self.folder / CODES_CSV, records, assignment=job.assignment)
            )
        counts = Counter(r.state for r in records)
        if self.cancelled.is_set():
            outcome = "cancelled"
        elif self.disk_full.is_set():
            outcome = "disk_full"
        elif self.login_lost.is_set():
            outcome = "needs_login"
        else:
            outcome = "finished"
        self.ledger.finish_job(self.job_id, outcome)
        return JobSummary(
            job_id=self.job_id,
            action=job.action,
            module=job.module,
            assignment=job.assignment,
            outcome=outcome,
            counts={s: counts.get(s, 0) for s in FINAL_STATES},
            folder=str(self.folder),
            codes_csv=codes_csv,
            seconds=time.monotonic() - started,
            how=dict(self._how),
            copied_from=sorted(self._copied_from),
            stopped_because=disk_full_reason(self.folder) if outcome == "disk_full" else None,
        )

    def _check_address(self) -> AddressCheck:
        """Look at the eTMA address once, with short limits; a cancel cuts the look too."""
        session = EtmaSession(
            self.job.etma_url,
            self.job.cookies,
            profile=self.profile,
            limits=check_limits(Limits.from_settings(self.settings)),
            retries=1,
        )
        with self._sessions_lock:
            self._sessions.append(session)
        if self.cancelled.is_set():
            session.abort()
        try:
            return check_address(session)
        finally:
            session.close()
            with self._sessions_lock:
                self._sessions.remove(session)

    def _count(self, how: str) -> None:
        with self._how_lock:
            self._how[how] += 1

    def _fetch_one(self, pi: str) -> Outcome | Future[Outcome]:
        """Talk to eTMA for one student; hand a downloaded zip on to the unpacking pool."""
        with self._started_lock:
            self._started += 1
            last_round = self._started == self._warm_up_after + 1
        if last_round:
            threading.Thread(target=_warm_up_export, name="warm-up", daemon=True).start()
        if self.cancelled.is_set():
            return self._finish(
                Outcome(pi=pi, state="cancelled", reason="Cancelled before it started.")
            )
        if self.disk_full.is_set():
            return self._finish(
                Outcome(pi=pi, state="failed", reason=disk_full_reason(self.folder))
            )
        if self.login_lost.is_set():
            return self._finish(Outcome(pi=pi, state="needs_login", reason=NEEDS_LOGIN))
        self.emit(Outcome(pi=pi, state="working", name=self.job.names.get(pi, "")))
        earlier = self._guarded(pi, self._earlier_download, pi)
        if earlier is not None:
            return self._finish(earlier)
        stage = self._guarded(pi, self._fetch, pi)
        if isinstance(stage, Outcome):
            return self._finish(stage)
        return self._unpackers.submit(self._unpack_and_finish, pi, *stage)

    def _unpack_and_finish(self, pi: str, code: str, downloaded: DownloadedZip) -> Outcome:
        return self._finish(self._guarded(pi, self._unpack, pi, code, downloaded))

    def _finish(self, outcome: Outcome) -> Outcome:
        """Record a student's final outcome in the ledger, then report it.

        The student's name is the job's, else their page's, else an earlier job's; the
        submission date and late flag are what their page showed, else what an earlier job read.
        """
        facts = self._facts.get(outcome.pi, _PageFacts())
        outcome = dataclasses.replace(
            outcome,
            name=self.job.names.get(outcome.pi) or facts.name or outcome.name,
            submitted=facts.submitted or outcome.submitted,
            late=facts.late if facts.late is not None else outcome.late,
        )
        self.ledger.record(self.job_id, self.job.module, self.job.action, outcome)
        try:
            self.emit(outcome)
        except Exception:  # a report that cannot be sent must not lose the student
            log_unexpected(log, "could not report a student's outcome")
        return outcome

    def _earlier_download(self, pi: str) -> Outcome | None:
        """A finished outcome from an earlier download of this student into this job's folder.

        Files the ledger knows in another folder (another download root, or the layout before
        folders named the assignment) are copied here when they are still intact (same size and
        checksum); otherwise the student is fetched again. None means: fetch.
        """
        earlier = self._earlier.get(pi)  # none for a codes job, or one that fetches again
        if earlier is None or earlier.folder is None:
            return None
        target = self.folder / pi
        source = Path(earlier.folder)
        if _same_folder(source, target):
            if _files_intact(target, earlier.files, checksums=False):
                self._count("already_downloaded")
                return dataclasses.replace(earlier, reason="Already downloaded earlier.")
            return None
        if not _files_intact(source, earlier.files, checksums=True):
            return self._fetch_again(pi, source)
        self._check_disk()
        staging = self.folder / STAGING / pi
        shutil.rmtree(staging, ignore_errors=True)
        try:
            copied = [_copy_verified(source, staging / "files", entry) for entry in earlier.files]
            move_into(staging / "files", target, [entry.path for entry in copied])
        except (StudentFailed, OSError) as err:
            if _out_of_space(err):
                raise
            return self._fetch_again(pi, source)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self._count("copied")
        with self._how_lock:
            self._copied_from.add(str(source.parent))
        return dataclasses.replace(
            earlier, reason=f"Copied from {source}.", folder=str(target), files=tuple(copied)
        )

    def _fetch_again(self, pi: str, source: Path) -> None:
        self._notes[pi] = f"Fetched again: the earlier download in {source} is missing or changed."
        self._count("fetched_again")

    def _check_disk(self) -> None:
        if free_bytes(self.folder) < MIN_FREE_BYTES:
            raise DiskNearlyFull()

    def _guarded(self, pi: str, stage, *args):
        """Run one stage for a student, turning every failure into that student's outcome.

        A confirmation code already read from the student's page stays with the outcome.
        """
        try:
            return stage(*args)
        except SessionExpired:
            self.login_lost.set()
            return self._ended(pi, "needs_login", NEEDS_LOGIN)
        except Cancelled:
            return self._ended(pi, "cancelled", "Cancelled while downloading.")
        except DiskNearlyFull:
            self.disk_full.set()
            return self._ended(pi, "failed", disk_full_reason(self.folder))
        except (StudentFailed, UnsafeZip, OSError) as err:
            if self.cancelled.is_set():
                return self._ended(pi, "cancelled", "Cancelled while downloading.")
            if _out_of_space(err):
                self.disk_full.set()
                return self._ended(pi, "failed", disk_full_reason(self.folder))
            if isinstance(err, OSError):
                log_unexpected(log, "a file operation failed for one student")
                return self._ended(pi, "failed", f"Writing the files failed: {err.strerror}.")
            return self._ended(pi, "failed", str(err))
        except Exception:
            log_unexpected(log, "unexpected failure for one student")
            return self._ended(pi, "failed", "Unexpected problem; the helper's log has details.")

    def _ended(self, pi: str, state: str, reason: str) -> Outcome:
        """A student who did not finish, with the code their page gave if it gave one."""
        return Outcome(pi=pi, state=state, reason=reason, code=self._codes.get(pi, ""))

    def _fetch(self, pi: str) -> Outcome | tuple[str, DownloadedZip]:
        """Read the student's page and download their zip: a final outcome, or (code, zip)."""
        with self._connection() as session:
            fetched = session.fetch_student_page(self.job.module, pi)
        page = self._reader.student_page(fetched)
        self._facts[pi] = _PageFacts(page.name or "", page.submitted or "", page.late)
        if page.nothing_submitted:
            return Outcome(
                pi=pi,
                state="not_submitted",
                reason=nothing_submitted_reason(self.job.assignment, page),
                code=page.code or "",
            )
        if page.code is None and page.download is None:
            return Outcome(
                pi=pi,
                state="failed",
                reason=page.problem or "eTMA shows nothing for this student.",
            )
        code = page.code or ""
        if code:
            self._codes[pi] = code
        if self.job.action == "codes":
            if not code:
                return Outcome(
                    pi=pi, state="failed", reason="eTMA's page shows no confirmation code."
                )
            return Outcome(pi=pi, state="done", code=code)
        if page.download is None:
            return Outcome(
                pi=pi,
                state="failed",
                reason="eTMA's page for this student shows a confirmation code but no way to "
                "download files, and does not say that nothing was submitted; the helper's site "
                "profile may need download_form settings (etma-helper profile check).",
                code=code,
            )
        self._check_disk()
        staging = self.folder / STAGING / pi
        shutil.rmtree(staging, ignore_errors=True)
        for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
            if self.cancelled.is_set():
                raise Cancelled()
            try:
                with self._connection() as session:
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
            self._check_disk()
            files = unpack(
                downloaded.path,
                staging / "files",
                ZipLimits(max_total_bytes=self.settings.max_unpacked_bytes),
            )
            target = self.folder / pi
            move_into(staging / "files", target, [f.path for f in files])
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        log.info("student done: %d files, %d bytes", len(files), downloaded.size)
        self._count("fetched")
        return Outcome(
            pi=pi,
            state="done",
            reason=self._notes.get(pi, ""),
            code=code,
            folder=str(target),
            files=tuple(files),
            zip_bytes=downloaded.size,
            zip_sha256=downloaded.sha256,
            zip_name=downloaded.server_filename or None,
        )


def nothing_submitted_reason(assignment: str, page: StudentPage) -> str:
    """The reason a tutor reads for a student with no submission, with what eTMA's page shows
    (a submission date, a late flag)."""
    shows = []
    if page.submitted:
        shows.append(f"shows a submission date of {_when_for_people(page.submitted)}")
    if page.late:
        shows.append("marks it late")
    also = f"; its page {' and '.join(shows)}" if shows else ""
    return f"Nothing submitted for {assignment or 'this assignment'} on eTMA{also}."


def _when_for_people(iso: str) -> str:
    """ "2024-03-11T14:22" as "11 Mar 2024 14:22" (a day-first date no one misreads)."""
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return when.strftime("%d %b %Y %H:%M" if "T" in iso else "%d %b %Y").lstrip("0")


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _files_intact(folder: Path, files: tuple[FileEntry, ...], *, checksums: bool) -> bool:
    """True if every file is in ``folder`` with its recorded size (and checksum, if asked)."""
    for entry in files:
        path = folder.joinpath(*entry.path.split("/"))
        try:
            if path.stat().st_size != entry.size:
                return False
            if checksums and _sha256(path) != entry.sha256:
                return False
        except OSError:
            return False
    return True


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(COPY_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_verified(source_folder: Path, staging: Path, entry: FileEntry) -> FileEntry:
    """Copy one recorded file into staging, checking size and checksum on the bytes copied."""
    relative = entry.path.split("/")
    target = staging.joinpath(*relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with open(source_folder.joinpath(*relative), "rb") as source, open(target, "wb") as out:
        while chunk := source.read(COPY_CHUNK):
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    if size != entry.size or digest.hexdigest() != entry.sha256:
        raise StudentFailed("The earlier download's files changed while being copied; run again.")
    return entry


def _out_of_space(err: BaseException | None) -> bool:
    """True if ``err`` (or what caused it) is the disk or the user's quota running out."""
    while err is not None:
        if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        err = err.__cause__ or err.__context__
    return False


def _warm_up_export() -> None:
    """Import what the codes table needs, so writing it at the end costs no wait."""
    import openpyxl  # noqa: F401
