"""The confirmation-codes table a tutor opens in a spreadsheet.

Everything in it - codes, eTMA's reasons, file counts, folder names - comes from a server or a
page, and a spreadsheet runs a cell that starts with a formula character (OWASP "CSV
Injection": =, +, -, @, tab, CR, LF). So every text cell is neutralised before it is written
(`neutralise`), the CSV puts every field in double quotes (doubling any inside, RFC 4180), and
the Excel copy is written cell by cell: text as strings, never formulas; a file count, a size and
a submission date as a number or a date, and only when the text is nothing but one.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from .records import Outcome

COLUMNS = [
    "PI",
    "Name",
    "Assignment",
    "Code",
    "Status",
    "Submitted",
    "Late",
    "Reason",
    "Files",
    "Size (KB)",
    "Folder",
]
SHEET_NAME = "Confirmation codes"
#: Each final state as the table says it.
STATUS_WORDS = {
    "done": "done",
    "not_submitted": "not submitted",
    "failed": "failed",
    "needs_login": "needs login",
    "cancelled": "cancelled",
}
#: Columns whose value a later run keeps from the earlier table when it did not learn one (a
#: codes-only run knows no files; a failed run may know no code; a job may give no names).
KEPT_WHEN_UNKNOWN = ("Name", "Code", "Submitted", "Late", "Files", "Size (KB)", "Folder")
# How wide a column may grow in the workbook (characters), so a long reason or folder shows.
MAX_WIDTH = {"Reason": 90, "Folder": 90, "Name": 40}
DEFAULT_MAX_WIDTH = 30
DATE_FORMAT = "dd/mm/yyyy hh:mm"
_WHOLE_NUMBER = re.compile(r"\d{1,15}")
_DECIMAL = re.compile(r"\d{1,15}(\.\d{1,3})?")
_ISO_WHEN = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}))?")

# A cell starting with one of these is quoted. OWASP's list, and NUL from OWASP ASVS 1.2.10.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
# Inside a value: a separator or double quote, then any tabs or line breaks, then a formula
# character. A spreadsheet that splits the value there (one that reads ';' as the separator, or
# mishandles a quote or a line break inside a quoted field) would start a formula cell, so a
# quote goes after the separator too. The apostrophe is not a separator here: it is ordinary
# text ("student's") and the quote this module adds.
_FORMULA_AFTER_SEPARATOR = re.compile(r'(?<=[,;"\t\r\n])(?=[\t\r\n]*[=+\-@])')
# Characters XML 1.0 cannot hold, which openpyxl refuses (its ILLEGAL_CHARACTERS_RE).
_NOT_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value: object) -> str:
    """`value` as text a spreadsheet shows and never runs (OWASP's CSV-injection advice).

    A value starting with =, +, -, @, tab, CR, LF or NUL gets a leading single quote, as does
    the rest of a value after a separator (, ; tab CR LF) or double quote that a formula
    character follows. Nothing else changes: "ABC-123" and "500 - error" stay as they are,
    while "-12" becomes "'-12" (no exception for numbers: the counts, sizes and dates the
    workbook stores as numbers are never negative, and are numbers only when the whole text is
    digits). Applying it again changes nothing, so a table read back from the CSV is not quoted
    twice.
    """
    text = "" if value is None or value != value else str(value)  # value != value: NaN
    text = _FORMULA_AFTER_SEPARATOR.sub("'", text)
    return "'" + text if text.startswith(TRIGGERS) else text


def _row(record: Outcome, assignment: str) -> dict[str, str]:
    """One student as the table's text cells (before neutralising)."""
    size = sum(entry.size for entry in record.files)
    return {
        "PI": record.pi,
        "Name": record.name,
        "Assignment": assignment,
        "Code": record.code,
        "Status": STATUS_WORDS.get(record.state, record.state.replace("_", " ")),
        "Submitted": record.submitted.replace("T", " "),
        "Late": {True: "yes", False: "no"}.get(record.late, ""),
        "Reason": record.reason,
        "Files": str(len(record.files)) if record.folder else "",
        "Size (KB)": f"{size / 1024:.1f}" if record.folder else "",
        "Folder": record.folder or "",
    }


def write_codes_csv(path: Path, records: Iterable[Outcome], *, assignment: str = "") -> Path:
    """Write (or update) the codes table as CSV, with an Excel copy beside it; return the CSV.

    One row per student, in the job's order (OSCAR's). A later run updates the table: a run
    over every student already in it puts the rows in its own order; a run over some of them
    updates their rows where they are and adds students new to the table at the end.

    This job's results win, but a value this job did not learn (`KEPT_WHEN_UNKNOWN`) keeps what
    an earlier run wrote, and students not in this job keep their rows, so the table grows
    across runs. A table an earlier version wrote (fewer columns, statuses such as
    ``needs_login``) is read and rewritten in this layout.

    Every cell, whichever column it is in, is neutralised (`neutralise`): this job's values,
    and the earlier table's too, so one written before this protection is fixed when next
    written.
    """
    # The standard library's csv module, not pandas: a table of at most a few thousand rows needs
    # no data frame, and importing pandas costs half a second of CPU in every job.
    table = _by_pi(_neutralised(_row(record, assignment)) for record in records)
    if path.exists():
        earlier = _by_pi(_earlier_row(raw, assignment) for raw in _read_table(path))
        for pi, row in table.items():
            known = earlier.get(pi)
            if known is not None:
                for column in KEPT_WHEN_UNKNOWN:
                    if row[column] == "":
                        row[column] = known[column]
        if any(pi not in table for pi in earlier):
            # Some students are only in the earlier table: its order stands, this job's rows
            # replace theirs in place, and students new to the table follow.
            order = [*earlier, *(pi for pi in table if pi not in earlier)]
            table = {pi: table[pi] if pi in table else earlier[pi] for pi in order}
    rows = [tuple(row[column] for column in COLUMNS) for row in table.values()]
    partial = path.with_name(path.name + ".part")
    with open(partial, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator=os.linesep)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    partial.replace(path)
    workbook = path.with_suffix(".xlsx")
    partial = workbook.with_name(workbook.name + ".part")
    _write_xlsx(partial, list(COLUMNS), rows)
    partial.replace(workbook)
    return path


def _neutralised(row: dict[str, str]) -> dict[str, str]:
    return {column: neutralise(value) for column, value in row.items()}


def _by_pi(rows: Iterable[dict[str, str]]) -> dict[str, dict[str, str]]:
    """Rows by PI, in order; a PI met again keeps its last row, where that row stands."""
    table: dict[str, dict[str, str]] = {}
    for row in rows:
        table.pop(row["PI"], None)
        table[row["PI"]] = row
    return table


def _read_table(path: Path) -> Iterator[dict[str, str]]:
    """An earlier table's rows, every column of this layout in each (empty where the table has
    no such column or the row no such field); blank lines are skipped, and a column named twice
    is read from its first place."""
    with open(path, newline="", encoding="utf-8-sig") as table:
        reader = csv.reader(table)
        header = next((fields for fields in reader if fields), None)
        if header is None:
            return
        place: dict[str, int] = {}
        for number, name in enumerate(header):
            place.setdefault(name, number)
        for fields in reader:
            if not fields:
                continue
            yield {
                column: fields[place[column]]
                if column in place and place[column] < len(fields)
                else ""
                for column in COLUMNS
            }


def _earlier_row(raw: dict[str, str], assignment: str) -> dict[str, str]:
    """A row of an earlier table, neutralised, its status in words and its assignment filled."""
    row = _neutralised(raw)
    row["Status"] = STATUS_WORDS.get(row["Status"], row["Status"])
    if row["Assignment"] == "":
        row["Assignment"] = assignment
    return row


def _cell_value(column: str, text: str) -> object:
    """What a cell holds in the workbook: counts and sizes as numbers, the submission date as a
    date, everything else as neutralised text that can never run."""
    if column == "Files" and _WHOLE_NUMBER.fullmatch(text):
        return int(text)
    if column == "Size (KB)" and _DECIMAL.fullmatch(text):
        return float(text)
    if column == "Submitted":
        when = _ISO_WHEN.fullmatch(text)
        if when:
            try:
                return datetime.fromisoformat(f"{when[1]}T{when[2] or '00:00'}")
            except ValueError:
                pass
    text = neutralise(text).replace("\r\n", "\n").replace("\r", "\n")
    return _NOT_IN_XLSX.sub("\ufffd", text)


def _write_xlsx(path: Path, header: list[str], rows: Iterable[Iterable[object]]) -> None:
    """Write the table to a one-sheet workbook a tutor can read and sort at once.

    The header is bold, frozen and carries an autofilter; columns are wide enough for their
    contents (reasons and folders up to `MAX_WIDTH`). Counts and sizes are numbers, the
    submission date a date; every other cell is a string, never a formula: openpyxl stores a
    string starting with '=' as a formula, so every text value is neutralised and each text
    cell is marked a string besides. Characters a workbook cannot hold (control characters)
    become U+FFFD, and line breaks are stored as LF, which is how XML reads a CR anyway; the
    CSV keeps both as they were.
    """
    from openpyxl import Workbook  # heavy: imported only when a table is written
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_NAME
    widths = [len(name) for name in header]
    bold = Font(bold=True)
    for column_number, name in enumerate(header, start=1):
        cell = sheet.cell(row=1, column=column_number, value=neutralise(name))
        cell.data_type = "s"
        cell.font = bold
    row_number = 1
    for row_number, row in enumerate(rows, start=2):
        for column_number, (name, raw) in enumerate(zip(header, row, strict=True), start=1):
            value = _cell_value(name, "" if raw is None else str(raw))
            if value == "":
                continue
            cell = sheet.cell(row=row_number, column=column_number)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"
                shown = max(len(line) for line in value.split("\n"))
            elif isinstance(value, datetime):
                cell.number_format = DATE_FORMAT
                shown = len(DATE_FORMAT)
            else:
                shown = len(str(value))
            widths[column_number - 1] = max(widths[column_number - 1], shown)
    for column_number, name in enumerate(header, start=1):
        limit = MAX_WIDTH.get(name, DEFAULT_MAX_WIDTH)
        width = min(widths[column_number - 1], limit) + 2
        sheet.column_dimensions[get_column_letter(column_number)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(row_number, 1)}"
    book.save(path)
