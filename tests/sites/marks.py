"""The practice OSCAR's marks: what a third marker sees.

- The assignment's marks page (``/oscar/assignmentMarks?module=…&assignment=…``): one table with
  a column per question (OSCAR's marking categories), each question's maximum and weighting, and
  per student a row for the first marker and a row for the second (a blank cell: no mark yet).
- One student's marks (``/oscar/marks?…&pi=…``): the same, with both totals and OSCAR's answer
  to "third marking required".
- The third-marks form (``/oscar/thirdMarks?…&pi=…``), there only once the student's
  confirmation code has unlocked third marking: a field per question and a comments box. OSCAR
  checks it (a number from 0 to the question's maximum for every question, comments within
  `MAX_COMMENTS`), shows each error next to its field and saves nothing until all are right;
  saved marks are shown back, above the form, which keeps them. Every form sent is recorded
  (``sites.third_marks_posts``); a student in ``sites.refuse_third_marks`` is refused with those
  words above the form (as OSCAR does for a record another user is editing), and nothing saved.

Old-style HTML like the rest of the site; the extension reads it by meaning (captions, labels,
header words), never by these ids.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from .base import esc
from .cohort import Cohort, Student, total_percent

if TYPE_CHECKING:
    from .oscar import OscarHandler

ASSIGNMENT_MARKS_PATH = "/oscar/assignmentMarks"
THIRD_MARKS_PATH = "/oscar/thirdMarks"
#: OSCAR's limit on a third marker's comments, in characters.
MAX_COMMENTS = 2000
#: A mark as OSCAR takes it: a whole number or up to two decimal places.
_MARK = re.compile(r"-?\d{1,3}(\.\d{1,2})?")
MARKS_CSV_COLUMNS = ("PI", "name", "question", "max", "weight", "first", "second")


@dataclass(frozen=True)
class SavedThirdMarks:
    """A student's third marks as OSCAR saved them: the text of each question's mark, by
    question name, and the comments."""

    marks: dict[str, str]
    comments: str


def marks_path(cohort: Cohort) -> str:
    """Path and query of the assignment's marks page."""
    return f"{ASSIGNMENT_MARKS_PATH}?{urlencode(_ids(cohort))}"


def third_marks_path(cohort: Cohort, pi: str) -> str:
    """Path and query of one student's third-marks form."""
    return f"{THIRD_MARKS_PATH}?{urlencode({**_ids(cohort), 'pi': pi})}"


def write_marks_csv(cohort: Cohort, path: Path) -> Path:
    """The marks the marks page shows, as the long-format table ``etma-helper flags`` reads."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=MARKS_CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(cohort.marks_rows())
    return path


def _ids(cohort: Cohort) -> dict[str, str]:
    return {"module": cohort.module, "assignment": cohort.assignment}


def _label(cohort: Cohort) -> str:
    from .oscar import assignment_label

    return f"Module {cohort.module} – Assignment {assignment_label(cohort.assignment)}"


def _cell(mark: int | None) -> str:
    return "<td>&nbsp;</td>" if mark is None else f'<td align="right">{mark}</td>'


def _question_rows(cohort: Cohort, lead_columns: int, trailing: str = "") -> tuple[str, str]:
    """The rows giving each question's maximum and weighting, and the questions' header
    cells."""
    span = f' colspan="{lead_columns}" align="right"' if lead_columns > 1 else ""
    names = "".join(f"<th>{esc(q.name)}</th>" for q in cohort.questions)
    maxima = "".join(f'<td align="right">{q.maximum}</td>' for q in cohort.questions)
    weights = "".join(f'<td align="right">{q.weight}</td>' for q in cohort.questions)
    return (
        f"<tr><th{span}>Maximum mark</th>{maxima}{trailing}</tr>"
        f"<tr><th{span}>Weighting</th>{weights}{trailing}</tr>",
        names,
    )


def assignment_marks_page(handler: OscarHandler) -> None:
    """Every allocated student's first and second marks, question by question."""
    cohort = handler.sites.cohort
    module = handler.query.get("module", "").strip().upper()
    assignment = handler.query.get("assignment", "").strip().upper().replace(" ", "")
    if (module, assignment) != (cohort.module, cohort.assignment):
        handler.send_page(
            "Marks", f"<h2>Marks</h2><p>No marks found for module {esc(module or '(none)')}</p>"
        )
        return
    limits, names = _question_rows(cohort, 3, "<td>&nbsp;</td>")
    rows = []
    for index, student in enumerate(cohort.students):
        marks = cohort.marks[student.pi]
        shade = ' bgcolor="#eeeeee"' if index % 2 else ""
        link = third_marks_path(cohort, student.pi)
        if student.pi in handler.sites.third_marks:
            third = f'<a href="{esc(link)}">Third marks saved</a>'
        elif student.pi in handler.sites.unlocked:
            third = f'<a href="{esc(link)}">Enter third marks</a>'
        else:
            third = '<font size="-1">Locked: confirmation code needed</font>'
        first = "".join(_cell(mark) for mark in marks.first)
        second = "".join(_cell(mark) for mark in marks.second)
        rows.append(
            f'<tr{shade}><td rowspan="2">{esc(student.name)}</td>'
            f'<td rowspan="2">{esc(student.pi)}</td><td>First marker</td>{first}'
            f'<td rowspan="2">{third}</td></tr>'
            f"<tr{shade}><td>Second marker</td>{second}</tr>"
        )
    table = (
        '<table border="1" cellpadding="3" cellspacing="0" class="marks">'
        "<caption>First and second marks by question</caption>"
        '<tr bgcolor="#cccccc"><th>Student name</th><th>PI</th><th>Marker</th>'
        f"{names}<th>Third marking</th></tr>{limits}{''.join(rows)}</table>"
    )
    back = f'<p><a href="{esc(handler.sites.allocation_path)}">Back to work allocation</a></p>'
    handler.send_page(
        "Marks",
        f"<h2>Marks</h2><h3>{esc(_label(cohort))}</h3>"
        f"<p>{len(cohort.students)} students allocated.</p>{table}{back}",
    )


