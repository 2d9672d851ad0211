"""Every eTMA session a job opens is closed when the job ends, however it ends."""

from __future__ import annotations

import sqlite3
import time

import pytest

from etma_helper import batch
from etma_helper.batch import BatchRunner
from etma_helper.ledger import Ledger
from tests.integration.test_batch import make_job


@pytest.fixture
def sessions(monkeypatch) -> list[batch.EtmaSession]:
    """Every session the batch runner makes, with a note of whether its pool was closed."""
    made: list[batch.EtmaSession] = []

    class Recorded(batch.EtmaSession):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.pool_closed = False
            made.append(self)

        def close(self) -> None:
            self.pool_closed = True
            super().close()

    monkeypatch.setattr(batch, "EtmaSession", Recorded)
    return made


def test_a_finished_job_closes_every_session(fresh_sites, cohort, settings, sessions):
    pis = [s.pi for s in cohort.students if s.files][:6]
    BatchRunner(make_job(fresh_sites, pis), settings, emit=lambda record: None).run()
    assert sessions and all(session.pool_closed for session in sessions)


def test_a_job_stopped_by_an_unexpected_error_still_closes_every_session(
    fresh_sites, cohort, settings, sessions, tmp_path
):
    ledger = Ledger(tmp_path / "ledger.sqlite3")

    def record(*args) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    ledger.record = record
    pis = [s.pi for s in cohort.students if s.files][:6]
    runner = BatchRunner(make_job(fresh_sites, pis), settings, emit=lambda r: None, ledger=ledger)
    with pytest.raises(sqlite3.OperationalError):
        runner.run()
    assert sessions and all(session.pool_closed for session in sessions)


def test_a_ledger_that_cannot_be_opened_stops_the_job_at_once(
    fresh_sites, cohort, settings, sessions
):
    """The ledger opens while the address check's request is on its way: when it cannot be
    opened, the check is cut short, nothing more is sent and every session is closed."""
    fresh_sites.latency = 5.0  # the check would wait this long, were it not cut

    def unusable():
        raise sqlite3.OperationalError("unable to open database file")

    pis = [s.pi for s in cohort.students if s.files][:3]
    runner = BatchRunner(make_job(fresh_sites, pis), settings, emit=lambda r: None, ledger=unusable)
    fresh_sites.reset_hits()  # signing in to make the job is not the job's
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError):
        runner.run()
    assert time.monotonic() - started < 2.5
    assert sessions and all(session.pool_closed for session in sessions)
    assert set(fresh_sites.etma_hits) <= {("GET", "/etma/admin")}  # the check, if it got there
