"""The ledger: every job and every student's outcome, in SQLite, so long batches resume.

SQLite's transactions make each write all-or-nothing, so a helper killed mid-write leaves the
ledger as it was before that write. WAL mode lets a reader (the popup, a second run) look while
a batch writes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

import platformdirs

from .config import APP
from .records import FileEntry, Outcome

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    action TEXT NOT NULL,
    module TEXT NOT NULL,
    assignment TEXT NOT NULL,
    etma_origin TEXT NOT NULL,
    total INTEGER NOT NULL,
    started REAL NOT NULL,
    finished REAL,
    outcome TEXT
);
CREATE TABLE IF NOT EXISTS students (
    job_id TEXT NOT NULL REFERENCES jobs(id),
    pi TEXT NOT NULL,
    module TEXT NOT NULL,
    action TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    code TEXT NOT NULL,
    folder TEXT,
    files TEXT NOT NULL,
    zip_name TEXT,
    zip_bytes INTEGER,
    zip_sha256 TEXT,
    finished REAL NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    submitted TEXT NOT NULL DEFAULT '',
    late INTEGER,
    PRIMARY KEY (job_id, pi)
);
CREATE INDEX IF NOT EXISTS students_by_module_pi ON students (module, pi, finished);
"""

#: Changes to a ledger written by an earlier version, by the schema version they lead to: the
#: columns each adds to the students table. A column already there is not added again: an older
#: helper that opens a newer ledger keeps its columns but writes back its own, lower, version.
#: No column constrains ``state``, so a new state (``not_submitted``, version 3's) needs none.
MIGRATIONS: dict[int, tuple[tuple[str, str], ...]] = {
    2: (("zip_name", "TEXT"),),
    3: (
        ("name", "TEXT NOT NULL DEFAULT ''"),
        ("submitted", "TEXT NOT NULL DEFAULT ''"),
        ("late", "INTEGER"),
    ),
}
SCHEMA_VERSION = max(MIGRATIONS)


def default_path() -> Path:
    """e.g. ~/.local/share/etma_helper/ledger.sqlite3 on Linux."""
    return Path(platformdirs.user_data_dir(APP)) / "ledger.sqlite3"