def student_marks_page(handler: OscarHandler, student: Student) -> None:
    """One student's marks by question, both totals, and whether third marking is required."""
    cohort = handler.sites.cohort
    marks = cohort.marks[student.pi]
    limits, names = _question_rows(cohort, 1, "<td>&nbsp;</td>")
    totals = [total_percent(marks.first), total_percent(marks.second)]
    total_cells = [
        "<td>&nbsp;</td>" if t is None else f'<td align="right">{float(t):.1f}%</td>'
        for t in totals
    ]
    required = {True: "Yes", False: "No", None: "Not yet: marks incomplete"}[
        cohort.third_marking_required(student.pi)
    ]
    first = "".join(_cell(mark) for mark in marks.first)
    second = "".join(_cell(mark) for mark in marks.second)
    handler.send_page(
        "First and second marks",
        f"<h2>First and second marks</h2><p>{esc(student.name)} ({esc(student.pi)})</p>"
        '<table border="1" cellpadding="3" cellspacing="0" class="marks">'
        f'<tr bgcolor="#cccccc"><th>Marker</th>{names}<th>Total</th></tr>{limits}'
        f"<tr><th>First marker</th>{first}{total_cells[0]}</tr>"
        f"<tr><th>Second marker</th>{second}{total_cells[1]}</tr></table>"
        f"<p><b>Third marking required:</b> {required}</p>"
        f'<p><a href="{esc(marks_path(cohort))}">All marks for the assignment</a> | '
        f'<a href="{esc(handler.sites.allocation_path)}">Back to work allocation</a></p>',
    )


def third_marks_page(handler: OscarHandler, method: str) -> None:
    """The third-marks form: shown (GET), or checked and saved (POST)."""
    values = handler.form if method == "POST" else handler.query
    student = handler._student_or_error(values)
    if student is None:
        return
    sites = handler.sites
    if student.pi not in sites.unlocked:
        handler.send_page(
            "Third marks",
            f"<h2>Third marks</h2><p><b>Third marking is locked for {esc(student.pi)}.</b> "
            "Enter the student's confirmation code on the "
            f'<a href="{esc(sites.allocation_path)}">work allocation</a> page to unlock it.</p>',
        )
        return
    if method != "POST":
        saved = sites.third_marks.get(student.pi)
        typed = saved.marks if saved else {}
        comments = saved.comments if saved else ""
        _send_form(handler, student, typed, comments, {}, "")
        return
    sites.record_third_marks_post(student.pi)
    typed = {
        q.name: handler.form.get(f"mark{n}", "")
        for n, q in enumerate(handler.sites.cohort.questions, 1)
    }
    comments = handler.form.get("comments", "").replace("\r\n", "\n")
    errors = _check(handler.sites.cohort, typed, comments)
    refusal = sites.refuse_third_marks.get(student.pi)
    if refusal is not None and not errors:
        summary = f'<p><font color="#cc0000"><b>{esc(refusal)}</b></font></p>'
        _send_form(handler, student, typed, comments, {}, summary)
        return
    if errors:
        summary = (
            '<p><font color="#cc0000"><b>The third marks were not saved: correct the fields '
            "marked below.</b></font></p>"
        )
        _send_form(handler, student, typed, comments, errors, summary)
        return
    saved = SavedThirdMarks({name: text.strip() for name, text in typed.items()}, comments)
    sites.save_third_marks(student.pi, saved)
    _send_form(
        handler,
        student,
        saved.marks,
        saved.comments,
        {},
        f"<p><b>Third marks saved for {esc(student.pi)}</b></p>",
    )


