"""The third-marking worksheet: written from the practice cohort's marks, filled in with
openpyxl as a tutor would, read back checked; written again without losing what was typed."""

from __future__ import annotations

import csv
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from etma_helper.cli import EXIT_OK, EXIT_USAGE, main
from etma_helper.marks_file import read_marks
from etma_helper.third_marking import decide
from etma_helper.worksheet import (
    COMMENT,
    MAX_COMMENT,
    NOT_IN_MARKS,
    SHEET_TITLE,
    WorksheetError,
    columns_for,
    read_worksheet,
    third_column,
    write_worksheet,
)
from tests.sites import Cohort
from tests.sites.marks import write_marks_csv

QUESTIONS = ["Q1", "Q2", "Q3", "Q4", "Q5"]


@pytest.fixture(scope="module")
def cohort() -> Cohort:
    return Cohort(size=30, seed=351, module="TM351", assignment="TMA02")


@pytest.fixture()
def marks_csv(cohort, tmp_path) -> Path:
    return write_marks_csv(cohort, tmp_path / "marks.csv")


@pytest.fixture()
def students(marks_csv):
    return read_marks(marks_csv)


@pytest.fixture()
def codes_csv(cohort, tmp_path) -> Path:
    path = tmp_path / "confirmation_codes.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["PI", "Name", "Assignment", "Code", "Status"])
        for student in cohort.students:
            writer.writerow([student.pi, student.name, "TMA02", student.code, "done"])
    return path


def flagged_pis(students) -> list[str]:
    return [s.pi for s in students if decide(s).third_marking]


def sheet_rows(path: Path):
    sheet = load_workbook(path)[SHEET_TITLE]
    header = [cell.value for cell in sheet[1]]
    return sheet, header


def column(header: list[str], name: str) -> int:
    return header.index(name) + 1


def fill(path: Path, typed: dict[str, tuple[list[object], str | None]]) -> None:
    """Type third marks and comments into the workbook, by PI, as a tutor would."""
    book = load_workbook(path)
    sheet = book[SHEET_TITLE]
    header = [cell.value for cell in sheet[1]]
    for row in range(2, sheet.max_row + 1):
        pi = sheet.cell(row=row, column=1).value
        if pi not in typed:
            continue
        marks, comment = typed[pi]
        for question, mark in zip(QUESTIONS, marks, strict=True):
            sheet.cell(row=row, column=column(header, third_column(question)), value=mark)
        if comment is not None:
            sheet.cell(row=row, column=column(header, COMMENT), value=comment)
    book.save(path)


def row_of(path: Path, pi: str) -> int:
    sheet, _header = sheet_rows(path)
    return next(r for r in range(2, sheet.max_row + 1) if sheet.cell(row=r, column=1).value == pi)


