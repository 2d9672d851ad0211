"""The ledger: created fresh, or brought up to date from an earlier version's file."""

import sqlite3

from etma_helper.ledger import SCHEMA_VERSION, Ledger, Outcome

FIRST_LAYOUT = """
CREATE TABLE jobs (id TEXT PRIMARY KEY, action TEXT NOT NULL, module TEXT NOT NULL,
    assignment TEXT NOT NULL, etma_origin TEXT NOT NULL, total INTEGER NOT NULL,
    started REAL NOT NULL, finished REAL, outcome TEXT);
CREATE TABLE students (job_id TEXT NOT NULL REFERENCES jobs(id), pi TEXT NOT NULL,
    module TEXT NOT NULL, action TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL,
    code TEXT NOT NULL, folder TEXT, files TEXT NOT NULL, zip_bytes INTEGER, zip_sha256 TEXT,
    finished REAL NOT NULL, PRIMARY KEY (job_id, pi));
INSERT INTO jobs VALUES ('old', 'download', 'TM351', 'TMA02', 'http://e', 1, 1.0, 2.0, 'finished');
INSERT INTO students VALUES ('old', 'P1234567', 'TM351', 'download', 'done', '', 'AB12-CD34',
    '/x/P1234567', '[["a.txt", 3, "00"]]', 10, 'ff', 2.0);
"""


