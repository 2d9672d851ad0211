"""``flags``: who needs third marking, and why, for marks a page read from OSCAR.

The browser's marks page sends the marks as it read them, one row per student per question, and
shows what the rule (``third_marking.py``) answers: the same rule, the same rounding and the same
words as ``etma-helper flags``; nothing is recomputed in the browser. Rows are checked exactly as
a marks table is (``marks_file.parse_marks``); the first problems are named with their row and
field, and no student is answered for when any row is wrong.
"""

from __future__ import annotations

import re
from fractions import Fraction

from ..errors import ErrorCode, ProtocolError
from ..marks_file import ALL_COLUMNS, MarksFileError, parse_marks, parse_number
from ..third_marking import (
    DEFAULT_BAND_NAMES,
    Bands,
    Decision,
    Rule,
    RuleError,
    StudentMarks,
    decide_all,
    plain,
    shown,
)
from . import Reply

#: Most rows (students × questions) one request may carry.
MAX_ROWS = 20_000
#: Most students one request may carry: keeps the reply well inside one frame.
MAX_STUDENTS = 2_000
#: Longest text a cell may hold (a name; marks and PIs are far shorter).
MAX_CELL = 200
#: Most boundaries (and so one more band name) a rule may have.
MAX_BOUNDARIES = 10
#: Problems named in one error message; the rest are counted.
PROBLEMS_NAMED = 5

# The field of a row that a problem from parse_marks is about, from its words.
_FIELD_OF_PROBLEM = (
    (re.compile(r"^no PI$|is not a student PI"), "pi"),
    (re.compile(r"^the first mark"), "first"),
    (re.compile(r"^the second mark"), "second"),
    (re.compile(r"maximum"), "max"),
    (re.compile(r"weight"), "weight"),
    (re.compile(r"question"), "question"),
)


def _invalid(field: str, message: str) -> ProtocolError:
    return ProtocolError(ErrorCode.INVALID_FIELD, message, field=field)


def _cell(row: dict, key: str, index: int) -> str:
    """One cell as text: a string, a number, or null / absent (blank)."""
    value = row.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _invalid(f"rows[{index}].{key}", f"Row {index + 1}: {key} must be text or a number.")
    text = value if isinstance(value, str) else repr(value)
    if len(text) > MAX_CELL:
        raise _invalid(
            f"rows[{index}].{key}", f"Row {index + 1}: {key} is longer than {MAX_CELL} characters."
        )
    return text


def _table(raw: object) -> list[list[str]]:
    """The request's rows as a marks table (header first), each cell checked for its type."""
    if not isinstance(raw, list) or not raw:
        raise _invalid(
            "rows", "'rows' must be a list of the marks, one row per student per question."
        )
    if len(raw) > MAX_ROWS:
        raise _invalid("rows", f"At most {MAX_ROWS} rows of marks at once, not {len(raw)}.")
    table = [list(ALL_COLUMNS)]
    for index, row in enumerate(raw):
        if not isinstance(row, dict):
            raise _invalid(f"rows[{index}]", f"Row {index + 1} must be an object.")
        cells = [_cell(row, key.lower(), index) for key in ALL_COLUMNS]
        if not any(cell.strip() for cell in cells):
            raise _invalid(f"rows[{index}]", f"Row {index + 1} is empty.")
        table.append(cells)
    return table


def _where(table: list[list[str]], index: int) -> str:
    """ "Row 4 (P1234567, Q2)": a request row as the tutor would find it on the page."""
    pi, question = table[index + 1][0].strip(), table[index + 1][1].strip()
    known = ", ".join(part[:40] for part in (pi, question) if part)
    return f"Row {index + 1}" + (f" ({known})" if known else "")


def _problem_error(err: MarksFileError, table: list[list[str]]) -> ProtocolError:
    """The table's problems as one INVALID_FIELD error naming the first problem's row and field."""
    problems = err.problems
    first = problems[0]
    if first.row is None or first.row < 2:
        return _invalid("rows", f"The marks cannot be used: {first.message}.")
    index = first.row - 2  # spreadsheet row 2 is the request's first row
    field = next((name for words, name in _FIELD_OF_PROBLEM if words.search(first.message)), "")
    lines = [
        f"{_where(table, p.row - 2)}: {_request_rows(p.message)}"
        for p in problems[:PROBLEMS_NAMED]
        if p.row is not None and p.row >= 2
    ]
    more = len(problems) - len(lines)
    text = "; ".join(lines) + (f"; and {more} more" if more > 0 else "")
    return _invalid(f"rows[{index}]" + (f".{field}" if field else ""), f"{text}.")


