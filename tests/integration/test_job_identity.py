"""A job's identity is its module and assignment, and its files are where its summary says:
folders, the "already downloaded" check and the codes table are per module and assignment;
files the ledger knows elsewhere are copied (checked) or fetched again; codes survive a failed
zip; a nearly full disk stops a job cleanly and a re-run finishes it."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil

import pytest

from etma_helper import batch
from etma_helper.batch import BatchRunner
from etma_helper.errors import ProtocolError
from etma_helper.ledger import Ledger
from tests.integration.test_batch import expected_files, make_job, run
from tests.sites import Faults


def with_files(cohort, count):
    return [s.pi for s in cohort.students if s.files][:count]


def files_under(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def downloads(sites) -> int:
    return sites.etma_hits[("POST", "/etma/download")]


def codes_table(path) -> dict[str, dict]:
    with open(path, newline="", encoding="utf-8") as table:
        return {row["PI"]: row for row in csv.DictReader(table)}


def test_each_assignment_has_its_own_folders_skip_check_and_codes_table(
    fresh_sites, cohort, settings
):
    pis = with_files(cohort, 2)
    tma01 = dataclasses.replace(make_job(fresh_sites, pis), assignment="TMA01")
    first, _ = run(tma01, settings)
    assert first.counts["done"] == 2 and downloads(fresh_sites) == 2
    second, events = run(make_job(fresh_sites, pis), settings)  # TMA02, the same students
    assert second.counts["done"] == 2
    assert downloads(fresh_sites) == 4, "TMA02 must be fetched, not taken for TMA01's files"
    assert not any("Already downloaded" in e.reason for e in events)
    module = settings.download_root / "TM351"
    for pi in pis:
        for assignment in ("TMA01", "TMA02"):
            assert files_under(module / assignment / pi) == expected_files(cohort, pi)
    assert first.codes_csv == str(module / "TMA01" / "confirmation_codes.csv")
    assert second.codes_csv == str(module / "TMA02" / "confirmation_codes.csv")
    assert set(codes_table(first.codes_csv)) == set(codes_table(second.codes_csv)) == set(pis)
    again, events = run(make_job(fresh_sites, pis), settings)
    assert downloads(fresh_sites) == 4 and again.how == {"already_downloaded": 2}


def test_downloads_in_the_layout_before_assignments_are_found_not_fetched_twice(
    fresh_sites, cohort, settings, tmp_path
):
    """A ledger and folders from before: files at <module>/<PI>, for a job that named TMA 02."""
    pis = with_files(cohort, 3)
    summary, _ = run(make_job(fresh_sites, pis), settings)
    old_module = settings.download_root / "TM351"
    ledger = Ledger()
    for pi in pis:  # move each student back to where the old layout kept them
        shutil.move(old_module / "TMA02" / pi, old_module / pi)
    with ledger._lock, ledger._db:
        ledger._db.execute("UPDATE jobs SET assignment = 'TMA 02'")
        for pi in pis:
            ledger._db.execute(
                "UPDATE students SET folder = ? WHERE pi = ?", (str(old_module / pi), pi)
            )
    ledger.close()
    shutil.rmtree(old_module / "TMA02")
    before = downloads(fresh_sites)
    summary, events = run(make_job(fresh_sites, pis), settings)
    assert downloads(fresh_sites) == before, "nothing already downloaded is fetched again"
    assert summary.how == {"copied": 3} and summary.copied_from == [str(old_module)]
    final = {e.pi: e for e in events if e.state == "done"}
    for pi in pis:
        assert final[pi].reason == f"Copied from {old_module / pi}."
        assert files_under(old_module / "TMA02" / pi) == expected_files(cohort, pi)
        assert files_under(old_module / pi) == expected_files(cohort, pi)  # nothing lost


def test_files_recorded_in_another_folder_are_copied_into_this_jobs_folder(
    fresh_sites, cohort, settings, tmp_path
):
    pis = with_files(cohort, 3)
    run(make_job(fresh_sites, pis), settings)
    elsewhere = dataclasses.replace(settings, download_root=tmp_path / "other")
    # one student's earlier copy was changed by hand since: it must be fetched, not copied
    changed = settings.download_root / "TM351" / "TMA02" / pis[0]
    victim = next(p for p in changed.rglob("*") if p.is_file())
    victim.write_bytes(b"edited" + victim.read_bytes()[6:])
    before = downloads(fresh_sites)
    summary, events = run(make_job(fresh_sites, pis), elsewhere)
    assert summary.folder == str(tmp_path / "other" / "TM351" / "TMA02")
    assert summary.how == {"copied": 2, "fetched_again": 1, "fetched": 1}
    assert downloads(fresh_sites) == before + 1
    final = {e.pi: e for e in events if e.state == "done"}
    assert final[pis[0]].reason.startswith("Fetched again")
    for pi in pis:
        assert files_under(tmp_path / "other" / "TM351" / "TMA02" / pi) == expected_files(
            cohort, pi
        )
        assert final[pi].folder == str(tmp_path / "other" / "TM351" / "TMA02" / pi)
    forced, _ = run(dataclasses.replace(make_job(fresh_sites, pis), force=True), elsewhere)
    assert forced.how == {"fetched": 3} and downloads(fresh_sites) == before + 4


def test_a_code_read_from_the_page_is_kept_when_the_zip_fails(fresh_sites, cohort, settings):
    student = next(s for s in cohort.students if s.files)
    fresh_sites.faults = Faults(per_pi={student.pi: "corrupt"}, times=99)
    summary, events = run(make_job(fresh_sites, [student.pi]), settings)
    [final] = [e for e in events if e.state != "working"]
    assert final.state == "failed" and final.code == student.code
    row = codes_table(summary.codes_csv)[student.pi]
    assert row["Code"] == student.code and row["Status"] == "failed"


def test_a_job_is_refused_when_the_disk_is_already_nearly_full(
    fresh_sites, cohort, settings, monkeypatch
):
    monkeypatch.setattr(batch, "free_bytes", lambda folder: 10 * 1024 * 1024)
    with pytest.raises(ProtocolError) as refused:
        BatchRunner(make_job(fresh_sites, with_files(cohort, 2)), settings, emit=print)
    assert refused.value.code == 16 and "nearly full" in refused.value.message
    assert downloads(fresh_sites) == 0


def test_a_disk_filling_up_stops_the_job_cleanly_and_a_rerun_finishes_it(
    fresh_sites, cohort, settings, monkeypatch
):
    pis = with_files(cohort, 12)
    settings = dataclasses.replace(settings, concurrency=2)
    checks = {"n": 0}

    def filling_up(folder):
        checks["n"] += 1
        return 10 * 1024**3 if checks["n"] <= 8 else 1024 * 1024

    monkeypatch.setattr(batch, "free_bytes", filling_up)
    summary, events = run(make_job(fresh_sites, pis), settings)
    assert summary.outcome == "disk_full" and "nearly full" in summary.stopped_because
    final = {e.pi: e for e in events if e.state != "working"}
    done = [pi for pi in pis if final[pi].state == "done"]
    stopped = [pi for pi in pis if final[pi].state == "failed"]
    assert done and stopped and len(done) + len(stopped) == len(pis)
    assert all("nearly full" in final[pi].reason for pi in stopped)
    job_folder = settings.download_root / "TM351" / "TMA02"
    assert not (job_folder / ".etma-partial").exists()
    for pi in stopped:
        assert not (job_folder / pi).exists()  # nothing half-written
    monkeypatch.setattr(batch, "free_bytes", lambda folder: 10 * 1024**3)
    before = downloads(fresh_sites)
    again, _ = run(make_job(fresh_sites, pis), settings)
    assert again.outcome == "finished" and again.counts["done"] == len(pis)
    assert downloads(fresh_sites) - before == len(stopped)
    for pi in pis:
        assert files_under(job_folder / pi) == expected_files(cohort, pi)


def test_running_out_of_space_mid_write_is_a_full_disk_not_a_mystery(
    fresh_sites, cohort, settings, monkeypatch
):
    import errno

    from etma_helper import unpack as unpack_module

    real_open = open

    def full_disk_open(path, mode="r", *args, **kwargs):
        if "w" in mode and ".etma-partial" in str(path) and "files" in str(path):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(unpack_module, "open", full_disk_open, raising=False)
    summary, events = run(make_job(fresh_sites, with_files(cohort, 3)), settings)
    assert summary.outcome == "disk_full"
    assert all(
        e.state == "failed" and "nearly full" in e.reason for e in events if e.state != "working"
    )
    assert not (settings.download_root / "TM351" / "TMA02" / ".etma-partial").exists()
    json.dumps(summary.to_message())
