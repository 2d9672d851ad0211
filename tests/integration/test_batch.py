"""The batch runner against the practice eTMA: files, codes, and a true status for everyone."""

from __future__ import annotations

import csv
import dataclasses
import zipfile
from io import BytesIO

import pytest

from etma_helper.batch import BatchRunner
from etma_helper.records import Job
from tests.conftest import etma_admin_url, login_cookies
from tests.sites import Faults


def make_job(sites, pis, action="download", cookies=None):
    return Job(
        action=action,
        etma_url=etma_admin_url(sites),
        module="TM351",
        assignment="TMA02",
        pis=tuple(pis),
        cookies=login_cookies(sites) if cookies is None else cookies,
    )


def run(job, settings):
    events = []
    summary = BatchRunner(job, settings, emit=events.append).run()
    return summary, events


def expected_files(cohort, pi):
    """What the site serves for this student, read from the zip it serves."""
    with zipfile.ZipFile(BytesIO(cohort.zip_bytes(pi))) as archive:
        return {i.filename: archive.read(i) for i in archive.infolist() if not i.is_dir()}


def test_download_writes_every_students_files_and_codes(fresh_sites, cohort, settings):
    pis = [s.pi for s in cohort.students]
    summary, events = run(make_job(fresh_sites, pis), settings)
    final = {e.pi: e for e in events if e.state != "working"}
    assert set(final) == set(pis)
    for student in cohort.students:
        record = final[student.pi]
        assert record.code == student.code
        folder = settings.download_root / "TM351" / "TMA02" / student.pi
        if student.files:
            assert record.state == "done", record.reason
            expected = expected_files(cohort, student.pi)
            on_disk = {
                p.relative_to(folder).as_posix(): p.read_bytes()
                for p in folder.rglob("*")
                if p.is_file()
            }
            assert on_disk == expected
        else:
            assert record.state == "not_submitted" and "Nothing submitted" in record.reason
            assert not folder.exists()
    assert summary.outcome == "finished"
    assert summary.counts["done"] == sum(1 for s in cohort.students if s.files)
    assert summary.counts["not_submitted"] == sum(1 for s in cohort.students if not s.files)
    assert summary.counts["failed"] == 0
    with open(summary.codes_csv, newline="", encoding="utf-8") as table:
        rows = {row["PI"]: row for row in csv.DictReader(table)}
    assert {pi: row["Code"] for pi, row in rows.items()} == {s.pi: s.code for s in cohort.students}
    assert not (settings.download_root / "TM351" / "TMA02" / ".etma-partial").exists()


def test_one_pass_per_student_two_requests_each(fresh_sites, cohort, settings):
    with_files = [s.pi for s in cohort.students if s.files][:8]
    run(make_job(fresh_sites, with_files), settings)
    hits = fresh_sites.etma_hits
    assert hits[("POST", "/etma/student")] == 8
    assert hits[("POST", "/etma/download")] == 8
    # the search form is read once per worker, not once per student
    assert hits[("GET", "/etma/admin")] <= settings.concurrency


@pytest.mark.parametrize("concurrency", [1, 3])
def test_etma_never_serves_more_requests_at_once_than_the_concurrency(
    fresh_sites, cohort, settings, concurrency
):
    """Workers outnumber connections (they read pages while connections carry requests), but
    eTMA sees at most ``concurrency`` connections from the job, and as many requests at once."""
    with_files = [s.pi for s in cohort.students if s.files][:12]
    fresh_sites.latency = 0.05  # long enough for requests to overlap whenever they can
    settings = dataclasses.replace(settings, concurrency=concurrency)
    job = make_job(fresh_sites, with_files)  # signs in to eTMA: not the job's connections
    fresh_sites.reset_hits()
    summary, _ = run(job, settings)
    assert summary.counts["done"] == 12
    assert fresh_sites.etma_peak_in_flight == concurrency
    # the address check's one connection, then the job's own
    assert len(fresh_sites.etma_client_ports) <= concurrency + 1


def test_codes_only_fetches_no_files(fresh_sites, cohort, settings):
    pis = [s.pi for s in cohort.students[:5]]
    summary, events = run(make_job(fresh_sites, pis, action="codes"), settings)
    done = {e.pi: e.code for e in events if e.state == "done"}
    assert done == {s.pi: s.code for s in cohort.students[:5]}
    assert fresh_sites.etma_hits[("POST", "/etma/download")] == 0
    assert not any(p.is_dir() for p in (settings.download_root / "TM351" / "TMA02").iterdir())


