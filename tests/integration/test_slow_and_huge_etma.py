"""A slow, huge or endless eTMA cannot hold the helper, fill its memory or fill the disk.

Each attack is served by the practice eTMA (hostile mode, see tests/sites/hostile.py) for one
student: a page dripped a byte at a time, a request answered with nothing at all, a 40 MB page,
a download that never ends or announces 10 GiB. Every request has an overall deadline, every page
and zip a byte cap, and a cancel ends whatever is in flight within a second. Every wait here has
a deadline of its own, and every attack server stops by itself (hostile.SLOW_ATTACK_SECONDS).
"""

from __future__ import annotations

import dataclasses
import resource
import socket
import threading
import time
from pathlib import Path

import pytest

from etma_helper import batch, etma_session
from etma_helper.batch import BatchRunner
from etma_helper.etma_session import Cancelled, EtmaSession, Limits, StudentFailed
from tests.conftest import etma_admin_url, login_cookies
from tests.integration.test_batch import expected_files, make_job

PROMPT = 1.5  # seconds a cancel may take, measured from the abort() call
MiB = 1024**2


@pytest.fixture
def slow_sites(fresh_sites):
    """The practice sites with the hostile and slow knobs reset before and after."""
    fresh_sites.etma_hostile = {}
    fresh_sites.hostile_drip_interval = 0.05
    fresh_sites.etma_viewstate_bytes = 0
    yield fresh_sites
    fresh_sites.etma_hostile = {}
    fresh_sites.hostile_drip_interval = 0.05
    fresh_sites.etma_viewstate_bytes = 0
    fresh_sites.hostile_stream_max_bytes = 64 << 20
    fresh_sites.hostile_stream_pause = 0.0


def endless_and_slow(sites) -> None:
    """The endless download goes on for its full 20 s, at about 6 MB/s (not filling the disk)."""
    sites.hostile_stream_max_bytes = 1 << 40
    sites.hostile_stream_pause = 0.01


def students(cohort, n):
    return [s.pi for s in cohort.students if s.files][:n]


def session_for(sites, limits: Limits | None = None) -> EtmaSession:
    return EtmaSession(etma_admin_url(sites), login_cookies(sites), limits=limits)


def timed(call, *args):
    """(exception raised or None, seconds taken) for ``call(*args)``."""
    started = time.monotonic()
    try:
        call(*args)
    except Exception as err:  # noqa: BLE001 - the test inspects it
        return err, time.monotonic() - started
    return None, time.monotonic() - started


def abort_after(session: EtmaSession, delay: float) -> list[float]:
    """Call session.abort() from another thread after ``delay`` s; the list gets the time."""
    when: list[float] = []

    def fire() -> None:
        when.append(time.monotonic())
        session.abort()

    timer = threading.Timer(delay, fire)
    timer.daemon = True
    timer.start()
    return when


def with_limits(monkeypatch, settings, **values):
    """Settings carrying these limits, and a BatchRunner that hands them to its sessions.

    batch.py may not pass its settings' limits to EtmaSession yet; until it does, this passes
    them (``setdefault``: once batch.py passes ``limits=`` itself, its own are used, and they
    come from the same settings).
    """
    settings = dataclasses.replace(settings, **values)
    limits = Limits.from_settings(settings)
    real = batch.EtmaSession

    def make(*args, **kwargs):
        kwargs.setdefault("limits", limits)
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "EtmaSession", make)
    return settings


def run_batch(job, settings):
    events = []
    summary = BatchRunner(job, settings, emit=events.append).run()
    return summary, {e.pi: e for e in events if e.state != "working"}


class CountingOpen:
    """Stands in for open() in etma_session: counts the bytes written to each file."""

    def __init__(self) -> None:
        self.written: dict[str, int] = {}

    def __call__(self, path, mode="r", *args, **kwargs):
        handle = open(path, mode, *args, **kwargs)  # noqa: SIM115 - returned to the caller
        if "w" not in mode:
            return handle
        counts, key = self.written, str(path)
        counts[key] = 0
        write = handle.write

        def counted(data):
            counts[key] += len(data)
            return write(data)

        handle.write = counted
        return handle