def _request_rows(message: str) -> str:
    """A problem's words with its spreadsheet row numbers ("on row 5") as request rows (4)."""
    return re.sub(r"on row (\d+)", lambda m: f"on row {int(m.group(1)) - 1}", message)


def _number(raw: object, field: str) -> Fraction:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise _invalid(field, f"'{field}' must be a number.")
    try:
        return parse_number(raw if isinstance(raw, str) else repr(raw))
    except ValueError:
        raise _invalid(field, f"'{field}' must be a number, not {str(raw)[:40]!r}.") from None


def _rule(message: dict) -> Rule:
    """The rule the request asks for: the defaults where it names none."""
    threshold = message.get("threshold")
    boundaries = message.get("boundaries")
    names = message.get("bands")
    try:
        bands = Bands()
        if boundaries is not None or names is not None:
            if boundaries is None:
                boundaries = [plain(b) for b in bands.boundaries]
            if not isinstance(boundaries, list) or not 0 < len(boundaries) <= MAX_BOUNDARIES:
                raise _invalid(
                    "boundaries",
                    f"'boundaries' must be a list of 1 to {MAX_BOUNDARIES} percentages.",
                )
            parsed = tuple(_number(b, "boundaries") for b in boundaries)
            if names is None:
                if len(parsed) != len(DEFAULT_BAND_NAMES) - 1:
                    raise _invalid(
                        "bands",
                        f"{len(parsed)} boundaries need their band names: {len(parsed) + 1} "
                        "names, highest first.",
                    )
                names = list(DEFAULT_BAND_NAMES)
            if not isinstance(names, list) or not all(
                isinstance(n, str) and len(n) <= MAX_CELL for n in names
            ):
                raise _invalid("bands", "'bands' must be a list of band names.")
            try:
                bands = Bands(parsed, tuple(n.strip() for n in names))
            except RuleError as err:
                field = "bands" if "name" in str(err) else "boundaries"
                raise _invalid(field, str(err)) from None
        if threshold is None:
            return Rule(bands=bands)
        return Rule(threshold=_number(threshold, "threshold"), bands=bands)
    except RuleError as err:
        raise _invalid("threshold", str(err)) from None


def _student(decision: Decision) -> dict:
    return {
        "pi": decision.pi,
        "first_percent": shown(decision.first_percent),
        "second_percent": shown(decision.second_percent),
        "difference": shown(decision.difference),
        "first_band": decision.first_band,
        "second_band": decision.second_band,
        "third_marking": decision.third_marking,
        "complete": decision.complete,
        "reason": decision.reason,
    }


def marks_of(message: dict) -> list[StudentMarks]:
    """The students' marks a request's ``rows`` carry, checked as a marks table is; the
    problems as one INVALID_FIELD error (see the module's docstring)."""
    table = _table(message.get("rows"))
    try:
        students = parse_marks(table, "the marks page")
    except MarksFileError as err:
        raise _problem_error(err, table) from None
    if len(students) > MAX_STUDENTS:
        raise _invalid("rows", f"At most {MAX_STUDENTS} students at once, not {len(students)}.")
    return students


def marks_and_rule(message: dict) -> tuple[list[StudentMarks], Rule]:
    """The students' marks and the rule a marks-page request carries (``rows``, ``threshold``,
    ``boundaries``, ``bands``), checked with the limits above; an INVALID_FIELD error naming the
    first bad row and field, or the rule's field, when anything is wrong. ``flags`` and
    ``export_worksheet`` read their requests with it."""
    rule = _rule(message)
    return marks_of(message), rule


def handle(host, message: dict) -> Reply:
    students, rule = marks_and_rule(message)
    decisions = decide_all(students, rule)
    return Reply(
        {
            "threshold": plain(rule.threshold),
            "boundaries": [plain(b) for b in rule.bands.boundaries],
            "bands": list(rule.bands.names),
            "students": [_student(d) for d in decisions],
            "flagged": sum(d.third_marking for d in decisions),
            "incomplete": sum(not d.complete for d in decisions),
        }
    )