def test_the_worksheet_lists_the_flagged_with_everything_a_third_marker_needs(
    tmp_path, students, cohort, codes_csv
):
    from etma_helper.worksheet import read_codes

    out = tmp_path / "TM351" / "third_marking.xlsx"
    out.parent.mkdir()
    written = write_worksheet(out, students, codes=read_codes(codes_csv))
    flagged = flagged_pis(students)
    assert written.rows == len(flagged) and written.kept == 0
    assert len(flagged) >= 8
    sheet, header = sheet_rows(out)
    assert header == columns_for(QUESTIONS)
    assert [sheet.cell(row=r, column=1).value for r in range(2, sheet.max_row + 1)] == flagged
    first = cohort.student(flagged[0])
    values = {name: sheet.cell(row=2, column=column(header, name)).value for name in header}
    assert values["Name"] == first.name and values["Confirmation code"] == first.code
    marks = cohort.marks[first.pi]
    assert [values[f"First {q}"] for q in QUESTIONS] == list(marks.first)
    assert [values[f"Second {q}"] for q in QUESTIONS] == list(marks.second)
    assert values["First total %"] == 71.7 and values["Difference"] == 3.3
    assert values["Reason"] == "straddles the Pass 2 / Pass 3 boundary (71.7% / 68.3%)"
    assert all(values[third_column(q)] is None for q in QUESTIONS) and values[COMMENT] is None
    # Made to be filled in: bold frozen header, reasons highlighted and wide enough to read.
    assert all(cell.font.bold for cell in sheet[1]) and sheet.freeze_panes == "D2"
    reason = column(header, "Reason")
    assert sheet.cell(row=2, column=reason).fill.fgColor.rgb.endswith("FFF2CC")
    longest = max(len(sheet.cell(row=r, column=reason).value) for r in range(2, sheet.max_row + 1))
    letter = sheet.cell(row=1, column=reason).column_letter
    assert sheet.column_dimensions[letter].width >= min(longest, 80)
    # Every third-mark cell checks for a number from 0 to that question's maximum.
    checks = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    last = sheet.max_row
    for question, maximum in zip(QUESTIONS, (10, 10, 20, 5, 5), strict=True):
        letter = sheet.cell(row=1, column=column(header, third_column(question))).column_letter
        check = checks[f"{letter}2:{letter}{last}"]
        assert (check.type, check.operator) == ("decimal", "between")
        assert (check.formula1, check.formula2) == ("0", str(maximum))
    comment_letter = sheet.cell(row=1, column=column(header, COMMENT)).column_letter
    comment_check = checks[f"{comment_letter}2:{comment_letter}{last}"]
    assert (comment_check.type, comment_check.formula1) == ("textLength", str(MAX_COMMENT))
    # The CSV copy holds the same rows.
    with out.with_suffix(".csv").open(newline="", encoding="utf-8") as data:
        copy = list(csv.DictReader(data))
    assert [row["PI"] for row in copy] == flagged
    assert copy[0]["Reason"] == values["Reason"] and copy[0]["First total %"] == "71.7"


def test_filled_worksheet_reads_back_as_marks_per_student(tmp_path, students):
    out = tmp_path / "third_marking.xlsx"
    write_worksheet(out, students)
    a, b = flagged_pis(students)[:2]
    fill(
        out,
        {a: ([7, 8.5, 12.25, 0, 5], "Clear analysis.\nWeak on Q3."), b: ([1, 2, 3, 4, 5], None)},
    )
    found = read_worksheet(out, students)
    assert list(found) == [a, b]
    assert found[a].marks == (
        ("Q1", Fraction(7)),
        ("Q2", Fraction(17, 2)),
        ("Q3", Fraction(49, 4)),
        ("Q4", Fraction(0)),
        ("Q5", Fraction(5)),
    )
    assert found[a].comment == "Clear analysis.\nWeak on Q3." and found[a].row == 2
    assert found[b].comment == "" and found[b].row == 3


def test_writing_again_keeps_what_the_tutor_typed(tmp_path, students, marks_csv):
    out = tmp_path / "third_marking.xlsx"
    write_worksheet(out, students)
    a, b = flagged_pis(students)[:2]
    fill(out, {a: ([7, 8.5, 12, 0, 5], "+ on Q3,-weak on Q4"), b: ([None] * 5, "half done")})
    # With --all every student is there, and what was typed stays with its PI.
    assert main(["worksheet", "--marks", str(marks_csv), "--out", str(out), "--all"]) == EXIT_OK
    sheet, header = sheet_rows(out)
    assert sheet.max_row == 31
    row = row_of(out, a)
    assert [
        sheet.cell(row=row, column=column(header, third_column(q))).value for q in QUESTIONS
    ] == [
        7,
        8.5,
        12,
        0,
        5,
    ]
    comment = sheet.cell(row=row, column=column(header, COMMENT))
    assert comment.data_type == "s" and comment.value == "'+ on Q3,'-weak on Q4"  # neutralised
    assert sheet.cell(row=row_of(out, b), column=column(header, COMMENT)).value == "half done"
    # Back to the flagged only: still kept.
    written = write_worksheet(out, students)
    assert written.kept == 2 and written.rows == len(flagged_pis(students))
    with pytest.raises(WorksheetError) as refused:
        read_worksheet(out, students)
    assert [str(p) for p in refused.value.problems] == [
        f"row {row_of(out, b)}: a comment but no third marks"
    ]
    fill(out, {b: ([1, 1, 1, 1, 1], None)})
    marks = read_worksheet(out, students)
    assert marks[a].comment == "+ on Q3,-weak on Q4"  # as typed
    assert marks[b].comment == "half done"