# --- 1. an overall deadline per request ------------------------------------------------------


def test_a_dripped_page_fails_by_its_deadline(slow_sites, cohort):
    """One byte every 50 ms never trips a read timeout; the page's deadline ends it."""
    (victim,) = students(cohort, 1)
    slow_sites.etma_hostile = {victim: "page_drip"}
    session = session_for(slow_sites, Limits(page_deadline=1.5, read_timeout=5))
    session.search_form()
    err, took = timed(session.student_page, "TM351", victim)
    assert isinstance(err, StudentFailed), err
    assert str(err) == ("eTMA took longer than 1.5 s to send this student's page; try again later.")
    assert 1.4 < took < 3.5


def test_a_dripped_page_fails_that_student_alone_in_a_batch(
    slow_sites, cohort, settings, monkeypatch
):
    victim, *others = students(cohort, 3)
    slow_sites.etma_hostile = {victim: "page_drip"}
    settings = with_limits(monkeypatch, settings, page_deadline=2)
    started = time.monotonic()
    summary, final = run_batch(make_job(slow_sites, [victim, *others]), settings)
    assert time.monotonic() - started < 10
    assert summary.outcome == "finished"
    assert final[victim].state == "failed"
    assert "took longer than 2 s to send this student's page" in final[victim].reason
    for pi in others:
        assert final[pi].state == "done", final[pi].reason
        folder = Path(final[pi].folder)
        on_disk = {
            p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*")
            if p.is_file()
        }
        assert on_disk == expected_files(cohort, pi)


def test_a_download_that_never_ends_fails_by_its_deadline(slow_sites, cohort, tmp_path):
    (victim,) = students(cohort, 1)
    slow_sites.etma_hostile = {victim: "download_endless"}
    endless_and_slow(slow_sites)
    session = session_for(slow_sites, Limits(download_deadline=1.5, max_download_bytes=1 << 40))
    page = session.student_page("TM351", victim)
    zip_path = tmp_path / "s" / "script.zip"
    err, took = timed(session.download_zip, page.download, zip_path, threading.Event())
    assert isinstance(err, StudentFailed), err
    assert str(err) == "eTMA took longer than 1.5 s to send this student's zip; try again later."
    assert took < 3.5
    assert not list(zip_path.parent.glob("*"))


def test_a_retry_after_of_an_hour_is_not_obeyed(slow_sites, cohort):
    """503 with Retry-After: 3600: waits between retries are capped, and the deadline ends
    the request while it waits."""
    (victim,) = students(cohort, 1)
    slow_sites.etma_hostile = {victim: "page_retry_after"}
    session = session_for(slow_sites, Limits(page_deadline=1.5))
    session.search_form()
    err, took = timed(session.student_page, "TM351", victim)
    assert isinstance(err, StudentFailed), err
    assert "took longer than 1.5 s" in str(err)
    assert took < 3.5


# --- 2. cancel ends any request in flight within a second ------------------------------------


@pytest.mark.parametrize("attack", ["page_drip", "page_stall_headers", "page_retry_after"])
def test_cancel_ends_a_page_request_within_a_second(slow_sites, cohort, attack):
    """Reading a dripped body, waiting for headers that never come, or waiting to retry: each
    ends at once."""
    (victim,) = students(cohort, 1)
    slow_sites.etma_hostile = {victim: attack}
    session = session_for(slow_sites)  # default limits: 60 s reads, a 120 s deadline
    session.search_form()
    when = abort_after(session, 0.5)
    err, took = timed(session.student_page, "TM351", victim)
    assert isinstance(err, Cancelled), err
    assert when and time.monotonic() - when[0] < PROMPT
    assert took < 0.5 + PROMPT


