"""Reading a marks table (CSV or Excel) into each student's marks, checked row by row.

The table is long format, one row per student per question, with a header row naming the
columns (any order, any letter case): ``PI``, ``question``, ``max``, ``weight`` (optional, 1 when
absent or blank), ``first``, ``second``, and optionally ``name``. A blank mark is a mark not given
yet; blank rows are skipped. Rows are numbered as a spreadsheet shows them: the header is row 1.

Every problem in the file is reported, each with its row (`MarksFileError`); a table with any
problem gives no marks at all. PIs and question names are kept as text ("007" stays "007").
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

from .export import neutralise
from .protocol import normalise_pi
from .records import clean_name
from .third_marking import QuestionMarks, StudentMarks, shown

REQUIRED_COLUMNS = ("PI", "question", "max", "first", "second")
OPTIONAL_COLUMNS = ("weight", "name")
ALL_COLUMNS = ("PI", "question", "max", "weight", "first", "second", "name")
#: Problems shown in an error message; the rest are counted.
MAX_PROBLEMS_SHOWN = 50
#: Longest number text read as a mark (a longer one is a mistake, not a mark).
MAX_NUMBER_TEXT = 30


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong with a table, at a spreadsheet row (1 = the header; None = the file)."""

    row: int | None
    message: str

    def __str__(self) -> str:
        return self.message if self.row is None else f"row {self.row}: {self.message}"


class MarksFileError(ValueError):
    """A table that cannot be used as it is, with every problem found in it."""

    def __init__(self, path: Path | str, problems: list[RowProblem]) -> None:
        self.path = Path(path)
        self.problems = problems
        super().__init__(self.describe())

    def describe(self, limit: int = MAX_PROBLEMS_SHOWN) -> str:
        """The problems, one a line, the first ``limit`` of them."""
        count = len(self.problems)
        lines = [f"{self.path.name}: {count} problem{'' if count == 1 else 's'}:"]
        lines += [f"  {problem}" for problem in self.problems[:limit]]
        if count > limit:
            lines.append(f"  … and {count - limit} more")
        return "\n".join(lines)


def parse_number(text: str) -> Fraction:
    """A number as a tutor types it ("7", "7.5", " 12 ") exactly; ValueError if it is not one."""
    cleaned = text.strip()
    if not cleaned or len(cleaned) > MAX_NUMBER_TEXT:
        raise ValueError(text)
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(text) from None
    if not number.is_finite():
        raise ValueError(text)
    return Fraction(number)


def read_table(path: Path) -> list[list[str]]:
    """Every row of a CSV or the first sheet of an .xlsx as text cells ("" when empty), the
    header first; row ``i`` of the list is spreadsheet row ``i + 1``. MarksFileError when the
    file cannot be read as a table."""
    import pandas as pd  # heavy: imported only when a table is read

    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            try:
                frame = _read_csv(pd, path, "utf-8-sig")
            except UnicodeDecodeError:
                # Excel on Windows saves "CSV" in the system's code page.
                frame = _read_csv(pd, path, "cp1252")
        elif suffix == ".xlsx":
            frame = pd.read_excel(path, header=None, dtype=str, engine="openpyxl")
        else:
            raise MarksFileError(path, [RowProblem(None, "a marks table is a .csv or .xlsx file")])
    except MarksFileError:
        raise
    except FileNotFoundError:
        raise MarksFileError(path, [RowProblem(None, "no such file")]) from None
    except pd.errors.EmptyDataError:
        return []
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, pd.errors.ParserError) as err:
        # openpyxl reports a file that is no workbook as a zip or key error.
        reason = (
            getattr(err, "strerror", None) or (str(err).splitlines() or [type(err).__name__])[0]
        )
        reason = reason[:200]
        problem = RowProblem(None, f"cannot be read as a table ({reason})")
        raise MarksFileError(path, [problem]) from None
    frame = frame.fillna("")
    return [[str(cell) for cell in row] for row in frame.itertuples(index=False, name=None)]


def _read_csv(pd, path: Path, encoding: str):
    return pd.read_csv(
        path,
        header=None,
        dtype=str,
        keep_default_na=False,
        skip_blank_lines=False,  # keep rows where the spreadsheet has them
        encoding=encoding,
    )


def read_marks(path: Path | str) -> list[StudentMarks]:
    """Each student's marks from a marks table, students in the order they first appear and
    questions in the order the table first names them. A student with no row for a question
    another student has is missing both marks for it ("marks incomplete").

    Raises MarksFileError naming every problem by row: unknown, missing or repeated columns; a
    PI that is not a PI; a blank question; a maximum that is not a number above 0, or that
    differs from the same question's maximum on an earlier row (likewise the weight); a mark
    that is not a number, is negative or is above the question's maximum; a question given
    twice for one student; a table with no marks.
    """
    path = Path(path)
    return parse_marks(read_table(path), path)


