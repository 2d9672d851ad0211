"""The third-marking worksheet: written for a tutor to fill in, and read back checked.

``third_marking.xlsx`` (and a ``.csv`` copy beside it) has one row per student who needs third
marking (or per student, on request): PI, name, confirmation code, both markers' marks question
by question, both totals, the difference, the flag reason, then an empty column per question for
the third mark and one for a comment. The workbook is made to be filled in: a bold, frozen
header; on every third-mark cell a check that it is a number from 0 to that question's maximum;
on every comment cell a check of its length; flag reasons highlighted; columns wide enough to
read the reasons.

Writing it again over an earlier one keeps what the tutor typed there (third marks and comments,
matched by PI, from the .xlsx or the .csv copy, whichever they saved last), and keeps the rows
of students it would otherwise leave out, so nothing typed is lost. Every text cell is
formula-neutralised (export.py).

`read_worksheet` reads a filled worksheet (.xlsx or .csv) and checks every row against the
marks: the PI is one of the students, each third mark is a number from 0 to its maximum (with at
most `MARK_DECIMALS` decimals) and no formula, a student has a third mark for every question or
for none, and a comment is within OSCAR's `MAX_COMMENT` characters. It reports every problem with
its spreadsheet row, or returns the third marks per student.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from .export import TRIGGERS, neutralise
from .marks_file import (
    MarksFileError,
    RowProblem,
    parse_number,
    read_table,
    shown_number,
    write_csv,
)
from .protocol import normalise_pi
from .third_marking import Decision, Rule, StudentMarks, decide, shown

WORKSHEET_NAME = "third_marking.xlsx"
SHEET_TITLE = "Third marking"
#: OSCAR's limit on a third marker's comments, in characters.
MAX_COMMENT = 2000
#: Decimal places a third mark may have (OSCAR takes marks such as 12.5 or 7.25).
MARK_DECIMALS = 2
NOT_IN_MARKS = "not in the marks given"
FIXED_COLUMNS = ("PI", "Name", "Confirmation code")
TOTAL_COLUMNS = ("First total %", "Second total %", "Difference", "Reason")
COMMENT = "Comment"
# Widths (characters) the workbook's columns may grow to, so a long reason shows.
MAX_WIDTH = {"Reason": 80, "Name": 30, COMMENT: 60}
DEFAULT_MAX_WIDTH = 16
# The quotes `neutralise` adds: at the start before a formula character, and after a separator
# or double quote before one.
_NEUTRALISED = re.compile(
    "^'(?=[" + re.escape("".join(TRIGGERS)) + r"])|(?<=[,;\"\t\r\n])'(?=['\t\r\n]*[=+\-@])"
)
HIGHLIGHT = "FFF2CC"  # a pale yellow a tutor's eye goes to
TO_FILL = "E2EFDA"  # pale green: the columns the tutor fills in


def first_column(question: str) -> str:
    """The header of the first marker's marks for a question."""
    return f"First {question}"


def second_column(question: str) -> str:
    """The header of the second marker's marks for a question."""
    return f"Second {question}"


def third_column(question: str) -> str:
    """The header of the third marks a tutor types for a question."""
    return f"Third {question}"


@dataclass(frozen=True)
class ThirdMarks:
    """One student's third marks from a filled worksheet: a mark per question (in the marks'
    order), the comment, and the row they were on; with the row's name and confirmation code
    ("" where the worksheet has none)."""

    pi: str
    marks: tuple[tuple[str, Fraction], ...]
    comment: str
    row: int
    name: str = ""
    code: str = ""


@dataclass(frozen=True)
class WrittenWorksheet:
    """A worksheet as written: its two files, its rows, and how many students' typed values
    it kept from the earlier worksheet."""

    xlsx: Path
    csv: Path
    rows: int
    kept: int


class WorksheetError(MarksFileError):
    """A worksheet that cannot be used, with every problem found in it, by row."""


def columns_for(questions: Sequence[str]) -> list[str]:
    """The worksheet's columns for these questions, in order."""
    marks = [name for q in questions for name in (first_column(q), second_column(q))]
    return [
        *FIXED_COLUMNS,
        *marks,
        *TOTAL_COLUMNS,
        *(third_column(q) for q in questions),
        COMMENT,
    ]


