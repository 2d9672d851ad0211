"""``export_worksheet``: the third-marking worksheet, written from the marks a page read.

The marks page sends its marks (rows as for ``flags``, checked the same way, with the tutor's
rule), its module and assignment, and which students: the flagged ones (the default), every
student, or a list of PIs. The helper writes ``<download root>/<module>/third_marking.xlsx`` and
its ``.csv`` copy with ``worksheet.write_worksheet``, which keeps what the tutor typed into an
earlier worksheet. The place is the helper's own: the page names a module, never a path.

Names and confirmation codes come from what the helper already has for that module and
assignment: the codes table earlier jobs wrote (``confirmation_codes.csv``, or its ``.xlsx``),
then the ledger for anyone that table lacks. A student without a code gets an empty cell, and
the reply says who.

Nothing is written when anything is wrong: bad input is error 3 naming the row and field; a
worksheet open in a spreadsheet program (its lock file beside it), an earlier worksheet whose
typed values could not be kept, or a folder or file that cannot be written is error 8 saying
what to do; a full disk is error 16.
"""

from __future__ import annotations

import errno
import logging
import threading
from pathlib import Path

from ..batch import CODES_CSV, job_folder
from ..config import Settings
from ..errors import ErrorCode, ProtocolError
from ..marks_file import MarksFileError, read_table
from ..protocol import normalise_pi, parse_assignment, parse_module
from ..third_marking import Rule, StudentMarks
from ..worksheet import WORKSHEET_NAME, WorksheetError, read_codes, write_worksheet
from . import Reply
from .flags import MAX_STUDENTS, marks_and_rule

log = logging.getLogger(__name__)

#: Which students the worksheet is for, when not a list of PIs.
WHICH = ("flagged", "all")
#: The lock files spreadsheet programs keep beside a file they have open, for its name:
#: LibreOffice's, and Microsoft Office's "owner file" (its name after "~$", or with its first
#: two characters replaced by them, as Word does for a long name).
LOCK_FILES = (
    lambda name: f".~lock.{name}#",
    lambda name: f"~${name}",
    lambda name: f"~${name[2:]}",
)
# Held while a worksheet is written: two exports at once would write the same files.
_WRITING = threading.Lock()
#: Problems of an earlier worksheet named in one error message; the rest are counted.
PROBLEMS_NAMED = 5


def _invalid(field: str, message: str) -> ProtocolError:
    return ProtocolError(ErrorCode.INVALID_FIELD, message, field=field)


def _chosen(message: dict, students: list[StudentMarks]) -> tuple[set[str] | None, bool]:
    """The PIs asked for (None: by the rule) and whether every student is."""
    which = message.get("students", "flagged")
    if isinstance(which, str) and which in WHICH:
        return None, which == "all"
    if not isinstance(which, list) or not 0 < len(which) <= MAX_STUDENTS:
        raise _invalid(
            "students",
            f'\'students\' must be "flagged", "all" or a list of 1 to {MAX_STUDENTS} PIs.',
        )
    known = {s.pi for s in students}
    chosen: set[str] = set()
    for index, raw in enumerate(which):
        try:
            if not isinstance(raw, str):
                raise ValueError(raw)
            pi = normalise_pi(raw)
        except ValueError:
            raise _invalid(
                f"students[{index}]", f"Student {index + 1}: {str(raw)[:40]!r} is not a PI."
            ) from None
        if pi not in known:
            raise _invalid(
                f"students[{index}]",
                f"Student {index + 1}: {pi} has no marks on this page, so is not in the worksheet.",
            )
        chosen.add(pi)
    return chosen, False


def _codes_table(folder: Path) -> Path | None:
    """The codes table earlier jobs wrote for this module and assignment, if any."""
    for name in (CODES_CSV, Path(CODES_CSV).with_suffix(".xlsx").name):
        if (folder / name).is_file():
            return folder / name
    return None