def parse_marks(rows: Sequence[Sequence[str]], source: Path | str) -> list[StudentMarks]:
    """Each student's marks from a table's rows of text cells, the header first (as
    `read_table` gives them, or as marks read from a page); `read_marks` says what is checked.
    ``source`` names the table in errors."""
    path = Path(source)
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise MarksFileError(path, [RowProblem(1, f"no header row ({', '.join(ALL_COLUMNS)})")])
    columns, header_problems = _columns(rows[0])
    if header_problems:
        raise MarksFileError(path, header_problems)
    problems: list[RowProblem] = []
    # question -> (maximum, weight, row first seen)
    questions: dict[str, tuple[Fraction, Fraction, int]] = {}
    # pi -> question -> (first, second, row)
    marks: dict[str, dict[str, tuple[Fraction | None, Fraction | None, int]]] = {}
    names: dict[str, str] = {}
    for index, raw in enumerate(rows[1:], start=2):
        cells = {
            name: raw[position].strip() if position < len(raw) else ""
            for name, position in columns.items()
        }
        if not any(cell.strip() for cell in raw):
            continue
        row_problems: list[str] = []
        pi = _pi(cells["PI"], row_problems)
        question = cells["question"]
        if not question:
            row_problems.append("no question")
        maximum = _positive(cells["max"], "maximum", row_problems)
        weight = _positive(cells.get("weight", "") or "1", "weight", row_problems)
        if question and maximum is not None and weight is not None:
            known = questions.setdefault(question, (maximum, weight, index))
            if known[0] != maximum:
                row_problems.append(
                    f"question {question} has maximum {shown_number(maximum)} here but "
                    f"{shown_number(known[0])} on row {known[2]}"
                )
            elif known[1] != weight:
                row_problems.append(
                    f"question {question} has weight {shown_number(weight)} here but "
                    f"{shown_number(known[1])} on row {known[2]}"
                )
        first = _mark(cells["first"], "first", maximum, row_problems)
        second = _mark(cells["second"], "second", maximum, row_problems)
        if pi and question:
            given = marks.setdefault(pi, {})
            if question in given:
                row_problems.append(
                    f"question {question} for {pi} is already on row {given[question][2]}"
                )
            else:
                given[question] = (first, second, index)
            name = clean_name(cells.get("name", ""))
            if name and pi not in names:
                names[pi] = name
        problems.extend(RowProblem(index, message) for message in row_problems)
    if not problems and not marks:
        problems.append(RowProblem(None, "no marks: the table has a header and nothing else"))
    if problems:
        raise MarksFileError(path, problems)
    return [
        StudentMarks(
            pi=pi,
            name=names.get(pi, ""),
            questions=tuple(
                QuestionMarks(
                    question=question,
                    maximum=maximum,
                    weight=weight,
                    first=given.get(question, (None, None, 0))[0],
                    second=given.get(question, (None, None, 0))[1],
                )
                for question, (maximum, weight, _row) in questions.items()
            ),
        )
        for pi, given in marks.items()
    ]


def shown_number(value: Fraction) -> str:
    """A maximum, weight or mark as typed: 20 as "20", 7.5 as "7.5"."""
    text = shown(value, 6)
    return text.rstrip("0").rstrip(".")


def _columns(header: list[str]) -> tuple[dict[str, int], list[RowProblem]]:
    """Where each column is, by its name in any letter case; the header's problems."""
    by_lower = {name.lower(): name for name in ALL_COLUMNS}
    columns: dict[str, int] = {}
    problems: list[RowProblem] = []
    expected = ", ".join(ALL_COLUMNS)
    for position, raw in enumerate(header):
        text = raw.strip()
        if not text:
            continue
        name = by_lower.get(text.lower())
        if name is None:
            problems.append(RowProblem(1, f"unknown column {text!r} (the columns are {expected})"))
        elif name in columns:
            problems.append(RowProblem(1, f"the column {name!r} is there twice"))
        else:
            columns[name] = position
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        problems.append(
            RowProblem(
                1,
                f"missing column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} (the columns are {expected})",
            )
        )
    return columns, problems


def _pi(raw: str, problems: list[str]) -> str | None:
    if not raw:
        problems.append("no PI")
        return None
    try:
        return normalise_pi(raw)
    except ValueError:
        problems.append(f"{raw[:40]!r} is not a student PI (a letter and seven digits)")
        return None


def _positive(raw: str, what: str, problems: list[str]) -> Fraction | None:
    if not raw:
        problems.append(f"no {what}")
        return None
    try:
        number = parse_number(raw)
    except ValueError:
        problems.append(f"the {what} {raw[:40]!r} is not a number")
        return None
    if number <= 0:
        problems.append(f"the {what} {raw} is not above 0")
        return None
    return number


def _mark(raw: str, marker: str, maximum: Fraction | None, problems: list[str]) -> Fraction | None:
    """A marker's mark (None when blank: not given yet)."""
    if not raw:
        return None
    try:
        mark = parse_number(raw)
    except ValueError:
        problems.append(f"the {marker} mark {raw[:40]!r} is not a number")
        return None
    if mark < 0:
        problems.append(f"the {marker} mark {raw} is negative")
    elif maximum is not None and mark > maximum:
        problems.append(f"the {marker} mark {raw} is above the maximum {shown_number(maximum)}")
    return mark


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """Write a table as CSV all at once: to a partial file first, then renamed over ``path``, so
    a failure leaves nothing half-written. Every cell is formula-neutralised (export.py)."""
    partial = path.with_name(path.name + ".part")
    try:
        with partial.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL)
            writer.writerow([neutralise(name) for name in header])
            for row in rows:
                writer.writerow([neutralise(value) for value in row])
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path