def test_a_new_ledger_has_the_current_schema(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    ledger.close()
    db = sqlite3.connect(tmp_path / "l.sqlite3")
    assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_an_earlier_ledger_is_migrated_and_keeps_its_history(tmp_path):
    path = tmp_path / "l.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(FIRST_LAYOUT)
    db.close()
    ledger = Ledger(path)
    earlier = ledger.last_downloads("TM351", "TMA02")["P1234567"]
    assert earlier.code == "AB12-CD34" and earlier.files[0].path == "a.txt"
    ledger.start_job("new", "download", "TM351", "TMA02", "http://e", 1)
    ledger.record(
        "new",
        "TM351",
        "download",
        Outcome(pi="Q7654321", state="done", zip_name="TM351_Q7654321.zip"),
    )
    assert ledger.job_outcomes("new")["Q7654321"].zip_name == "TM351_Q7654321.zip"
    ledger.close()
    assert "P1234567" in Ledger(path).last_downloads("TM351", "TMA02")


SECOND_LAYOUT = """
CREATE TABLE jobs (id TEXT PRIMARY KEY, action TEXT NOT NULL, module TEXT NOT NULL,
    assignment TEXT NOT NULL, etma_origin TEXT NOT NULL, total INTEGER NOT NULL,
    started REAL NOT NULL, finished REAL, outcome TEXT);
CREATE TABLE students (job_id TEXT NOT NULL REFERENCES jobs(id), pi TEXT NOT NULL,
    module TEXT NOT NULL, action TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL,
    code TEXT NOT NULL, folder TEXT, files TEXT NOT NULL, zip_name TEXT, zip_bytes INTEGER,
    zip_sha256 TEXT, finished REAL NOT NULL, PRIMARY KEY (job_id, pi));
INSERT INTO jobs VALUES ('old', 'download', 'TM351', 'TMA02', 'http://e', 1, 1.0, 2.0, 'finished');
INSERT INTO students VALUES ('old', 'P1234567', 'TM351', 'download', 'done', '', 'AB12-CD34',
    '/x/P1234567', '[["a.txt", 3, "00"]]', 'TM351_P1234567.zip', 10, 'ff', 2.0);
PRAGMA user_version = 2;
"""


def test_a_version_2_ledger_gains_names_submission_dates_and_late_flags(tmp_path):
    path = tmp_path / "l.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(SECOND_LAYOUT)
    db.close()
    ledger = Ledger(path)
    earlier = ledger.last_downloads("TM351", "TMA02")["P1234567"]
    assert earlier.zip_name == "TM351_P1234567.zip"
    assert (earlier.name, earlier.submitted, earlier.late) == ("", "", None)
    ledger.start_job("new", "codes", "TM351", "TMA02", "http://e", 2)
    ledger.record(
        "new",
        "TM351",
        "codes",
        Outcome(
            pi="Q7654321",
            state="done",
            code="ZZ11-2233",
            name="Ada Lovelace",
            submitted="2024-03-11T14:22",
            late=True,
        ),
    )
    ledger.record(
        "new",
        "TM351",
        "codes",
        Outcome(pi="R1111111", state="not_submitted", reason="Nothing submitted.", late=False),
    )
    ledger.finish_job("new", "finished")
    got = ledger.job_outcomes("new")
    assert (got["Q7654321"].name, got["Q7654321"].submitted, got["Q7654321"].late) == (
        "Ada Lovelace",
        "2024-03-11T14:22",
        True,
    )
    assert got["R1111111"].state == "not_submitted" and got["R1111111"].late is False
    assert ledger.recent_jobs()[0]["counts"] == {"done": 1, "not_submitted": 1}
    ledger.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_a_ledger_an_older_helper_opened_after_a_newer_one_still_opens(tmp_path):
    """An older helper (a second install) resets user_version to its own number but keeps the
    newer columns; the newer helper must not try to add them again."""
    path = tmp_path / "l.sqlite3"
    Ledger(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    ledger = Ledger(path)
    ledger.start_job("j", "codes", "TM351", "TMA02", "http://e", 1)
    ledger.record("j", "TM351", "codes", Outcome(pi="P1234567", state="done", name="Ada"))
    assert ledger.job_outcomes("j")["P1234567"].name == "Ada"


def test_known_codes_are_each_students_newest_name_and_code_for_that_assignment(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    jobs = [
        ("one", "TMA 02", [("P1234567", "Ada", "OLD-CODE"), ("Q7654321", "", "")]),
        ("two", "tma02", [("P1234567", "", "NEW-CODE"), ("Q7654321", "Charles", "")]),
        ("other", "TMA03", [("Q7654321", "Charles", "TMA03-CODE")]),
    ]
    for job, assignment, students in jobs:
        ledger.start_job(job, "codes", "TM351", assignment, "http://e", len(students))
        for pi, name, code in students:
            state = "done" if code else "failed"
            outcome = Outcome(pi=pi, state=state, reason="", code=code, name=name)
            ledger.record(job, "TM351", "codes", outcome)
    assert ledger.known_codes("TM351", "TMA02") == {
        "P1234567": ("Ada", "NEW-CODE"),
        "Q7654321": ("Charles", ""),
    }
    assert ledger.known_codes("TM351", "TMA03") == {"Q7654321": ("Charles", "TMA03-CODE")}
    assert ledger.known_codes("M269", "TMA02") == {}


def test_last_downloads_keep_each_students_newest_done_download_of_that_assignment(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    jobs = [
        ("first", "TMA02", "P1234567", "done", "/a"),
        ("second", "TMA 02", "P1234567", "done", "/b"),  # typed as jobs before 0.2 kept it
        ("third", "TMA02", "P1234567", "failed", None),  # a failure replaces nothing
        ("other", "TMA03", "Q7654321", "done", "/c"),  # another assignment
        ("codes", "TMA02", "Q7654321", "done", None),
    ]
    for job_id, assignment, pi, state, folder in jobs:
        action = "codes" if job_id == "codes" else "download"
        ledger.start_job(job_id, action, "TM351", assignment, "http://e", 1)
        ledger.record(job_id, "TM351", action, Outcome(pi=pi, state=state, folder=folder))
    found = ledger.last_downloads("TM351", "TMA02")
    assert {pi: outcome.folder for pi, outcome in found.items()} == {"P1234567": "/b"}
    assert ledger.last_downloads("TM351", "TMA03")["Q7654321"].folder == "/c"
    assert ledger.last_downloads("TM999", "TMA02") == {}