def test_a_student_typed_for_but_not_in_the_marks_keeps_the_row(tmp_path, students):
    out = tmp_path / "third_marking.xlsx"
    write_worksheet(out, students)
    a = flagged_pis(students)[0]
    fill(out, {a: ([1, 1, 1, 1, 1], "kept")})
    fewer = [s for s in students if s.pi != a]
    written = write_worksheet(out, fewer)
    sheet, header = sheet_rows(out)
    row = row_of(out, a)
    assert row == sheet.max_row and written.kept == 1
    assert sheet.cell(row=row, column=column(header, "Reason")).value == NOT_IN_MARKS
    assert sheet.cell(row=row, column=column(header, COMMENT)).value == "kept"
    with pytest.raises(WorksheetError, match=f"row {row}: {a} is not one of the students"):
        read_worksheet(out, fewer)


def test_every_bad_row_is_refused_with_its_row(tmp_path, students, marks_csv, capsys):
    out = tmp_path / "third_marking.xlsx"
    write_worksheet(out, students)
    pis = flagged_pis(students)
    fill(
        out,
        {
            pis[0]: (["=5+5", 1, 1, 1, 1], None),  # a formula
            pis[1]: ([11, 1, 1, 1, 1], None),  # Q1 is out of 10
            pis[2]: ([-1, "seven", 1, 1, 1], None),
            pis[3]: ([1, 1, None, 1, 1], None),  # one question left blank
            pis[4]: ([1, 1, 1, 1, 1.125], None),  # more decimals than OSCAR takes
            pis[5]: ([1, 1, 1, 1, 1], "x" * (MAX_COMMENT + 1)),
            pis[6]: ([1, 1, 1, 1, 1], '=HYPERLINK("http://x")'),
        },
    )
    book = load_workbook(out)
    sheet = book[SHEET_TITLE]
    sheet.cell(row=sheet.max_row + 1, column=1, value="P9999999")
    sheet.cell(row=sheet.max_row, column=column(columns_for(QUESTIONS), "Third Q1"), value=1)
    book.save(out)
    rows = {pi: row_of(out, pi) for pi in pis[:7]}
    with pytest.raises(WorksheetError) as refused:
        read_worksheet(out, students)
    said = [str(problem) for problem in refused.value.problems]
    assert said == [
        f"row {rows[pis[0]]}: the third mark for Q1 is a formula; type the number",
        f"row {rows[pis[1]]}: the third mark for Q1 (11) is not between 0 and 10",
        f"row {rows[pis[2]]}: the third mark for Q1 (-1) is not between 0 and 10",
        f"row {rows[pis[2]]}: the third mark for Q2 ('seven') is not a number",
        f"row {rows[pis[3]]}: no third mark for Q3 (give every question a mark)",
        f"row {rows[pis[4]]}: the third mark for Q5 (1.125) has more than 2 decimal places",
        f"row {rows[pis[5]]}: the comment is 2001 characters; OSCAR takes at most 2000",
        f"row {rows[pis[6]]}: the comment is a formula; type the text",
        f"row {sheet.max_row}: P9999999 is not one of the students in the marks",
        f"row {sheet.max_row}: no third mark for Q2, Q3, Q4, Q5 (give every question a mark)",
    ]
    # The command line says the same, and exits 2.
    check = ["worksheet-check", "--worksheet", str(out), "--marks", str(marks_csv)]
    assert main(check) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"row {rows[pis[1]]}: the third mark for Q1 (11) is not between 0 and 10" in err


def test_a_filled_csv_worksheet_is_read_too_and_formulas_there_are_refused(tmp_path, students):
    out = tmp_path / "third_marking.xlsx"
    write_worksheet(out, students)
    copy = out.with_suffix(".csv")
    with copy.open(newline="", encoding="utf-8") as data:
        rows = list(csv.reader(data))
    header = rows[0]
    rows[1][header.index("Third Q1") : header.index("Third Q5") + 1] = ["7", "8", "9", "1", "2"]
    rows[1][header.index(COMMENT)] = "Fine"
    rows[2][header.index("Third Q1") : header.index("Third Q5") + 1] = ["=1", "8", "9", "1", "2"]
    with copy.open("w", newline="", encoding="utf-8") as out_csv:
        csv.writer(out_csv).writerows(rows)
    with pytest.raises(WorksheetError) as refused:
        read_worksheet(copy, students)
    assert [str(p) for p in refused.value.problems] == [
        "row 3: the third mark for Q1 is a formula; type the number"
    ]
    rows[2][header.index("Third Q1")] = "3"
    with copy.open("w", newline="", encoding="utf-8") as out_csv:
        csv.writer(out_csv).writerows(rows)
    found = read_worksheet(copy, students)
    assert [m for _q, m in found[rows[1][0]].marks] == [7, 8, 9, 1, 2]
    assert found[rows[1][0]].comment == "Fine"


