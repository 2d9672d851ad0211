"""Long batches: a re-run finishes only what is missing; a cancel is prompt and clean."""

from __future__ import annotations

import threading
import time

from etma_helper.batch import BatchRunner
from etma_helper.ledger import Ledger
from tests.integration.test_batch import make_job, run
from tests.sites import Faults


def with_files(cohort, n):
    return [s.pi for s in cohort.students if s.files][:n]


def test_rerun_skips_students_already_on_disk(fresh_sites, cohort, settings):
    pis = with_files(cohort, 6)
    run(make_job(fresh_sites, pis), settings)
    fresh_sites.reset_hits()
    summary, events = run(make_job(fresh_sites, pis), settings)
    assert summary.counts["done"] == 6
    assert fresh_sites.etma_hits[("POST", "/etma/download")] == 0
    assert fresh_sites.etma_hits[("POST", "/etma/student")] == 0
    codes = {e.pi: e.code for e in events}
    assert codes == {s.pi: s.code for s in cohort.students if s.pi in pis}


def test_rerun_fetches_again_a_student_whose_files_were_removed(fresh_sites, cohort, settings):
    pis = with_files(cohort, 3)
    run(make_job(fresh_sites, pis), settings)
    victim = settings.download_root / "TM351" / "TMA02" / pis[1]
    next(p for p in victim.rglob("*") if p.is_file()).unlink()
    fresh_sites.reset_hits()
    run(make_job(fresh_sites, pis), settings)
    assert fresh_sites.etma_hits[("POST", "/etma/download")] == 1


def test_force_fetches_everyone_again(fresh_sites, cohort, settings):
    pis = with_files(cohort, 3)
    run(make_job(fresh_sites, pis), settings)
    fresh_sites.reset_hits()
    forced = make_job(fresh_sites, pis)
    forced = type(forced)(**{**forced.__dict__, "force": True})
    run(forced, settings)
    assert fresh_sites.etma_hits[("POST", "/etma/download")] == 3


def test_needs_login_run_then_resumed_run_finishes_exactly_the_rest(fresh_sites, cohort, settings):
    pis = with_files(cohort, 8)
    one_worker = type(settings)(download_root=settings.download_root, concurrency=1)
    fresh_sites.faults = Faults(session_expires_after=7)  # admin + 3 students
    first, _ = run(make_job(fresh_sites, pis), one_worker)
    assert first.outcome == "needs_login" and first.counts["done"] == 3
    fresh_sites.faults = Faults()
    fresh_sites.reset_hits()
    second, _ = run(make_job(fresh_sites, pis), one_worker)
    assert second.outcome == "finished" and second.counts["done"] == 8
    assert fresh_sites.etma_hits[("POST", "/etma/download")] == 5


def test_cancel_cuts_a_stalled_download_within_a_second(fresh_sites, cohort, settings):
    pis = with_files(cohort, 6)
    fresh_sites.faults = Faults(per_pi={pi: "stall" for pi in pis})
    events = []
    runner = BatchRunner(make_job(fresh_sites, pis), settings, emit=events.append)
    finished = {}
    worker = threading.Thread(target=lambda: finished.setdefault("summary", runner.run()))
    worker.start()
    deadline = time.monotonic() + 10
    while fresh_sites.etma_hits[("POST", "/etma/download")] < settings.concurrency:
        assert time.monotonic() < deadline, "downloads never started"
        time.sleep(0.02)
    time.sleep(0.2)  # the bodies are now stalled
    cancelled_at = time.monotonic()
    runner.cancel()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert time.monotonic() - cancelled_at < 1.0
    summary = finished["summary"]
    assert summary.outcome == "cancelled" and summary.counts["cancelled"] == 6
    module = settings.download_root / "TM351" / "TMA02"
    assert not any((module / pi).exists() for pi in pis)
    assert not list(module.rglob("*.zip")) and not list(module.rglob("*.part"))


def test_ledger_records_every_outcome_with_checksums(fresh_sites, cohort, settings, tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    pis = [*with_files(cohort, 3), "Z9999999"]
    BatchRunner(
        make_job(fresh_sites, pis), settings, emit=lambda r: None, job_id="j1", ledger=ledger
    ).run()
    outcomes = ledger.job_outcomes("j1")
    assert set(outcomes) == set(pis)
    assert outcomes["Z9999999"].state == "failed" and outcomes["Z9999999"].reason
    for pi in pis[:3]:
        outcome = outcomes[pi]
        assert outcome.state == "done" and outcome.code == cohort.student(pi).code
        assert outcome.zip_bytes == len(cohort.zip_bytes(pi)) and len(outcome.zip_sha256) == 64
        for entry in outcome.files:
            data = (settings.download_root / "TM351" / "TMA02" / pi / entry.path).read_bytes()
            assert len(data) == entry.size
    [job] = ledger.recent_jobs()
    assert job["outcome"] == "finished" and job["counts"] == {"done": 3, "failed": 1}
