"""The helper's records: a job it was asked to do, and what it reports about each student and
each job.

Plain data, built by the edges (protocol.py parses a browser's request into a Job, cli.py the
command line) and used by the core (batch.py, etma_session.py, the ledger).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Longest student name the helper keeps (from a job or from eTMA's page).
MAX_NAME = 200
# What a name may not hold: C0 and C1 controls and DEL, the line and paragraph separators, and
# the bidirectional overrides and isolates that could make a table show other text than it holds.
_NOT_IN_A_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def clean_name(value: str) -> str | None:
    """A student's name with its spaces tidied ("" for a blank one), or None when it is no
    name the helper keeps: longer than MAX_NAME characters, or holding a control character."""
    if _NOT_IN_A_NAME.search(value):
        return None
    name = " ".join(value.split())
    return name if len(name) <= MAX_NAME else None


@dataclass(frozen=True)
class Cookie:
    """One eTMA cookie as the browser's cookies API reports it."""

    name: str
    value: str
    domain: str
    path: str = "/"
    secure: bool = False

    def __repr__(self) -> str:  # never let a session value reach a log line
        return f"Cookie(name={self.name!r}, domain={self.domain!r}, value=<hidden>)"


@dataclass(frozen=True)
class Job:
    """A batch to run, asked for by the extension or the command line: one action (``download``
    or ``codes``) over a list of students."""

    action: str
    etma_url: str
    module: str
    assignment: str
    pis: tuple[str, ...]
    cookies: tuple[Cookie, ...] = field(repr=False)
    force: bool = False
    #: the tutor's names for students, by PI (from OSCAR's table); a student without one takes
    #: the name eTMA's page shows
    names: dict[str, str] = field(default_factory=dict, hash=False, repr=False)


MAX_FILES_IN_MESSAGE = 200
#: Bytes of file names one progress message may carry (frames must stay under 1 MB; a zip can
#: hold thousands of deeply nested long names).
MAX_FILE_NAME_BYTES = 64 * 1024
#: The states a student ends a job in. ``not_submitted``: eTMA's page says the student submitted
#: nothing for the assignment; finished, like ``done``, and not a failure.
FINAL_STATES = ("done", "not_submitted", "failed", "needs_login", "cancelled")
#: Every state a student of a job can be in, in the order a job moves through them.
STATES = ("queued", "working", *FINAL_STATES)


@dataclass(frozen=True)
class FileEntry:
    """One unpacked file: its path in the student's folder, size and checksum."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """One student's state in a job: reported as it changes, recorded in the ledger when final.

    Built by keyword only, so a field added or moved can never shift another's value.
    """

    pi: str
    state: str
    reason: str = ""
    code: str = ""
    folder: str | None = None
    files: tuple[FileEntry, ...] = ()
    zip_bytes: int | None = None
    zip_sha256: str | None = None
    zip_name: str | None = None
    #: the student's name: the job's, else what eTMA's page shows ("" when neither says)
    name: str = ""
    #: when eTMA says the student submitted, as ISO 8601 local time ("2024-03-11T14:22", or a
    #: date alone), "" when its page shows none
    submitted: str = ""
    #: eTMA's late flag: True, False, or None when its page shows none
    late: bool | None = None

    def to_message(self) -> dict:
        """The student as the protocol sends it, the file list capped by count and by bytes."""
        names: list[str] = []
        budget = MAX_FILE_NAME_BYTES
        for entry in self.files[:MAX_FILES_IN_MESSAGE]:
            budget -= len(entry.path.encode("utf-8")) + 4  # quotes, comma, slack
            if budget < 0:
                break
            names.append(entry.path)
        data = {
            "pi": self.pi,
            "state": self.state,
            "reason": self.reason,
            "code": self.code,
            "files": names,
            "name": self.name,
            "submitted": self.submitted,
            "late": self.late,
        }
        if len(names) < len(self.files):
            data["files_total"] = len(self.files)
        if self.folder is not None:
            data["folder"] = self.folder
        return data


@dataclass
class JobSummary:
    """How a job ended."""

    job_id: str
    action: str
    module: str
    outcome: str
    counts: dict[str, int]
    folder: str
    codes_csv: str | None
    seconds: float
    assignment: str = ""
    #: how done students' files reached ``folder``: fetched, already_downloaded (there from an
    #: earlier job), copied (from an earlier job's other folder), fetched_again (that earlier
    #: copy was missing or changed)
    how: dict[str, int] = field(default_factory=dict)
    #: the folders files were copied from
    copied_from: list[str] = field(default_factory=list)
    #: why the job stopped before the end, for a person (a full disk)
    stopped_because: str | None = None

    def to_message(self) -> dict:
        message = {
            "job_id": self.job_id,
            "action": self.action,
            "module": self.module,
            "assignment": self.assignment,
            "outcome": self.outcome,
            "counts": self.counts,
            "folder": self.folder,
            "codes_csv": self.codes_csv,
            "seconds": round(self.seconds, 2),
            "how": self.how,
            "copied_from": self.copied_from[:20],
        }
        if self.stopped_because:
            message["stopped_because"] = self.stopped_because
        return message
