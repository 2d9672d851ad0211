"""The codes table as a tutor reads it: words for statuses, names, OSCAR's order, a tidy sheet."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import openpyxl

from etma_helper.export import COLUMNS, write_codes_csv
from etma_helper.records import FileEntry, Outcome


def rows_of(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as table:
        return list(csv.DictReader(table))


def done(pi, name="", code="AB12-CD34", files=2, submitted="2024-03-11T14:22", late=False):
    entries = tuple(FileEntry(f"f{n}.docx", 1536, "0" * 64) for n in range(files))
    return Outcome(
        pi=pi,
        state="done",
        code=code,
        name=name,
        folder=f"/d/TM351/TMA02/{pi}",
        files=entries,
        submitted=submitted,
        late=late,
    )


JOB = [
    done("X2000000", "Zo\u00eb O'Brien", late=True),
    Outcome(pi="P1000000", state="not_submitted", reason="Nothing submitted.", name="Ada Lovelace"),
    Outcome(pi="Q3000000", state="needs_login", reason="Log in again."),
    Outcome(pi="A4000000", state="failed", reason="HTTP 500", code="ZZ99-0000"),
    Outcome(pi="B5000000", state="cancelled", reason="Cancelled before it started."),
]


def test_columns_statuses_in_words_and_the_jobs_order(tmp_path):
    path = write_codes_csv(tmp_path / "confirmation_codes.csv", JOB, assignment="TMA02")
    assert COLUMNS == [
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
    rows = rows_of(path)
    assert [r["PI"] for r in rows] == [o.pi for o in JOB]  # OSCAR's order, not sorted
    assert [r["Status"] for r in rows] == [
        "done",
        "not submitted",
        "needs login",
        "failed",
        "cancelled",
    ]
    first = rows[0]
    assert first["Name"] == "Zo\u00eb O'Brien" and first["Assignment"] == "TMA02"
    assert (first["Submitted"], first["Late"]) == ("2024-03-11 14:22", "yes")
    assert (first["Files"], first["Size (KB)"]) == ("2", "3.0")
    assert rows[1]["Name"] == "Ada Lovelace" and rows[1]["Late"] == ""


def test_the_workbook_has_a_bold_frozen_filtered_header_and_real_numbers_and_dates(tmp_path):
    path = write_codes_csv(tmp_path / "confirmation_codes.csv", JOB, assignment="TMA02")
    sheet = openpyxl.load_workbook(path.with_suffix(".xlsx")).active
    header = [cell.value for cell in sheet[1]]
    assert header == COLUMNS
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:K{len(JOB) + 1}"
    column = {name: index + 1 for index, name in enumerate(header)}
    first = {name: sheet.cell(row=2, column=column[name]) for name in header}
    assert first["Files"].value == 2 and first["Files"].data_type == "n"
    assert first["Size (KB)"].value == 3.0 and first["Size (KB)"].data_type == "n"
    assert first["Submitted"].is_date
    assert first["Submitted"].value == datetime(2024, 3, 11, 14, 22)
    assert first["Code"].value == "AB12-CD34" and first["Code"].data_type == "s"
    # wide enough to read a folder and a reason; narrow columns stay narrow
    width = {
        name: sheet.column_dimensions[openpyxl.utils.get_column_letter(i)].width
        for name, i in column.items()
    }
    assert width["Folder"] >= len("/d/TM351/TMA02/X2000000")
    assert width["Reason"] >= len("Cancelled before it started.")
    assert width["PI"] < 20 and width["Late"] < 20


def test_a_later_run_for_some_students_keeps_the_tables_order(tmp_path):
    path = tmp_path / "confirmation_codes.csv"
    write_codes_csv(path, JOB, assignment="TMA02")
    again = [done("A4000000", code="ZZ99-0000"), done("N6000000", "New Student")]
    write_codes_csv(path, again, assignment="TMA02")
    rows = rows_of(path)
    assert [r["PI"] for r in rows] == [o.pi for o in JOB] + ["N6000000"]
    assert rows[3]["Status"] == "done" and rows[3]["Reason"] == ""
    # a name this run did not know keeps the earlier one
    write_codes_csv(path, [done("X2000000")], assignment="TMA02")
    assert rows_of(path)[0]["Name"] == "Zo\u00eb O'Brien"


def test_a_run_over_everyone_puts_the_table_in_that_runs_order(tmp_path):
    path = tmp_path / "confirmation_codes.csv"
    write_codes_csv(path, JOB, assignment="TMA02")
    reordered = list(reversed(JOB))
    write_codes_csv(path, reordered, assignment="TMA02")
    assert [r["PI"] for r in rows_of(path)] == [o.pi for o in reordered]


def test_a_table_from_an_earlier_version_is_read_and_rewritten(tmp_path):
    path = tmp_path / "confirmation_codes.csv"
    with open(path, "w", newline="", encoding="utf-8") as table:
        writer = csv.writer(table, quoting=csv.QUOTE_ALL)
        writer.writerow(["PI", "Code", "Status", "Reason", "Files", "Folder"])
        writer.writerow(["A1111111", "OLD1-CODE", "needs_login", "Log in again.", "", ""])
        writer.writerow(["B2222222", "OLD2-CODE", "done", "", "3", "/d/B2222222"])
    write_codes_csv(path, [done("C3333333", "Ada")], assignment="TMA02")
    rows = {r["PI"]: r for r in rows_of(path)}
    assert list(rows) == ["A1111111", "B2222222", "C3333333"]
    assert rows["A1111111"]["Status"] == "needs login"
    assert rows["B2222222"]["Files"] == "3" and rows["B2222222"]["Assignment"] == "TMA02"
    assert rows["C3333333"]["Name"] == "Ada"


def test_an_earlier_table_with_a_byte_order_mark_blank_lines_and_a_repeated_column(tmp_path):
    path = tmp_path / "confirmation_codes.csv"
    path.write_text(
        '\n"PI","Code","Code","Status"\n\n"A1111111","OLD1-CODE","other","done"\n\n',
        encoding="utf-8-sig",  # a spreadsheet saving "CSV UTF-8" writes a byte order mark
    )
    write_codes_csv(path, [done("C3333333")], assignment="TMA02")
    rows = {r["PI"]: r for r in rows_of(path)}
    assert list(rows) == ["A1111111", "C3333333"]
    assert rows["A1111111"]["Code"] == "OLD1-CODE"  # the first of the columns named twice
    assert rows["A1111111"]["Status"] == "done" and rows["A1111111"]["Assignment"] == "TMA02"


def test_an_earlier_row_short_of_fields_or_with_one_too_many_keeps_its_columns(tmp_path):
    path = tmp_path / "confirmation_codes.csv"
    with open(path, "w", newline="", encoding="utf-8") as table:
        writer = csv.writer(table, quoting=csv.QUOTE_ALL)
        writer.writerow(["PI", "Name", "Code"])
        writer.writerow(["A1111111", "Ann"])
        writer.writerow(["B2222222", "Bo", "BO22-CODE", "a stray field"])
    write_codes_csv(path, [done("C3333333")], assignment="TMA02")
    rows = {r["PI"]: r for r in rows_of(path)}
    assert list(rows) == ["A1111111", "B2222222", "C3333333"]
    assert (rows["A1111111"]["Name"], rows["A1111111"]["Code"]) == ("Ann", "")
    assert (rows["B2222222"]["Name"], rows["B2222222"]["Code"]) == ("Bo", "BO22-CODE")


def test_an_empty_earlier_table_is_replaced(tmp_path):
    path = tmp_path / "confirmation_codes.csv"
    path.write_text("", encoding="utf-8")
    write_codes_csv(path, JOB, assignment="TMA02")
    assert [r["PI"] for r in rows_of(path)] == [o.pi for o in JOB]


def test_a_pi_twice_in_a_job_keeps_its_last_row_where_that_row_stands(tmp_path):
    path = tmp_path / "confirmation_codes.csv"
    first, second = done("A1111111", code="FIRS-T111"), done("A1111111", code="LAST-2222")
    write_codes_csv(path, [first, done("B2222222"), second], assignment="TMA02")
    rows = rows_of(path)
    assert [r["PI"] for r in rows] == ["B2222222", "A1111111"]
    assert rows[1]["Code"] == "LAST-2222"