def _check(cohort: Cohort, typed: dict[str, str], comments: str) -> dict[str, str]:
    """OSCAR's checks: each field's error message, by question name (or "comments")."""
    errors: dict[str, str] = {}
    for question in cohort.questions:
        text = typed[question.name].strip()
        if not text:
            errors[question.name] = "Enter a mark."
        elif not _MARK.fullmatch(text):
            errors[question.name] = "The mark must be a number (at most two decimal places)."
        elif not 0 <= Fraction(text) <= question.maximum:
            errors[question.name] = f"The mark must be between 0 and {question.maximum}."
    if len(comments) > MAX_COMMENTS:
        errors["comments"] = (
            f"Comments may be at most {MAX_COMMENTS} characters (these are {len(comments)})."
        )
    return errors


def _error(message: str | None) -> str:
    return f'<font color="#cc0000" class="error">{esc(message)}</font>' if message else ""


def _send_form(
    handler: OscarHandler,
    student: Student,
    typed: dict[str, str],
    comments: str,
    errors: dict[str, str],
    message: str,
) -> None:
    cohort = handler.sites.cohort
    marks = cohort.marks[student.pi]
    saved = handler.sites.third_marks.get(student.pi)
    shown_back = ""
    if saved is not None:
        cells = "".join(
            f'<td align="right">{esc(saved.marks[q.name])}</td>' for q in cohort.questions
        )
        heads = "".join(f"<th>{esc(q.name)}</th>" for q in cohort.questions)
        shown_back = (
            '<table border="1" cellpadding="3" cellspacing="0" class="saved">'
            f"<caption>Saved third marks</caption><tr>{heads}<th>Comments</th></tr>"
            f"<tr>{cells}<td>{esc(saved.comments)}</td></tr></table>"
        )
    hidden = "".join(
        f'<input type="hidden" name="{key}" value="{esc(value)}">'
        for key, value in {**_ids(cohort), "pi": student.pi}.items()
    )
    rows = []
    for number, (question, first, second) in enumerate(
        zip(cohort.questions, marks.first, marks.second, strict=True), start=1
    ):
        field = f"mark{number}"
        rows.append(
            f'<tr><td><label for="{field}">{esc(question.name)} third mark '
            f"(out of {question.maximum})</label></td>"
            f'<td align="right">{question.maximum}</td>{_cell(first)}{_cell(second)}'
            f'<td><input type="text" name="{field}" id="{field}" size="5" '
            f'value="{esc(typed.get(question.name, ""))}"></td>'
            f"<td>{_error(errors.get(question.name))}</td></tr>"
        )
    form = (
        f'<form method="post" action="{THIRD_MARKS_PATH}">{hidden}'
        '<table border="0" cellpadding="3">'
        "<tr><th>Question</th><th>Maximum</th><th>First marker</th><th>Second marker</th>"
        f"<th>Third mark</th><th></th></tr>{''.join(rows)}"
        '<tr><td valign="top"><label for="comments">Comments</label></td>'
        f'<td colspan="4"><textarea name="comments" id="comments" rows="6" cols="60">'
        f"{esc(comments)}</textarea></td><td>{_error(errors.get('comments'))}</td></tr>"
        '</table><input type="submit" value="Save third marks"></form>'
    )
    handler.send_page(
        "Third marks",
        f"<h2>Third marks</h2><h3>{esc(_label(cohort))}</h3>"
        f"<p>{esc(student.name)} ({esc(student.pi)})</p>{message}{shown_back}{form}"
        f'<p><a href="{esc(marks_path(cohort))}">All marks for the assignment</a></p>',
    )
