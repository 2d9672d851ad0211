"""``worksheet_marks``: the third marks a tutor typed into the module's worksheet, for "Fill marks".

The marks page sends its module, assignment and marks (the rows of a ``flags`` request); the
helper reads ``<download root>/<module>/third_marking.xlsx``, or its ``.csv`` copy when only that
exists or the tutor saved it since (the path never comes from the page). It checks every row
against those marks (``worksheet.read_worksheet``: a PI on this page, every mark a number within
its maximum, no formulas, a comment OSCAR can take) and answers, per student who has third marks
typed, the marks by question, the comment, and the row's name and confirmation code. A student
whose row has no code gets the one in the assignment's codes table, when there is one. Any
problem in the worksheet is reported with its row, and then no student is answered for.

Comments of up to 2,000 characters for hundreds of students outgrow one message, so the answer
comes in parts sized by bytes: the request's ``start`` says where a part begins, the reply's
``next`` where the next does (null after the last), and ``fingerprint`` (of the file's bytes)
lets the page see that every part came from the same worksheet.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from ..config import Settings
from ..errors import ErrorCode, ProtocolError
from ..marks_file import MarksFileError, shown_number
from ..protocol import parse_assignment, parse_module
from ..worksheet import (
    WORKSHEET_NAME,
    ThirdMarks,
    WorksheetError,
    filled_in,
    read_codes,
    read_worksheet,
)
from . import Reply
from .flags import marks_of

log = logging.getLogger(__name__)

#: Problems sent with the error (the message names them all up to this many; the rest counted).
PROBLEMS_SENT = 50
#: Longest confirmation code passed on (a longer one is not a code, and OSCAR would refuse it).
MAX_CODE = 40
CODES_TABLES = ("confirmation_codes.xlsx", "confirmation_codes.csv")
#: Bytes of students one reply carries at most: well inside a frame (framing.MAX_OUTGOING).
PART_BYTES = 600_000


def worksheet_path(folder: Path) -> Path:
    """The module's worksheet as the tutor saved it last: its .xlsx, or the .csv copy when only
    that exists or it was saved since (as an export reads it); raises NOT_FOUND, saying where it
    looked, when there is neither."""
    xlsx = folder / WORKSHEET_NAME
    csv = xlsx.with_suffix(".csv")
    found = filled_in(xlsx)
    if found is not None:
        return found
    raise ProtocolError(
        ErrorCode.NOT_FOUND,
        f"There is no marks worksheet at {xlsx} (nor {csv.name} beside it). Press Export marks "
        "worksheet first, type the third marks and comments into it, save it, then press Fill "
        "marks again.",
        path=str(xlsx),
    )


def _unusable(err: WorksheetError) -> ProtocolError:
    problems = err.problems[:PROBLEMS_SENT]
    more = len(err.problems) - len(problems)
    listed = "; ".join(str(problem) for problem in problems)
    tail = f"; and {more} more" if more > 0 else ""
    return ProtocolError(
        ErrorCode.WORKSHEET_UNUSABLE,
        f"The marks worksheet {err.path} cannot be used, so no marks were filled: {listed}{tail}. "
        "Correct it, save it, and press Fill marks again.",
        path=str(err.path),
        problems=[{"row": p.row, "message": p.message} for p in problems],
    )


def _codes_table(folder: Path) -> dict[str, tuple[str, str]]:
    """Name and code by PI from the assignment's codes table; empty when it has none or it
    cannot be read (the worksheet's own codes come first; this only fills gaps)."""
    for name in CODES_TABLES:
        path = folder / name
        if path.is_file():
            try:
                return read_codes(path)
            except MarksFileError as err:
                log.warning("codes table not used: %s", err.describe(limit=3))
                return {}
    return {}


def _student(marks: ThirdMarks, codes: dict[str, tuple[str, str]]) -> dict:
    code = marks.code or codes.get(marks.pi, ("", ""))[1]
    return {
        "pi": marks.pi,
        "name": marks.name,
        "code": code if len(code) <= MAX_CODE else "",
        "marks": [
            {"question": question, "mark": shown_number(mark)} for question, mark in marks.marks
        ],
        "comment": marks.comment,
        "row": marks.row,
    }


def _start(message: dict) -> int:
    start = message.get("start", 0)
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise ProtocolError(
            ErrorCode.INVALID_FIELD, "'start' must be a whole number from 0.", field="start"
        )
    return start


def _fingerprint(path: Path) -> str:
    """A short digest of the worksheet's bytes: the same file gives the same one."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return ""


def _part(answers: list[dict], start: int) -> tuple[list[dict], int | None]:
    """The answers from ``start`` that fit in PART_BYTES (always at least one), and where the
    next part starts (None after the last)."""
    part: list[dict] = []
    size = 0
    for index in range(start, len(answers)):
        size += len(json.dumps(answers[index], ensure_ascii=False).encode("utf-8")) + 1
        if part and size > PART_BYTES:
            return part, index
        part.append(answers[index])
    return part, None


def handle(host, message: dict) -> Reply:
    module = parse_module(message.get("module"))
    assignment = parse_assignment(message.get("assignment") or "")
    start = _start(message)
    students = marks_of(message)
    folder = Settings.load().download_root / module
    path = worksheet_path(folder)
    fingerprint = _fingerprint(path)
    try:
        found = read_worksheet(path, students)
    except WorksheetError as err:
        raise _unusable(err) from None
    codes = _codes_table(folder / assignment) if assignment else {}
    answers = [_student(found[s.pi], codes) for s in students if s.pi in found]
    part, following = _part(answers, start)
    return Reply(
        {
            "worksheet": str(path),
            "fingerprint": fingerprint,
            "questions": list(dict.fromkeys(q.question for s in students for q in s.questions)),
            "total": len(answers),
            "students": part,
            "next": following,
        }
    )