def test_the_worksheet_command_writes_both_files_with_names_and_codes(
    tmp_path, marks_csv, codes_csv, cohort, capsys
):
    out = tmp_path / "out" / "TM351" / "third_marking.xlsx"
    args = ["worksheet", "--marks", str(marks_csv), "--out", str(out), "--codes", str(codes_csv)]
    assert main(args) == EXIT_OK
    assert out.exists() and out.with_suffix(".csv").exists()
    said = capsys.readouterr().out
    assert "Worksheet: 13 students (the students for third marking)." in said
    sheet, header = sheet_rows(out)
    pi = sheet.cell(row=2, column=1).value
    assert (
        sheet.cell(row=2, column=column(header, "Confirmation code")).value
        == cohort.student(pi).code
    )
    check = ["worksheet-check", "--worksheet", str(out), "--marks", str(marks_csv)]
    assert main(check) == EXIT_OK
    assert "0 students with third marks" in capsys.readouterr().out


def test_text_that_could_run_is_neutralised_in_both_files(tmp_path):
    marks = tmp_path / "marks.csv"
    marks.write_text(
        'PI,name,question,max,first,second\nP1000001,"=HYPERLINK(""http://x"")",=1+1,10,9,2\n',
        encoding="utf-8",
    )
    out = tmp_path / "third_marking.xlsx"
    assert main(["worksheet", "--marks", str(marks), "--out", str(out)]) == EXIT_OK
    sheet, header = sheet_rows(out)
    assert "'Third =1+1" not in header and "Third =1+1" in header
    name = sheet.cell(row=2, column=2)
    assert name.value == '\'=HYPERLINK("http://x")' and name.data_type == "s"
    text = out.with_suffix(".csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and ",=" not in text


def test_an_earlier_worksheet_that_cannot_be_kept_is_never_written_over(
    tmp_path, students, marks_csv, capsys
):
    out = tmp_path / "third_marking.xlsx"
    out.write_bytes(b"PK\x03\x04 a damaged workbook")
    args = ["worksheet", "--marks", str(marks_csv), "--out", str(out)]
    assert main(args) == EXIT_USAGE
    assert "move third_marking.xlsx aside" in capsys.readouterr().err
    assert out.read_bytes() == b"PK\x03\x04 a damaged workbook"
    assert not out.with_suffix(".csv").exists()

    out.unlink()
    write_worksheet(out, students)
    a, b = flagged_pis(students)[:2]
    fill(out, {a: ([1, 1, 1, 1, 1], "typed"), b: ([2, 2, 2, 2, 2], None)})
    before = out.read_bytes()
    no_q5 = [replace(s, questions=s.questions[:4]) for s in students]
    with pytest.raises(WorksheetError) as refused:
        write_worksheet(out, no_q5)
    assert [str(p) for p in refused.value.problems] == [
        f"row {row_of(out, a)}: Third Q5 typed, but the marks have no such question: "
        "move third_marking.xlsx aside or write the worksheet elsewhere",
        f"row {row_of(out, b)}: Third Q5 typed, but the marks have no such question: "
        "move third_marking.xlsx aside or write the worksheet elsewhere",
    ]
    assert out.read_bytes() == before


def test_a_file_that_is_no_worksheet_is_not_written_over(tmp_path, students):
    out = tmp_path / "third_marking.xlsx"
    book = Workbook()
    book.active.append(["Student", "Notes"])
    book.active.append(["Ada", "my own notes"])
    book.save(out)
    before = out.read_bytes()
    with pytest.raises(WorksheetError, match="no PI column"):
        write_worksheet(out, students)
    assert out.read_bytes() == before