def test_cancel_ends_a_connect_that_hangs_within_a_second():
    """A server whose accept queue is full drops the SYN: connect() would wait its timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):  # fill the accept queue until a connect no longer completes
            filler = socket.socket()
            filler.settimeout(0.3)
            fillers.append(filler)
            try:
                filler.connect(("127.0.0.1", port))
            except TimeoutError:
                break
        else:  # Linux drops the SYN once the backlog is full; anything else cannot prove this
            pytest.fail("every connect completed: this system cannot make a connect hang")
        session = EtmaSession(
            f"http://127.0.0.1:{port}/etma/admin", (), limits=Limits(connect_timeout=30)
        )
        when = abort_after(session, 0.5)
        err, took = timed(session.search_form)
        assert isinstance(err, Cancelled), err
        assert when and time.monotonic() - when[0] < PROMPT
    finally:
        for filler in fillers:
            filler.close()
        server.close()


def test_cancel_ends_a_download_within_a_second_and_leaves_no_part(slow_sites, cohort, tmp_path):
    (victim,) = students(cohort, 1)
    slow_sites.etma_hostile = {victim: "download_endless"}
    endless_and_slow(slow_sites)
    session = session_for(slow_sites, Limits(max_download_bytes=1 << 40))
    page = session.student_page("TM351", victim)
    zip_path = tmp_path / "s" / "script.zip"
    when = abort_after(session, 0.5)
    err, took = timed(session.download_zip, page.download, zip_path, threading.Event())
    assert isinstance(err, Cancelled), err
    assert when and time.monotonic() - when[0] < PROMPT
    assert not list(zip_path.parent.glob("*"))


def test_no_request_goes_out_after_abort(slow_sites, cohort):
    (pi,) = students(cohort, 1)
    session = session_for(slow_sites)
    session.search_form()
    session.abort()
    slow_sites.reset_hits()
    err, _ = timed(session.student_page, "TM351", pi)
    assert isinstance(err, Cancelled), err
    assert session.cancelled
    assert sum(slow_sites.etma_hits.values()) == 0


def test_cancel_through_the_batch_is_prompt(slow_sites, cohort, settings):
    """The batch's cancel reaches workers stuck on a silent eTMA; the job ends as cancelled."""
    stuck = students(cohort, 6)
    slow_sites.etma_hostile = dict.fromkeys(stuck, "page_stall_headers")
    runner = BatchRunner(make_job(slow_sites, stuck), settings, emit=lambda outcome: None)
    result = {}
    worker = threading.Thread(target=lambda: result.update(summary=runner.run()), daemon=True)
    worker.start()
    time.sleep(1.0)
    cancelled_at = time.monotonic()
    runner.cancel()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert time.monotonic() - cancelled_at < PROMPT
    summary = result["summary"]
    assert summary.outcome == "cancelled"
    assert summary.counts["cancelled"] == len(stuck)


# --- 3. a cap on page bytes ------------------------------------------------------------------


@pytest.mark.parametrize("attack", ["page_huge", "page_huge_unannounced"])
def test_a_huge_page_fails_with_the_cap_reason_and_memory_stays_flat(slow_sites, cohort, attack):
    """40 MB of page: refused at the Content-Length, or at 8 MiB read when none is announced."""
    (victim,) = students(cohort, 1)
    slow_sites.etma_hostile = {victim: attack}
    session = session_for(slow_sites)
    session.search_form()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    err, took = timed(session.student_page, "TM351", victim)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert isinstance(err, StudentFailed), err
    assert str(err) == (
        "eTMA sent more than 8 MiB for this student's page (the helper's limit for one page); "
        "it was not read."
    )
    assert took < 5
    assert grown * 1024 < 32 * MiB  # before the cap: +150 MB for this page