def read_codes(path: Path) -> dict[str, tuple[str, str]]:
    """Name and confirmation code by PI from a codes table (the helper's
    confirmation_codes.csv or .xlsx: columns PI, Code and perhaps Name)."""
    rows = read_table(path)
    if not rows:
        raise WorksheetError(path, [RowProblem(1, "no header row (PI, Name, Code)")])
    header = [cell.strip().lower() for cell in rows[0]]
    if "pi" not in header or "code" not in header:
        raise WorksheetError(path, [RowProblem(1, "a codes table has columns PI and Code")])
    at_pi, at_code = header.index("pi"), header.index("code")
    at_name = header.index("name") if "name" in header else None
    codes: dict[str, tuple[str, str]] = {}
    problems: list[RowProblem] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            pi = normalise_pi(row[at_pi])
        except ValueError:
            problems.append(RowProblem(number, f"{row[at_pi][:40]!r} is not a student PI"))
            continue
        name = row[at_name].strip() if at_name is not None else ""
        codes[pi] = (_unquoted(name), _unquoted(row[at_code].strip()))
    if problems:
        raise WorksheetError(path, problems)
    return codes


def write_worksheet(
    path: Path,
    students: Sequence[StudentMarks],
    rule: Rule | None = None,
    *,
    codes: Mapping[str, tuple[str, str]] | None = None,
    include_all: bool = False,
    chosen: Collection[str] | None = None,
) -> WrittenWorksheet:
    """Write (or write again) the worksheet ``path`` (.xlsx) and its .csv copy.

    Rows: the students who need third marking (every student with ``include_all``; the
    students whose PIs are ``chosen``, when given), in the marks' order, then any other student
    the earlier worksheet had typed values for; a PI the marks do not know keeps its row, with
    the reason "not in the marks given".
    """
    rule = rule or Rule()
    codes = codes or {}
    questions = _questions(students)
    kept = _typed_earlier(path, questions)
    decisions = {s.pi: decide(s, rule) for s in students}

    def wanted(pi: str) -> bool:
        if chosen is not None:
            return pi in chosen
        return include_all or decisions[pi].third_marking

    listed = [s for s in students if wanted(s.pi) or s.pi in kept]
    header = columns_for(questions)
    rows: list[dict[str, object]] = []
    flagged: list[bool] = []
    for student in listed:
        row = _student_row(student, decisions[student.pi], codes)
        row.update(kept.get(student.pi, {}))
        rows.append(row)
        flagged.append(decisions[student.pi].third_marking)
    known = {s.pi for s in students}
    for pi, typed in kept.items():
        if pi not in known:
            rows.append({"PI": pi, "Reason": NOT_IN_MARKS, **typed})
            flagged.append(False)
    maxima = {q: _maximum(students, q) for q in questions}
    csv_path = path.with_suffix(".csv")
    partial = path.with_name(path.name + ".part")
    try:
        _write_xlsx(partial, header, rows, flagged, maxima)
        write_csv(csv_path, header, ([_csv_text(row.get(c)) for c in header] for row in rows))
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    # One time for both, so that the next export knows which one the tutor saves after this.
    written = path.stat()
    os.utime(csv_path, ns=(written.st_atime_ns, written.st_mtime_ns))
    return WrittenWorksheet(path, csv_path, len(rows), len(kept))