def test_unknown_student_fails_alone(fresh_sites, cohort, settings):
    good = next(s for s in cohort.students if s.files)
    summary, events = run(make_job(fresh_sites, ["Z9999999", good.pi]), settings)
    final = {e.pi: e for e in events if e.state != "working"}
    assert final["Z9999999"].state == "failed"
    assert "no student record" in final["Z9999999"].reason.lower()
    assert final[good.pi].state == "done"


def test_no_session_marks_everyone_needs_login(fresh_sites, cohort, settings):
    pis = [s.pi for s in cohort.students[:4]]
    summary, events = run(make_job(fresh_sites, pis, cookies=()), settings)
    assert summary.outcome == "needs_login"
    assert {e.state for e in events if e.state != "working"} == {"needs_login"}


def test_session_expiring_mid_batch_keeps_finished_students(fresh_sites, cohort, settings):
    pis = [s.pi for s in cohort.students if s.files][:10]
    fresh_sites.faults = Faults(session_expires_after=9)
    settings = type(settings)(download_root=settings.download_root, concurrency=1)
    summary, events = run(make_job(fresh_sites, pis), settings)
    final = {e.pi: e.state for e in events if e.state != "working"}
    assert summary.outcome == "needs_login"
    # admin page + 4 x (search, download) = 9 requests: the first four finish, nobody after
    assert [final[pi] for pi in pis] == ["done"] * 4 + ["needs_login"] * 6


def test_truncated_download_is_retried_and_completes(fresh_sites, cohort, settings):
    student = next(s for s in cohort.students if s.files)
    fresh_sites.faults = Faults(per_pi={student.pi: "truncate"}, times=1)
    summary, events = run(make_job(fresh_sites, [student.pi]), settings)
    assert events[-1].state == "done"
    assert fresh_sites.etma_hits[("POST", "/etma/download")] == 2


def test_login_page_instead_of_zip_means_needs_login(fresh_sites, cohort, settings):
    student = next(s for s in cohort.students if s.files)
    fresh_sites.faults = Faults(per_pi={student.pi: "login_page"})
    summary, events = run(make_job(fresh_sites, [student.pi]), settings)
    assert events[-1].state == "needs_login" and summary.outcome == "needs_login"
    assert not (settings.download_root / "TM351" / "TMA02" / student.pi).exists()


def test_corrupt_zip_fails_with_reason_and_leaves_no_folder(fresh_sites, cohort, settings):
    student = next(s for s in cohort.students if s.files)
    fresh_sites.faults = Faults(per_pi={student.pi: "corrupt"})
    summary, events = run(make_job(fresh_sites, [student.pi]), settings)
    assert events[-1].state == "failed" and "not a valid zip" in events[-1].reason
    assert not (settings.download_root / "TM351" / "TMA02" / student.pi).exists()


def one_student_with(sites, cohort, settings, fault, times=1_000_000, **changes):
    student = next(s for s in cohort.students if s.files)
    sites.faults = Faults(per_pi={student.pi: fault}, times=times)
    if changes:
        settings = dataclasses.replace(settings, **changes)
    summary, events = run(make_job(sites, [student.pi]), settings)
    folder = settings.download_root / "TM351" / "TMA02" / student.pi
    return events[-1], folder, sites.etma_hits[("POST", "/etma/download")]


@pytest.mark.parametrize("fault", ["http500", "reset"])
def test_a_passing_server_fault_is_retried(fresh_sites, cohort, settings, fault):
    record, folder, downloads = one_student_with(fresh_sites, cohort, settings, fault, times=1)
    assert record.state == "done" and folder.is_dir()
    assert downloads == 2


@pytest.mark.parametrize(
    "fault, reason",
    [
        ("http500", "HTTP 500"),
        ("reset", "Could not reach eTMA"),
        ("wrong_type", "web page instead of the zip"),
    ],
)
def test_a_lasting_fault_fails_that_student_with_a_reason(
    fresh_sites, cohort, settings, fault, reason
):
    record, folder, downloads = one_student_with(fresh_sites, cohort, settings, fault)
    assert record.state == "failed" and reason in record.reason
    assert not folder.exists()
    assert downloads >= 1


def test_a_stalled_body_times_out_and_the_retry_completes(fresh_sites, cohort, settings):
    record, folder, downloads = one_student_with(
        fresh_sites, cohort, settings, "stall", times=1, read_timeout=1
    )
    assert record.state == "done" and folder.is_dir()
    assert downloads == 2