def test_the_search_page_is_capped_too(slow_sites, cohort):
    slow_sites.etma_viewstate_bytes = 300_000
    err, _ = timed(session_for(slow_sites, Limits(max_page_bytes=256 * 1024)).search_form)
    assert isinstance(err, StudentFailed), err
    assert "more than 256 KiB for its search page" in str(err)


def test_a_big_viewstate_fits_the_default_cap(slow_sites, cohort):
    """Real ASP pages carry a __VIEWSTATE of hundreds of KB: the default cap leaves room."""
    (pi,) = students(cohort, 1)
    slow_sites.etma_viewstate_bytes = 300_000
    session = session_for(slow_sites)
    form = session.search_form()
    assert len(dict(form.form.fields)["__VIEWSTATE"]) == 300_000
    page = session.student_page("TM351", pi)
    assert page.code and page.download is not None


# --- 4. a cap on download bytes --------------------------------------------------------------


def test_an_endless_download_stops_at_the_cap(slow_sites, cohort, tmp_path, monkeypatch):
    (victim,) = students(cohort, 1)
    slow_sites.etma_hostile = {victim: "download_endless"}
    counting = CountingOpen()
    monkeypatch.setattr(etma_session, "open", counting, raising=False)
    cap = 4 * MiB
    session = session_for(slow_sites, Limits(max_download_bytes=cap))
    page = session.student_page("TM351", victim)
    zip_path = tmp_path / "s" / "script.zip"
    err, took = timed(session.download_zip, page.download, zip_path, threading.Event())
    assert isinstance(err, StudentFailed), err
    assert str(err) == (
        "eTMA sent more than 4 MiB for this student's zip (the helper's limit); "
        "the download was stopped and deleted."
    )
    assert not list(zip_path.parent.glob("*"))
    (written,) = counting.written.values()
    assert 0 < written <= cap


def test_an_oversize_announcement_is_refused_before_writing(
    slow_sites, cohort, tmp_path, monkeypatch
):
    (victim,) = students(cohort, 1)
    slow_sites.etma_hostile = {victim: "download_oversize"}
    counting = CountingOpen()
    monkeypatch.setattr(etma_session, "open", counting, raising=False)
    session = session_for(slow_sites)  # the default cap: 1 GiB
    page = session.student_page("TM351", victim)
    zip_path = tmp_path / "s" / "script.zip"
    err, took = timed(session.download_zip, page.download, zip_path, threading.Event())
    assert isinstance(err, StudentFailed), err
    assert str(err) == (
        "eTMA's zip for this student is 10 GiB, more than the helper's limit of 1 GiB; "
        "it was not downloaded."
    )
    assert counting.written == {} and took < 2
    assert not zip_path.parent.exists() or not list(zip_path.parent.glob("*"))


def test_an_endless_download_fails_that_student_alone_in_a_batch(
    slow_sites, cohort, settings, monkeypatch
):
    victim, *others = students(cohort, 3)
    slow_sites.etma_hostile = {victim: "download_endless"}
    settings = with_limits(monkeypatch, settings, max_download_bytes=2 * MiB)
    summary, final = run_batch(make_job(slow_sites, [victim, *others]), settings)
    assert final[victim].state == "failed"
    assert "more than 2 MiB for this student's zip" in final[victim].reason
    assert all(final[pi].state == "done" for pi in others)
    assert not list(settings.download_root.rglob(victim))
    assert not list(settings.download_root.rglob("*.part"))


# --- 5. zip ratio judged on real bytes -------------------------------------------------------


def test_a_zip_whose_headers_lie_is_refused_in_a_batch(slow_sites, cohort, settings):
    victim, other = students(cohort, 2)
    slow_sites.etma_hostile = {victim: "zip_lying_sizes"}
    summary, final = run_batch(make_job(slow_sites, [victim, other]), settings)
    assert final[victim].state == "failed"
    assert "zip bomb" in final[victim].reason
    assert final[other].state == "done"
    assert not list(settings.download_root.rglob(victim))
    assert not list(settings.download_root.rglob(".etma-partial"))