def read_worksheet(path: Path, students: Sequence[StudentMarks]) -> dict[str, ThirdMarks]:
    """The third marks typed into a worksheet, by PI, for students with any typed; raises
    WorksheetError listing every problem with its row (see the module's docstring)."""
    questions = _questions(students)
    maxima = {q: _maximum(students, q) for q in questions}
    known = {s.pi for s in students}
    table = _read_cells(path)
    if not table:
        raise WorksheetError(path, [RowProblem(1, "no header row")])
    header = [_text(cell).strip() for cell, _formula in table[0]]
    wanted = ["PI", *(third_column(q) for q in questions), COMMENT]
    where: dict[str, int] = {}
    for position, name in enumerate(header):
        plain_name = _unquoted(name)
        if plain_name in (*wanted, *FIXED_COLUMNS) and plain_name not in where:
            where[plain_name] = position
    missing = [name for name in wanted if name not in where]
    if missing:
        raise WorksheetError(path, [RowProblem(1, f"missing column(s) {', '.join(missing)}")])
    problems: list[RowProblem] = []
    found: dict[str, ThirdMarks] = {}
    rows_of: dict[str, int] = {}
    for number, cells in enumerate(table[1:], start=2):
        if all(_blank(value) for value, _formula in cells):
            continue
        said: list[str] = []
        pi = _row_pi(_at(cells, where["PI"])[0], known, rows_of, number, said)
        marks: list[tuple[str, Fraction]] = []
        blank: list[str] = []
        for question in questions:
            value, formula = _at(cells, where[third_column(question)])
            if formula:
                said.append(f"the third mark for {question} is a formula; type the number")
            elif _blank(value):
                blank.append(question)
            else:
                mark = _third_mark(value, question, maxima[question], said)
                if mark is not None:
                    marks.append((question, mark))
        comment_value, comment_formula = _at(cells, where[COMMENT])
        comment = "" if _blank(comment_value) else _unquoted(_text(comment_value).strip())
        if comment_formula:
            said.append("the comment is a formula; type the text")
        elif len(comment) > MAX_COMMENT:
            said.append(
                f"the comment is {len(comment)} characters; OSCAR takes at most {MAX_COMMENT}"
            )
        typed_any = len(blank) < len(questions)
        if typed_any and blank:
            said.append(f"no third mark for {', '.join(blank)} (give every question a mark)")
        elif not typed_any and (comment or comment_formula):
            said.append("a comment but no third marks")
        problems.extend(RowProblem(number, message) for message in said)
        if pi and not said and typed_any:
            name, code = (_optional_text(cells, where, column) for column in FIXED_COLUMNS[1:])
            found[pi] = ThirdMarks(pi, tuple(marks), comment, number, name, code)
    if problems:
        raise WorksheetError(path, problems)
    return found


def _optional_text(
    cells: Sequence[tuple[object, bool]], where: Mapping[str, int], column: str
) -> str:
    """The text of a column the worksheet may lack (Name, Confirmation code), as typed; ""
    when the column is missing, the cell blank or a formula."""
    if column not in where:
        return ""
    value, formula = _at(cells, where[column])
    return "" if formula or _blank(value) else _unquoted(_text(value).strip())


def _at(cells: Sequence[tuple[object, bool]], position: int) -> tuple[object, bool]:
    """A row's cell (value, is a formula); an empty one past the row's end."""
    return cells[position] if position < len(cells) else (None, False)


def _questions(students: Sequence[StudentMarks]) -> list[str]:
    return list(dict.fromkeys(q.question for s in students for q in s.questions))


def _maximum(students: Sequence[StudentMarks], question: str) -> Fraction:
    return next(q.maximum for s in students for q in s.questions if q.question == question)


def _number(value: Fraction | None) -> object:
    """A mark as a workbook number (int when whole), or None."""
    if value is None:
        return None
    if value.denominator == 1:
        return int(value)
    return float(Decimal(shown_number(value)))


def _student_row(
    student: StudentMarks, decision: Decision, codes: Mapping[str, tuple[str, str]]
) -> dict[str, object]:
    name, code = codes.get(student.pi, ("", ""))
    row: dict[str, object] = {
        "PI": student.pi,
        "Name": student.name or name,
        "Confirmation code": code,
        "First total %": _percent(decision.first_percent),
        "Second total %": _percent(decision.second_percent),
        "Difference": _percent(decision.difference),
        "Reason": decision.reason,
    }
    for question in student.questions:
        row[first_column(question.question)] = _number(question.first)
        row[second_column(question.question)] = _number(question.second)
    return row


def _percent(value: Fraction | None) -> float | None:
    return None if value is None else float(shown(value))


def _csv_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return shown_number(Fraction(Decimal(repr(value))))
    return str(value)


def filled_in(path: Path) -> Path | None:
    """The copy of the worksheet ``path`` (.xlsx) the tutor saved last: writing the worksheet
    gives it and its .csv copy one time, so the .xlsx unless the .csv was saved since; None
    when neither is there."""
    files = [source for source in (path, path.with_suffix(".csv")) if source.exists()]
    if not files:
        return None
    return max(files, key=lambda file: (file.stat().st_mtime_ns, file == path))


