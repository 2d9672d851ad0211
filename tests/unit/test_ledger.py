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
    earlier = ledger.last_download("TM351", "TMA02", "P1234567")
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
    assert Ledger(path).last_download("TM351", "TMA02", "P1234567") is not None
