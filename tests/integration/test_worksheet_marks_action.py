"""The ``worksheet_marks`` action through the real helper: a filled worksheet's third marks,
checked against the marks the page sent, for Fill marks."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from etma_helper import PROTOCOL_VERSION
from etma_helper.errors import ErrorCode
from etma_helper.framing import MAX_OUTGOING
from etma_helper.marks_file import read_marks
from etma_helper.worksheet import (
    COMMENT,
    MAX_COMMENT,
    SHEET_TITLE,
    third_column,
    write_worksheet,
)
from tests.hostproc import HostProcess
from tests.integration.test_crash_safety import helper_env
from tests.integration.test_flags_action import page_rows
from tests.sites import Cohort
from tests.sites.marks import write_marks_csv

QUESTIONS = ["Q1", "Q2", "Q3", "Q4", "Q5"]


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def host(home):
    process = HostProcess({**helper_env(home), "HOME": str(home)})
    process.send({"id": "hello", "action": "hello", "protocol": PROTOCOL_VERSION})
    hello = process.receive()
    assert hello["status"] == "ok" and "worksheet_marks" in hello["data"]["actions"]
    yield process
    process.close()


@pytest.fixture()
def module_folder(home):
    folder = home / "eTMA" / "TM351"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def students(cohort, tmp_path_factory):
    return read_marks(write_marks_csv(cohort, tmp_path_factory.mktemp("marks") / "marks.csv"))


def ask(host, cohort, **more) -> dict:
    message = {"module": "TM351", "assignment": "TMA 02", "rows": page_rows(cohort), **more}
    host.send({"id": "w", "action": "worksheet_marks", **message})
    reply = host.receive()
    assert reply["id"] == "w" and reply["type"] == "reply"
    return reply


def write_filled(folder: Path, students, cohort, typed: dict[str, tuple[list, str]]) -> Path:
    """The worksheet as Export marks worksheet writes it, with codes, then filled in."""
    codes = {s.pi: (s.name, s.code) for s in cohort.students}
    path = folder / "third_marking.xlsx"
    write_worksheet(path, students, codes=codes)
    book = load_workbook(path)
    sheet = book[SHEET_TITLE]
    header = [cell.value for cell in sheet[1]]
    for row in range(2, sheet.max_row + 1):
        pi = sheet.cell(row=row, column=1).value
        if pi in typed:
            marks, comment = typed[pi]
            for question, mark in zip(QUESTIONS, marks, strict=True):
                sheet.cell(row=row, column=header.index(third_column(question)) + 1, value=mark)
            sheet.cell(row=row, column=header.index(COMMENT) + 1, value=comment)
    book.save(path)
    return path


def flagged(path: Path) -> list[str]:
    sheet = load_workbook(path)[SHEET_TITLE]
    return [sheet.cell(row=r, column=1).value for r in range(2, sheet.max_row + 1)]


def test_typed_third_marks_come_back_with_name_code_and_comment_in_the_page_order(
    host, cohort, students, module_folder
):
    path = write_filled(module_folder, students, cohort, {})
    first, second = flagged(path)[:2]
    write_filled(
        module_folder,
        students,
        cohort,
        {
            second: ([7.5, 6, 15, 3, 4], "Clear argument; weak on Q3."),
            first: ([8, 8, 16, 4, 5], ""),
        },
    )
    reply = ask(host, cohort)
    assert reply["status"] == "ok", reply
    data = reply["data"]
    assert data["worksheet"] == str(path) and data["questions"] == QUESTIONS
    order = [s.pi for s in cohort.students]
    assert [s["pi"] for s in data["students"]] == sorted([first, second], key=order.index)
    by_pi = {s["pi"]: s for s in data["students"]}
    student = cohort.student(second)
    answer = by_pi[second]
    assert (answer["name"], answer["code"]) == (student.name, student.code)
    assert answer["marks"] == [
        {"question": q, "mark": m}
        for q, m in zip(QUESTIONS, ["7.5", "6", "15", "3", "4"], strict=True)
    ]
    assert answer["comment"] == "Clear argument; weak on Q3."
    assert by_pi[first]["comment"] == "" and by_pi[first]["marks"][0]["mark"] == "8"


def test_every_bad_row_is_named_and_no_student_is_answered_for(
    host, cohort, students, module_folder
):
    path = write_filled(module_folder, students, cohort, {})
    good, bad, worse = flagged(path)[:3]
    write_filled(
        module_folder,
        students,
        cohort,
        {
            good: ([8, 8, 16, 4, 5], "fine"),
            bad: ([11, 8, 16, 4, 5], ""),
            worse: ([8, "lots", 16, 4, 5], ""),
        },
    )
    reply = ask(host, cohort)
    assert reply["status"] == "error" and reply["code"] == ErrorCode.WORKSHEET_UNUSABLE
    bad_row, worse_row = flagged(path).index(bad) + 2, flagged(path).index(worse) + 2
    assert f"row {bad_row}: the third mark for Q1 (11) is not between 0 and 10" in reply["message"]
    assert f"row {worse_row}: the third mark for Q2 ('lots') is not a number" in reply["message"]
    assert "no marks were filled" in reply["message"]
    assert reply["params"]["path"] == str(path)
    assert [p["row"] for p in reply["params"]["problems"]] == [bad_row, worse_row]
    assert "data" not in reply


def test_a_pi_not_on_the_page_is_refused_by_row(host, cohort, students, module_folder):
    path = write_filled(module_folder, students, cohort, {})
    pi = flagged(path)[0]
    write_filled(module_folder, students, cohort, {pi: ([8, 8, 16, 4, 5], "")})
    rows = [row for row in page_rows(cohort) if row["pi"] != pi]
    reply = ask(host, cohort, rows=rows)
    assert reply["status"] == "error" and reply["code"] == ErrorCode.WORKSHEET_UNUSABLE
    assert f"row 2: {pi} is not one of the students in the marks" in reply["message"]


def test_no_worksheet_says_where_it_looked_and_to_export_first(host, cohort, module_folder):
    reply = ask(host, cohort)
    assert reply["status"] == "error" and reply["code"] == ErrorCode.NOT_FOUND
    assert str(module_folder / "third_marking.xlsx") in reply["message"]
    assert "Export marks worksheet first" in reply["message"]
    assert reply["params"]["path"] == str(module_folder / "third_marking.xlsx")


def type_into_copy(copy: Path, pi: str, typed: dict[str, str]) -> None:
    """Type ``typed`` (column → text) into ``pi``'s row of the worksheet's .csv copy."""
    with copy.open(newline="", encoding="utf-8") as data:
        rows = list(csv.DictReader(data))
    for row in rows:
        if row["PI"] == pi:
            row.update(typed)
    with copy.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_the_csv_copy_is_read_when_only_it_exists_and_codes_table_fills_a_missing_code(
    host, cohort, students, module_folder
):
    path = write_filled(module_folder, students, cohort, {})
    pi = flagged(path)[0]
    path.unlink()
    copy = path.with_suffix(".csv")
    type_into_copy(
        copy,
        pi,
        {
            **dict.fromkeys(map(third_column, QUESTIONS), "2"),
            COMMENT: "from the csv",
            "Confirmation code": "",
        },
    )
    codes = module_folder / "TMA02" / "confirmation_codes.csv"
    codes.parent.mkdir()
    codes.write_text(f"PI,Name,Code\n{pi},Someone,ABCD-1234\n", encoding="utf-8")
    reply = ask(host, cohort)
    assert reply["status"] == "ok", reply
    [student] = reply["data"]["students"]
    assert reply["data"]["worksheet"] == str(copy)
    assert (student["pi"], student["comment"], student["code"]) == (pi, "from the csv", "ABCD-1234")


def test_the_csv_copy_saved_after_the_workbook_is_the_one_read(
    host, cohort, students, module_folder
):
    """A tutor who typed into the .csv copy, with the .xlsx still beside it, gets what they typed
    (as an export keeps it), not the older workbook's blanks."""
    path = write_filled(module_folder, students, cohort, {})
    pi = flagged(path)[0]
    copy = path.with_suffix(".csv")
    type_into_copy(
        copy,
        pi,
        {**dict.fromkeys(map(third_column, QUESTIONS), "3"), COMMENT: "typed into the copy"},
    )
    later = path.stat().st_mtime_ns + 2_000_000_000
    os.utime(copy, ns=(later, later))
    reply = ask(host, cohort)
    assert reply["status"] == "ok", reply
    assert reply["data"]["worksheet"] == str(copy)
    [student] = reply["data"]["students"]
    assert (student["pi"], student["comment"]) == (pi, "typed into the copy")

    # Saved in the workbook afterwards: the workbook is read again.
    os.utime(path, ns=(later + 1_000_000_000, later + 1_000_000_000))
    again = ask(host, cohort)
    assert again["status"] == "ok" and again["data"]["worksheet"] == str(path)
    assert again["data"]["students"] == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"module": "../etc"}, "module"),
        ({"assignment": "TMA/02"}, "assignment"),
        ({"rows": []}, "rows"),
    ],
)
def test_a_request_naming_no_module_or_marks_is_refused(host, cohort, change, field):
    reply = ask(host, cohort, **change)
    assert reply["status"] == "error" and reply["code"] == ErrorCode.INVALID_FIELD
    assert reply["params"]["field"] == field