def _typed_earlier(path: Path, questions: Sequence[str]) -> dict[str, dict[str, object]]:
    """What the tutor typed into an earlier worksheet: third marks and comments by PI, as typed
    (numbers stay numbers, text stays text; a mark typed into the .csv as the number it is).

    Either file may be the one they filled in, so it is read from the one saved last: writing
    the worksheet gives both one time, so the .xlsx unless the .csv was saved since.

    Raises WorksheetError, so that nothing typed is written over, when the earlier file cannot
    be read, is no worksheet (no PI column), or holds typed values that could not be kept: on a
    row without a usable PI, twice for one PI, or for a question the marks no longer have.
    """
    source = filled_in(path)
    if source is None:
        return {}
    return {
        pi: {name: _typed_number(name, value) for name, value in values.items()}
        for pi, values in _typed_in(source, questions).items()
    }


def _typed_number(name: str, value: object) -> object:
    """A third mark typed into the .csv (text) as the number it is, so the workbook holds a
    number its check accepts; anything else as typed."""
    if name == COMMENT or not isinstance(value, str):
        return value
    try:
        return _number(parse_number(value))
    except ValueError:
        return value


def _typed_in(source: Path, questions: Sequence[str]) -> dict[str, dict[str, object]]:
    """The third marks and comments typed into one earlier worksheet file, by PI;
    WorksheetError as for `_typed_earlier`."""
    move_aside = f"move {source.name} aside or write the worksheet elsewhere"
    try:
        table = _read_cells(source)
    except MarksFileError as err:
        problems = [RowProblem(p.row, f"{p.message}: {move_aside}") for p in err.problems]
        raise WorksheetError(source, problems) from None
    if not table:
        return {}
    header = [_unquoted(_text(cell).strip()) for cell, _formula in table[0]]
    if "PI" not in header:
        problem = RowProblem(
            1, f"no PI column, so this is no third-marking worksheet: {move_aside}"
        )
        raise WorksheetError(source, [problem])
    current = {third_column(q) for q in questions}
    typed_columns = [
        name for name in header if name == COMMENT or name in current or name.startswith("Third ")
    ]
    kept: dict[str, dict[str, object]] = {}
    kept_row: dict[str, int] = {}
    problems: list[RowProblem] = []
    for number, cells in enumerate(table[1:], start=2):
        values = {
            name: cells[header.index(name)][0] if header.index(name) < len(cells) else None
            for name in ("PI", *typed_columns)
        }
        typed = {name: values[name] for name in typed_columns if not _blank(values[name])}
        if not typed:
            continue
        gone = [name for name in typed if name != COMMENT and name not in current]
        if gone:
            problems.append(
                RowProblem(
                    number,
                    f"{', '.join(gone)} typed, but the marks have no such question: {move_aside}",
                )
            )
        try:
            pi = normalise_pi(_text(values["PI"]))
        except ValueError:
            problems.append(RowProblem(number, f"marks typed on a row with no PI: {move_aside}"))
            continue
        if pi in kept:
            problems.append(
                RowProblem(number, f"{pi} is typed for on row {kept_row[pi]} too: {move_aside}")
            )
            continue
        kept[pi], kept_row[pi] = typed, number
    if problems:
        raise WorksheetError(source, problems)
    return kept


def _read_cells(path: Path) -> list[list[tuple[object, bool]]]:
    """Every row of a worksheet as (value, is a formula) cells. An .xlsx is read with openpyxl,
    formulas as written (not their results); a .csv as text, where a cell starting with "=" is
    a formula someone typed."""
    if path.suffix.lower() != ".xlsx":
        return [[(cell, cell.startswith("=")) for cell in row] for row in read_table(path)]
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, data_only=False)
    except Exception as err:  # openpyxl raises many kinds for a file that is no workbook
        reason = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
        problem = RowProblem(None, f"cannot be read as an Excel workbook ({reason})")
        raise WorksheetError(path, [problem]) from None
    sheet = book[SHEET_TITLE] if SHEET_TITLE in book.sheetnames else book.worksheets[0]
    rows: list[list[tuple[object, bool]]] = []
    for row in sheet.iter_rows(min_row=1):
        rows.append([(cell.value, cell.data_type == "f") for cell in row])
    return rows


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _unquoted(text: str) -> str:
    """Text as the tutor typed it, without the quotes `neutralise` put before formula
    characters (the reverse of it)."""
    return _NEUTRALISED.sub("", text)


def _row_pi(
    value: object, known: set[str], rows_of: dict[str, int], number: int, said: list[str]
) -> str | None:
    text = _text(value).strip()
    if not text:
        said.append("no PI")
        return None
    try:
        pi = normalise_pi(text)
    except ValueError:
        said.append(f"{text[:40]!r} is not a student PI (a letter and seven digits)")
        return None
    if pi not in known:
        said.append(f"{pi} is not one of the students in the marks")
        return None
    if pi in rows_of:
        said.append(f"{pi} is already on row {rows_of[pi]}")
        return None
    rows_of[pi] = number
    return pi