def _known_codes(host, root: Path, module: str, assignment: str) -> tuple[dict, str]:
    """Name and confirmation code by PI for a module and assignment: the codes table's, then the
    ledger's where the table has none; and a note when the table could not be read."""
    codes: dict[str, tuple[str, str]] = {}
    note = ""
    table = _codes_table(root / module / assignment if assignment else root / module)
    if table is not None:
        try:
            codes = read_codes(table)
        except MarksFileError as err:
            first = err.problems[0]
            note = (
                f"The codes table {table} could not be read ({first}), so the codes came "
                "from the helper's records alone."
            )
    try:
        from_ledger = host.ledger().known_codes(module, assignment)
    except Exception as err:  # the ledger only adds to the table; a broken one must not stop this
        log.warning("the ledger's codes could not be read: %s", err)
        from_ledger = {}
    for pi, (name, code) in from_ledger.items():
        table_name, table_code = codes.get(pi, ("", ""))
        codes[pi] = (table_name or name, table_code or code)
    return codes, note


def _refuse_when_open(path: Path) -> None:
    """Error 8 when a spreadsheet program has the worksheet open: writing under it would lose
    what the tutor typed and has not saved, or their saving would lose this export."""
    for target in (path, path.with_suffix(".csv")):
        for lock_name in LOCK_FILES:
            lock = target.with_name(lock_name(target.name))
            if lock.exists():
                raise ProtocolError(
                    ErrorCode.DOWNLOAD_ROOT_UNUSABLE,
                    f"{target.name} is open in a spreadsheet program (its lock file {lock.name} "
                    f"is in {path.parent}): save what you typed, close it, then export again. "
                    "If no program has it open, delete the lock file.",
                    folder=str(path.parent),
                )


def _without_code(csv_path: Path) -> list[str]:
    """The PIs the written worksheet has no confirmation code for, read back from its .csv."""
    rows = read_table(csv_path)
    if not rows:
        return []
    header = [cell.strip() for cell in rows[0]]
    at_pi, at_code = header.index("PI"), header.index("Confirmation code")
    return [
        row[at_pi].strip() for row in rows[1:] if row[at_pi].strip() and not row[at_code].strip()
    ]


def _write(
    host,
    students: list[StudentMarks],
    rule: Rule,
    which: tuple[set[str] | None, bool],
    module: str,
    assignment: str,
) -> dict:
    """Write the worksheet and say what was written; one export at a time, since two would
    write the same files."""
    with _WRITING:
        chosen, include_all = which
        settings = Settings.load()
        folder = job_folder(settings, module)  # error 8 when it cannot be made or written to
        path = folder / WORKSHEET_NAME
        _refuse_when_open(path)
        codes, note = _known_codes(host, settings.download_root, module, assignment)
        try:
            written = write_worksheet(
                path, students, rule, codes=codes, include_all=include_all, chosen=chosen
            )
        except WorksheetError as err:
            problems = "; ".join(str(p) for p in err.problems[:PROBLEMS_NAMED])
            more = len(err.problems) - PROBLEMS_NAMED
            problems += f"; and {more} more" if more > 0 else ""
            raise ProtocolError(
                ErrorCode.DOWNLOAD_ROOT_UNUSABLE,
                f"The worksheet was not written: what was typed into {err.path} cannot be kept "
                f"({problems}). It is left as it is.",
                folder=str(folder),
            ) from None
        except OSError as err:
            if err.errno == errno.ENOSPC:
                raise ProtocolError(
                    ErrorCode.DISK_FULL,
                    f"The disk holding {folder} is full, so the worksheet was not written. Free "
                    "some space, then export again; the earlier worksheet is as it was.",
                    folder=str(folder),
                ) from None
            raise ProtocolError(
                ErrorCode.DOWNLOAD_ROOT_UNUSABLE,
                f"The worksheet could not be written in {folder} ({err.strerror or err}). If "
                f"{WORKSHEET_NAME} is open in a spreadsheet program, save and close it; "
                "otherwise check that the folder can be written to. Then export again: nothing "
                "typed is lost.",
                folder=str(folder),
            ) from None
    missing = _without_code(written.csv)
    return {
        "path": str(written.xlsx),
        "csv": str(written.csv),
        "folder": str(folder),
        "module": module,
        "rows": written.rows,
        "kept": written.kept,
        "without_code": len(missing),
        "without_code_pis": missing,
        "note": note,
    }


def handle(host, message: dict) -> Reply:
    module = parse_module(message.get("module"))
    assignment = parse_assignment(message.get("assignment"))
    students, rule = marks_and_rule(message)
    which = _chosen(message, students)
    # Writing a workbook for many students takes a moment: off the read loop, so hello and
    # cancel are still answered while it is written.
    return Reply(later=lambda: _write(host, students, rule, which, module, assignment))