def test_long_comments_for_many_students_come_in_parts_that_each_fit_a_message(
    host, home, module_folder
):
    big = Cohort(size=400, seed=7, module="TM351", assignment="TMA02")
    students = read_marks(write_marks_csv(big, module_folder / "big_marks.csv"))
    path = module_folder / "third_marking.xlsx"
    write_worksheet(path, students, include_all=True)
    book = load_workbook(path)
    sheet = book[SHEET_TITLE]
    header = [cell.value for cell in sheet[1]]
    for row in range(2, sheet.max_row + 1):
        for question in QUESTIONS:
            sheet.cell(row=row, column=header.index(third_column(question)) + 1, value=1)
        comment = f"{sheet.cell(row=row, column=1).value} " + "é" * (MAX_COMMENT - 9)
        sheet.cell(row=row, column=header.index(COMMENT) + 1, value=comment)
    book.save(path)
    got, start, parts, fingerprints = [], 0, 0, set()
    while start is not None:
        reply = ask(host, big, start=start)
        assert reply["status"] == "ok", reply
        assert len(json.dumps(reply, ensure_ascii=False).encode()) < MAX_OUTGOING
        assert "truncated" not in reply
        data = reply["data"]
        assert data["total"] == len(big.students)
        got += data["students"]
        fingerprints.add(data["fingerprint"])
        start, parts = data["next"], parts + 1
    assert parts >= 2 and len(fingerprints) == 1
    assert [s["pi"] for s in got] == [s.pi for s in big.students]
    assert all(s["comment"].startswith(s["pi"]) and len(s["comment"]) <= MAX_COMMENT for s in got)
    assert ask(host, big, start=-1)["params"]["field"] == "start"