def _third_mark(
    value: object, question: str, maximum: Fraction, said: list[str]
) -> Fraction | None:
    """A typed third mark, checked; None (with the problem said) when it is no good."""
    if isinstance(value, bool) or isinstance(value, (datetime, date, time)):
        said.append(f"the third mark for {question} is not a number")
        return None
    if isinstance(value, float):
        text = repr(value)
    else:
        text = _text(value)
    try:
        mark = parse_number(text)
    except ValueError:
        said.append(f"the third mark for {question} ({text.strip()[:40]!r}) is not a number")
        return None
    if not 0 <= mark <= maximum:
        said.append(
            f"the third mark for {question} ({shown_number(mark)}) is not between 0 and "
            f"{shown_number(maximum)}"
        )
        return None
    if (mark * 10**MARK_DECIMALS).denominator != 1:
        said.append(
            f"the third mark for {question} ({text.strip()}) has more than {MARK_DECIMALS} "
            "decimal places"
        )
        return None
    return mark


def _write_xlsx(
    path: Path,
    header: list[str],
    rows: Iterable[Mapping[str, object]],
    flagged: Sequence[bool],
    maxima: Mapping[str, Fraction],
) -> None:
    """The workbook a tutor fills in (see the module's docstring)."""
    from openpyxl import Workbook  # heavy: imported only when a worksheet is written
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_TITLE
    bold = Font(bold=True)
    highlight = PatternFill("solid", fgColor=HIGHLIGHT)
    to_fill = PatternFill("solid", fgColor=TO_FILL)
    fill_columns = {third_column(q) for q in maxima} | {COMMENT}
    widths = [len(name) for name in header]
    for number, name in enumerate(header, start=1):
        cell = sheet.cell(row=1, column=number, value=_xlsx_text(name))
        cell.data_type = "s"
        cell.font = bold
        if name in fill_columns:
            cell.fill = to_fill
    last = 1
    for last, (row, is_flagged) in enumerate(zip(rows, flagged, strict=True), start=2):
        for number, name in enumerate(header, start=1):
            value = row.get(name)
            if _blank(value):
                continue
            cell = sheet.cell(row=last, column=number)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                cell.value = value
            else:
                cell.value = _xlsx_text(_text(value))
                cell.data_type = "s"
            if name == "Reason" and is_flagged:
                cell.fill = highlight
            if name == COMMENT:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            longest = max(len(line) for line in _text(cell.value).split("\n"))
            widths[number - 1] = max(widths[number - 1], longest)
    for number, name in enumerate(header, start=1):
        limit = MAX_WIDTH.get(name, DEFAULT_MAX_WIDTH)
        width = max(min(widths[number - 1], limit), 8 if name in fill_columns else 0) + 2
        sheet.column_dimensions[get_column_letter(number)].width = width
    if last >= 2:
        for question, maximum in maxima.items():
            letter = get_column_letter(header.index(third_column(question)) + 1)
            check = DataValidation(
                type="decimal",
                operator="between",
                formula1="0",
                formula2=shown_number(maximum),
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="Not a mark",
                error=f"A third mark for {question} is a number from 0 to {shown_number(maximum)}.",
                showInputMessage=True,
                promptTitle=f"Third mark for {question}",
                prompt=f"0 to {shown_number(maximum)}",
            )
            check.add(f"{letter}2:{letter}{last}")
            sheet.add_data_validation(check)
        letter = get_column_letter(header.index(COMMENT) + 1)
        length = DataValidation(
            type="textLength",
            operator="lessThanOrEqual",
            formula1=str(MAX_COMMENT),
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Comment too long",
            error=f"OSCAR takes comments of at most {MAX_COMMENT} characters.",
        )
        length.add(f"{letter}2:{letter}{last}")
        sheet.add_data_validation(length)
    sheet.freeze_panes = "D2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{last}"
    book.save(path)


def _xlsx_text(text: str) -> str:
    """Text a workbook shows and never runs, without characters it cannot hold (control
    characters become U+FFFD, as in the codes table)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    cleaned = neutralise(text).replace("\r\n", "\n").replace("\r", "\n")
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", cleaned)
