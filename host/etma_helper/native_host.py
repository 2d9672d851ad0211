"""The native-messaging edge: frames in, replies and progress out, one job at a time.

Started by the browser (``python -m etma_helper.native_host <caller>``). Standard output belongs to
the protocol alone: file descriptor 1 is redirected to standard error at start, and frames go
through a private duplicate of it.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading

from . import __version__
from .app_dirs import log_path
from .errors import ErrorCode, ProtocolError
from .framing import FrameTooLarge, FrameWriter, TruncatedFrame, read_frame
from .identity import caller_allowed
from .log_safety import log_unexpected
from .protocol import parse_action, request_id

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows the start-up
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import BinaryIO


#: Requests that wait on eTMA (``Reply.later``) at once, at most; more get "busy".
SLOW_WORKERS = 2
#: Nesting a request may have; deeper JSON is refused before it can exhaust the stack.
MAX_DEPTH = 64


class _Handler:
    """An action's handler, ``actions/<module>.py``'s ``handle``, imported on the action's first
    request: the browser waits for the answer to ``hello``, which must not pay for the others."""

    def __init__(self, module: str) -> None:
        self.module = f"{__package__}.actions.{module}"

    def __call__(self, host: NativeHost, message: dict):
        return importlib.import_module(self.module).handle(host, message)


#: Every action the helper answers, and the only list of them: ``hello`` replies with its keys
#: (in this order) and a request naming anything else is an unknown action. Action X is handled
#: in ``actions/X.py``; ``download`` and ``codes`` share ``actions/download_and_codes.py``.
HANDLERS = {
    "hello": _Handler("hello"),
    "download": _Handler("download_and_codes"),
    "codes": _Handler("download_and_codes"),
    "cancel": _Handler("cancel"),
    "jobs": _Handler("jobs"),
    "settings": _Handler("settings"),
    "open": _Handler("open"),
    "student_search": _Handler("student_search"),
    "check_etma": _Handler("check_etma"),
    "flags": _Handler("flags"),
    "export_worksheet": _Handler("export_worksheet"),
    "worksheet_marks": _Handler("worksheet_marks"),
}


class NativeHost:
    """Serves one browser port until it closes."""

    def __init__(
        self, reader: BinaryIO, writer: FrameWriter, before_work: Callable[[], None] | None = None
    ) -> None:
        """``before_work`` runs once, after the first reply or before the first request that is
        not hello, whichever comes first: set-up the browser's first answer need not wait for
        (the helper's log)."""
        self.reader = reader
        self.writer = writer
        self._before_work = before_work
        self._runner = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._ledger_lock = threading.Lock()
        self._ledger = None
        self._slow = None  # the pool for slow requests, made on the first one
        self._slow_pending = 0

    @property
    def actions(self) -> tuple[str, ...]:
        """The actions this host answers: its handler table's, in order."""
        return tuple(HANDLERS)

    def ledger(self):
        """The ledger, opened on first use: a hello never pays for it. A job opens it from its
        own thread (see ``BatchRunner``), so another request may be asking at the same time."""
        with self._ledger_lock:  # not self._lock: cancel must not wait for a slow disk
            if self._ledger is None:
                from .ledger import Ledger

                self._ledger = Ledger()
            return self._ledger

    @property
    def running_job_id(self) -> str | None:
        with self._lock:
            return self._runner.job_id if self._runner is not None else None

    def send(self, request: str, kind: str, **fields) -> bool:
        """Send one message; never raises (see FrameWriter.send)."""
        return self.writer.send({"id": request, "version": __version__, "type": kind, **fields})

    def send_error(self, request: str, err: ProtocolError) -> None:
        self.send(
            request,
            "reply",
            status="error",
            code=int(err.code),
            message=err.message,
            params=err.params,
        )

    def progress_sender(self, job_id: str):
        """A callback that sends one student's record as a progress message."""
        return lambda record: self.send(job_id, "progress", data=record.to_message())

    def start(self, runner) -> None:
        """Run a batch on its own thread; the read loop stays free for cancel."""
        with self._lock:
            self._runner = runner
            self._thread = threading.Thread(
                target=self._run, args=(runner,), name="job", daemon=True
            )
            self._thread.start()

    def _run(self, runner) -> None:
        try:
            summary = runner.run()
            message = {"status": "ok", "data": summary.to_message()}
        except ProtocolError as err:
            # The job stopped for a reason with its own code (a wrong eTMA address).
            message = {
                "status": "error",
                "code": int(err.code),
                "message": err.message,
                "params": err.params,
            }
        except Exception as err:
            # The job must still end with a summary, or the page would wait for it forever.
            log_unexpected(_log(), "job failed")
            reason = (
                f"the disk refused a write ({err})"
                if isinstance(err, OSError) or type(err).__module__ == "sqlite3"
                else "an unexpected failure; the helper's log has details"
            )
            message = {
                "status": "error",
                "code": int(ErrorCode.INTERNAL),
                "message": f"The job stopped: {reason}. Run it again to finish it.",
                "params": {},
            }
        # Free before the summary leaves: the browser may send the next job the moment it
        # arrives, and must not be told a job is still running.
        with self._lock:
            self._runner = None
        self.send(runner.job_id, "summary", **message)

    def cancel(self) -> None:
        with self._lock:
            runner = self._runner
        if runner is not None:
            runner.cancel()

    def handle(self, payload: bytes) -> None:
        """Answer one request; nothing a message holds can crash the loop."""
        try:
            message = json.loads(payload.decode("utf-8"))
            too_deep = _deeper_than(message, MAX_DEPTH)
        except (UnicodeDecodeError, ValueError, RecursionError):
            message, too_deep = None, True
        if too_deep:
            self.send_error(
                "",
                ProtocolError(
                    ErrorCode.BAD_MESSAGE,
                    f"The message is not UTF-8 JSON nested at most {MAX_DEPTH} deep.",
                ),
            )
            return
        rid = request_id(message)
        try:
            action = parse_action(message, HANDLERS)
            if action != "hello":
                self._ready()
            reply = HANDLERS[action](self, message)
        except ProtocolError as err:
            self.send_error(rid, err)
            return
        except Exception:
            log_unexpected(_log(), f"request {str(message.get('action'))[:40]!r} failed")
            self.send_error(rid, _internal())
            return
        if reply.later is not None:
            self._run_later(rid, reply.later)
            return
        self.send(rid, "reply", status="ok", data=reply.data)
        if reply.then is not None:
            reply.then()

    def _ready(self) -> None:
        """Run ``before_work`` if it has not run yet."""
        setup, self._before_work = self._before_work, None
        if setup is not None:
            setup()

    def _run_later(self, rid: str, work) -> None:
        """Run slow work off the read loop; its reply is sent when it is done."""
        with self._lock:
            if self._slow_pending >= SLOW_WORKERS:
                busy = True
            else:
                busy = False
                self._slow_pending += 1
        if busy:
            self.send_error(
                rid,
                ProtocolError(
                    ErrorCode.JOB_RUNNING,
                    "The helper is still answering earlier requests; try again in a moment.",
                ),
            )
            return

        def run() -> None:
            try:
                data = work()
            except ProtocolError as err:
                self.send_error(rid, err)
            except Exception:
                log_unexpected(_log(), "slow request failed")
                self.send_error(rid, _internal())
            else:
                self.send(rid, "reply", status="ok", data=data)
            finally:
                with self._lock:
                    self._slow_pending -= 1

        if self._slow is None:
            from concurrent.futures import ThreadPoolExecutor

            self._slow = ThreadPoolExecutor(SLOW_WORKERS, thread_name_prefix="slow")
        self._slow.submit(run)

    def serve(self) -> None:
        """Read frames until the browser closes the port, then stop any job."""
        while True:
            try:
                payload = read_frame(self.reader)
            except FrameTooLarge as err:
                self.send_error(
                    "",
                    ProtocolError(
                        ErrorCode.MESSAGE_TOO_LARGE,
                        "The message is larger than 1 MiB.",
                        size=err.size,
                    ),
                )
                continue
            except TruncatedFrame:
                _log().warning("input ended inside a frame")
                break
            if payload is None:
                break
            self.handle(payload)
            self._ready()
        self.cancel()
        if self._slow is not None:
            self._slow.shutdown(wait=False, cancel_futures=True)
        thread = self._thread
        if thread is not None:
            thread.join(timeout=1.5)


def _internal() -> ProtocolError:
    return ProtocolError(ErrorCode.INTERNAL, "Unexpected failure; the helper's log has details.")


def _deeper_than(value, limit: int) -> bool:
    """True if JSON ``value`` nests lists and objects more than ``limit`` deep (no recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = node.values()
        elif not isinstance(node, list):
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in node if isinstance(child, (dict, list)))
    return False


def _log():  # noqa: ANN202 - a logging.Logger, without importing logging to say so
    """The helper's logger. logging is imported on first use, not at start-up: the browser waits
    for the answer to hello, which does not need it (a failure while answering it goes to
    standard error, which the browser keeps, until the log is set up)."""
    import logging

    return logging.getLogger("etma_helper")


def _configure_logging() -> None:
    import logging

    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # urllib3 logs full URLs at DEBUG only; keep it at WARNING regardless of the root level.
    logging.getLogger("urllib3").setLevel(logging.WARNING)


def warm_up_jobs() -> threading.Thread:
    """Import what a job needs (requests, Beautiful Soup, the engine) in the background, while
    the tutor is still choosing students: the first Download scripts or Get confirmation codes
    of a helper the browser has just started would otherwise wait about 0.3 s for them. A job
    that comes sooner waits only for what its first request to eTMA needs: Beautiful Soup, the
    slowest, loads while that request is on its way."""

    def load() -> None:
        try:
            # Beautiful Soup last: a job sent at once sends its first request without it.
            for name in (
                "actions.download_and_codes",
                "batch",
                "site_profile",
                "ledger",
                "etma_pages",
            ):
                importlib.import_module(f"{__package__}.{name}")
        except Exception:
            # The job that needs them reports it; nothing is lost by not loading early.
            log_unexpected(_log(), "loading the job machinery early failed")

    thread = threading.Thread(target=load, name="warm-up-jobs", daemon=True)
    thread.start()
    return thread


def _claim_stdout() -> BinaryIO:
    """Keep the real stdout for frames; send everything else written to fd 1 to stderr."""
    frames = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return frames


def main(argv: list[str] | None = None) -> int:
    """Entry point for the browser."""
    argv = sys.argv[1:] if argv is None else argv
    os.umask(0o077)  # downloads, codes tables, ledger and log are students' personal data
    frames = _claim_stdout()
    writer = FrameWriter(frames)
    if not caller_allowed(argv):
        _configure_logging()
        _log().warning("refused a caller that is not the eTMA Helper extension")
        writer.send(
            {
                "id": "",
                "version": __version__,
                "type": "reply",
                "status": "error",
                "code": int(ErrorCode.CALLER_NOT_ALLOWED),
                "message": "This helper only answers the eTMA Helper extension.",
                "params": {},
            }
        )
        return 1

    def after_first_answer() -> None:
        _configure_logging()
        _log().info("helper %s started", __version__)
        warm_up_jobs()

    NativeHost(sys.stdin.buffer, writer, before_work=after_first_answer).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
