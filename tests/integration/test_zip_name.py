"""The server's name for a student's zip, from its Content-Disposition to the ledger row.

The threat model promises that names are recorded: the practice eTMA names each download
``attachment; filename="<module>_<assignment>_<PI>.zip"``, and that name must be in the student's
row of the ledger (read here straight from SQLite, not through the ledger's own reader), kept
when a later job finds the files already there, and absent when no zip was fetched.
"""

from __future__ import annotations

import sqlite3

from etma_helper import etma_session
from etma_helper.batch import BatchRunner
from etma_helper.ledger import Ledger
from tests.integration.test_batch import make_job


def ledger_names(path, job_id) -> dict[str, str | None]:
    """Each student's zip_name column in one job, read from the database file itself."""
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT pi, zip_name FROM students WHERE job_id = ?", (job_id,))
        return dict(rows.fetchall())
    finally:
        db.close()


def run_job(job, settings, ledger, job_id):
    events = []
    BatchRunner(job, settings, emit=events.append, job_id=job_id, ledger=ledger).run()
    return {e.pi: e for e in events if e.state != "working"}


def test_the_servers_zip_name_reaches_the_ledger_row(
    fresh_sites, cohort, settings, tmp_path, monkeypatch
):
    headers: list[str] = []
    real = etma_session.server_filename

    def recording(content_disposition: str) -> str:
        headers.append(content_disposition)
        return real(content_disposition)

    monkeypatch.setattr(etma_session, "server_filename", recording)
    with_files = [s.pi for s in cohort.students if s.files][:3]
    without = next(s.pi for s in cohort.students if not s.files)
    path = tmp_path / "ledger.sqlite3"
    ledger = Ledger(path)

    final = run_job(make_job(fresh_sites, [*with_files, without]), settings, ledger, "first")
    assert all(final[pi].state == "done" for pi in with_files)
    # what the server said, exactly as it said it
    assert sorted(headers) == sorted(
        f'attachment; filename="{cohort.zip_name(pi)}"' for pi in with_files
    )
    names = ledger_names(path, "first")
    assert names == {**{pi: cohort.zip_name(pi) for pi in with_files}, without: None}

    # a later job that finds the files already there records the same name again
    run_job(make_job(fresh_sites, with_files), settings, ledger, "second")
    assert ledger_names(path, "second") == {pi: cohort.zip_name(pi) for pi in with_files}

    # a codes job fetches no zip, so it records no name
    run_job(make_job(fresh_sites, with_files, action="codes"), settings, ledger, "codes")
    assert ledger_names(path, "codes") == dict.fromkeys(with_files)
    ledger.close()