class Ledger:
    """A connection to the ledger, safe to share between a job's worker threads."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._migrate()

    def _migrate(self) -> None:
        """Create the tables, or bring an earlier version's ledger up to date, all at once."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")  # two helpers starting together: one migrates
            (version,) = self._db.execute("PRAGMA user_version").fetchone()
            exists = self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'jobs'").fetchone()
            if not exists:
                for statement in filter(str.strip, SCHEMA.split(";")):
                    self._db.execute(statement)
            else:
                # Ledgers from before versioning report 0 and have the first layout.
                present = {row[1] for row in self._db.execute("PRAGMA table_info(students)")}
                for target in range(max(version, 1) + 1, SCHEMA_VERSION + 1):
                    for column, declaration in MIGRATIONS[target]:
                        if column not in present:
                            self._db.execute(
                                f"ALTER TABLE students ADD COLUMN {column} {declaration}"
                            )
            self._db.execute(f"PRAGMA user_version = {max(version, SCHEMA_VERSION)}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, sql: str, params: tuple) -> None:
        with self._lock, self._db:  # one transaction per write
            self._db.execute(sql, params)

    def start_job(
        self, job_id: str, action: str, module: str, assignment: str, etma_origin: str, total: int
    ) -> None:
        """Record that a job began (a re-used id starts that job's record afresh)."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM students WHERE job_id = ?", (job_id,))
            self._db.execute(
                "INSERT OR REPLACE INTO jobs (id, action, module, assignment, etma_origin, total,"
                " started) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (job_id, action, module, assignment, etma_origin, total, time.time()),
            )

    def record(self, job_id: str, module: str, action: str, outcome: Outcome) -> None:
        """Record one student's final outcome."""
        files = json.dumps([[f.path, f.size, f.sha256] for f in outcome.files])
        self._write(
            "INSERT OR REPLACE INTO students (job_id, pi, module, action, state, reason, code,"
            " folder, files, zip_name, zip_bytes, zip_sha256, finished, name, submitted, late)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                job_id,
                outcome.pi,
                module,
                action,
                outcome.state,
                outcome.reason,
                outcome.code,
                outcome.folder,
                files,
                outcome.zip_name,
                outcome.zip_bytes,
                outcome.zip_sha256,
                time.time(),
                outcome.name,
                outcome.submitted,
                None if outcome.late is None else int(outcome.late),
            ),
        )

    def finish_job(self, job_id: str, outcome: str) -> None:
        self._write(
            "UPDATE jobs SET finished = ?, outcome = ? WHERE id = ?", (time.time(), outcome, job_id)
        )

    def last_downloads(self, module: str, assignment: str) -> dict[str, Outcome]:
        """Each student's most recent completed download for this module and assignment, by PI,
        in any job and any folder: read once as a job starts, not once per student.

        Assignments are compared as ``TMA02`` (jobs before 0.2 kept what was typed, ``TMA 02``);
        a job that named no assignment matches only jobs that named none.
        """
        rows = self._outcomes(
            "module = ? AND action = 'download' AND state = 'done' AND job_id IN"
            " (SELECT id FROM jobs WHERE REPLACE(UPPER(assignment), ' ', '') = ?)"
            " ORDER BY finished, rowid",
            (module, assignment.replace(" ", "").upper()),
        )
        return {outcome.pi: outcome for outcome in rows}  # a later download wins

    def known_codes(self, module: str, assignment: str) -> dict[str, tuple[str, str]]:
        """Each student's newest name and confirmation code that any job for this module and
        assignment learnt (compared as in `last_downloads`), by PI; a job that learnt only one
        of them leaves the other as an earlier job had it ("" when none did)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT s.pi, s.name, s.code FROM students s JOIN jobs j ON s.job_id = j.id"
                " WHERE s.module = ? AND REPLACE(UPPER(j.assignment), ' ', '') = ?"
                " ORDER BY s.finished, s.rowid",
                (module, assignment.replace(" ", "").upper()),
            ).fetchall()
        known: dict[str, tuple[str, str]] = {}
        for pi, name, code in rows:
            earlier_name, earlier_code = known.get(pi, ("", ""))
            known[pi] = (name or earlier_name, code or earlier_code)
        return known

    def job_outcomes(self, job_id: str) -> dict[str, Outcome]:
        """Every student recorded for a job, by PI."""
        return {outcome.pi: outcome for outcome in self._outcomes("job_id = ?", (job_id,))}

    def _outcomes(self, where: str, params: tuple) -> list[Outcome]:
        with self._lock:
            rows = self._db.execute(
                "SELECT pi, state, reason, code, folder, files, zip_bytes, zip_sha256, zip_name,"
                f" name, submitted, late FROM students WHERE {where}",
                params,
            ).fetchall()
        return [
            Outcome(
                pi=pi,
                state=state,
                reason=reason,
                code=code,
                folder=folder,
                files=tuple(FileEntry(*entry) for entry in json.loads(files)),
                zip_bytes=size,
                zip_sha256=sha256,
                zip_name=zip_name,
                name=name,
                submitted=submitted,
                late=None if late is None else bool(late),
            )
            for (
                pi,
                state,
                reason,
                code,
                folder,
                files,
                size,
                sha256,
                zip_name,
                name,
                submitted,
                late,
            ) in rows
        ]

    def recent_jobs(self, limit: int = 10) -> list[dict]:
        """The newest jobs with their counts, for the popup and the command line."""
        with self._lock:
            rows = self._db.execute(
                "SELECT j.id, j.action, j.module, j.assignment, j.total, j.started, j.finished,"
                " j.outcome, s.state, COUNT(s.pi) FROM jobs j LEFT JOIN students s"
                " ON s.job_id = j.id GROUP BY j.id, s.state ORDER BY j.started DESC",
            ).fetchall()
        jobs: dict[str, dict] = {}
        for job_id, action, module, assignment, total, started, finished, outcome, state, n in rows:
            job = jobs.setdefault(
                job_id,
                {
                    "job_id": job_id,
                    "action": action,
                    "module": module,
                    "assignment": assignment,
                    "total": total,
                    "started": started,
                    "finished": finished,
                    "outcome": outcome,
                    "counts": {},
                },
            )
            if state:
                job["counts"][state] = n
        return list(jobs.values())[:limit]
