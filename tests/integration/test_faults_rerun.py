"""Every fault kind, the whole cycle: the batch finishes, every student's status is true, no
partial file looks finished, and a re-run with the fault gone finishes exactly the missing ones."""

from __future__ import annotations

import dataclasses

import pytest

from etma_helper.ledger import Ledger
from tests.integration.test_batch import expected_files, make_job, run
from tests.sites import Faults

# (fault, times it fires per student, the state a faulted student must end in, reason words)
CASES = [
    ("http500", 1, "done", ""),  # a burst the retries ride out
    ("http500", None, "failed", "HTTP 500"),
    ("reset", 1, "done", ""),
    ("reset", None, "failed", "Could not reach eTMA"),
    ("stall", 1, "done", ""),
    ("stall", None, "failed", "cut off"),
    ("truncate", 1, "done", ""),
    ("truncate", None, "failed", "cut off"),
    ("corrupt", None, "failed", "not a valid zip"),
    ("wrong_type", None, "failed", "web page instead of the zip"),
    ("login_page", None, "needs_login", "log in to eTMA"),
    ("session_expiry", None, "needs_login", "log in to eTMA"),
]


def partial_files(module):
    return [p for p in module.rglob("*") if p.name.endswith(".part") or p.suffix == ".zip"]


@pytest.mark.parametrize(
    "fault, times, faulted_state, reason",
    CASES,
    ids=[f"{f}-{'once' if t else 'always'}" for f, t, _, _ in CASES],
)
def test_fault_then_rerun_finishes_exactly_the_missing(
    fresh_sites, cohort, settings, fault, times, faulted_state, reason
):
    pis = [s.pi for s in cohort.students if s.files][:8]
    no_files = next(s.pi for s in cohort.students if not s.files)
    job_pis = [*pis, no_files]
    faulted = pis[2:4]
    settings = dataclasses.replace(settings, read_timeout=1)
    if fault == "session_expiry":
        # admin page + 3 students x (page, download): the session dies during the fourth
        fresh_sites.faults = Faults(session_expires_after=7)
        settings = dataclasses.replace(settings, concurrency=1)
    else:
        fresh_sites.faults = Faults(per_pi=dict.fromkeys(faulted, fault), times=times or 1_000_000)
    module = settings.download_root / "TM351" / "TMA02"

    first, events = run(make_job(fresh_sites, job_pis), settings)

    # 1. the batch finishes, each student once with a final state
    final = {e.pi: e for e in events if e.state != "working"}
    assert set(final) == set(job_pis) and len([e for e in events if e.state != "working"]) == 9
    # 2. true statuses
    nothing = final[no_files]
    if nothing.state == "not_submitted":
        assert "Nothing submitted" in nothing.reason
    else:  # not reached before the session ended
        assert nothing.state == "needs_login" and faulted_state == "needs_login"
    for pi in pis:
        record = final[pi]
        folder = module / pi
        if record.state == "done":
            on_disk = {
                p.relative_to(folder).as_posix(): p.read_bytes()
                for p in folder.rglob("*")
                if p.is_file()
            }
            assert on_disk == expected_files(cohort, pi)
            assert record.code == cohort.student(pi).code
        else:
            assert record.reason, record
            assert not folder.exists()
    if fault == "session_expiry":
        assert [final[pi].state for pi in pis] == ["done"] * 3 + ["needs_login"] * 5
    else:
        for pi in faulted:
            assert final[pi].state == faulted_state, final[pi]
            assert reason.lower() in final[pi].reason.lower()
        if faulted_state != "needs_login":
            assert all(final[pi].state == "done" for pi in pis if pi not in faulted)
    expected_outcome = "needs_login" if faulted_state == "needs_login" else "finished"
    assert first.outcome == expected_outcome
    # 3. nothing partial looks finished: no .part, no staged zip, no staging folder
    assert partial_files(module) == [] and not (module / ".etma-partial").exists()
    ledger = Ledger()
    recorded = ledger.job_outcomes(first.job_id)
    assert {pi: o.state for pi, o in recorded.items()} == {pi: final[pi].state for pi in job_pis}
    ledger.close()

    # 4. the re-run, fault gone, fetches exactly the students not done
    missing = [pi for pi in pis if final[pi].state != "done"]
    fresh_sites.faults = Faults()
    fresh_sites.reset_hits()
    second, events = run(make_job(fresh_sites, job_pis), settings)
    again = {e.pi: e for e in events if e.state != "working"}
    assert second.outcome == "finished"
    assert all(again[pi].state == "done" for pi in pis)
    assert fresh_sites.etma_hits[("POST", "/etma/download")] == len(missing)
    # the student without files is asked again (nothing on disk to skip it by), nobody else
    assert fresh_sites.etma_hits[("POST", "/etma/student")] == len(missing) + 1
    for pi in pis:
        on_disk = {
            p.relative_to(module / pi).as_posix(): p.read_bytes()
            for p in (module / pi).rglob("*")
            if p.is_file()
        }
        assert on_disk == expected_files(cohort, pi)
    assert partial_files(module) == [] and not (module / ".etma-partial").exists()
