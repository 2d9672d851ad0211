"""The ``export_worksheet`` action through the real helper: the worksheet written where the helper
keeps the module's files, with the codes an earlier codes job collected (from its table, else
the ledger), typed values kept on export again, and nothing written for bad input or a worksheet
that cannot be written over."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from openpyxl import load_workbook

from etma_helper import PROTOCOL_VERSION
from etma_helper.worksheet import HIGHLIGHT, SHEET_TITLE, third_column
from tests.hostproc import HostProcess
from tests.integration.test_crash_safety import download_request, helper_env

MODULE_FOLDER = ("eTMA", "TM351")
CODES_FOLDER = ("eTMA", "TM351", "TMA02")
#: Stands for the cohort's first student in a parametrised request.
FIRST = object()


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def host(home, sites, cohort):
    """One helper for the module's tests, after a real codes job for half the flagged students:
    its codes table and its ledger hold their codes and no one else's."""
    process = HostProcess({**helper_env(home), "HOME": str(home)})
    process.send({"id": "hello", "action": "hello", "protocol": PROTOCOL_VERSION})
    hello = process.receive()
    assert hello["status"] == "ok" and "export_worksheet" in hello["data"]["actions"]
    request = download_request(sites, coded_pis(cohort), "codes-job")
    process.send({**request, "action": "codes"})
    summary = process.receive_until("summary", "codes-job", timeout=120)[-1]
    assert summary["data"]["outcome"] == "finished", summary
    yield process
    process.close()


@pytest.fixture(autouse=True)
def no_worksheet(home):
    """Each test starts with no worksheet (and no lock file) for the module."""
    folder = home.joinpath(*MODULE_FOLDER)
    for path in [*folder.glob("third_marking.*"), *folder.glob("*lock*"), *folder.glob("~$*")]:
        if path.is_dir():
            path.rmdir()
        else:
            path.unlink()
    yield


def flagged(cohort) -> list[str]:
    return [s.pi for s in cohort.students if cohort.third_marking_required(s.pi)]


def coded_pis(cohort) -> list[str]:
    """The flagged students a codes job ran for: every other one."""
    return flagged(cohort)[::2]


def page_rows(cohort) -> list[dict]:
    """The marks as the page sends them, with the names OSCAR shows."""
    names = {s.pi: s.name for s in cohort.students}
    return [
        {**{key.lower(): str(value) for key, value in row.items()}, "name": names[row["PI"]]}
        for row in cohort.marks_rows()
    ]


def export(host, cohort, **fields) -> dict:
    host.send(
        {
            "id": "x",
            "action": "export_worksheet",
            "module": "TM351",
            "assignment": "TMA 02",
            "rows": page_rows(cohort),
            **fields,
        }
    )
    reply = host.receive(timeout=60)
    assert reply["id"] == "x" and reply["type"] == "reply"
    return reply


def sheet_rows(path: Path) -> list[dict]:
    sheet = load_workbook(path)[SHEET_TITLE]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_the_flagged_are_written_with_the_codes_the_codes_job_found(host, home, cohort):
    reply = export(host, cohort)
    assert reply["status"] == "ok", reply
    data = reply["data"]
    xlsx = home.joinpath(*MODULE_FOLDER, "third_marking.xlsx")
    assert data["path"] == str(xlsx) and data["csv"] == str(xlsx.with_suffix(".csv"))
    assert data["folder"] == str(xlsx.parent) and data["module"] == "TM351"
    want = flagged(cohort)
    uncoded = [pi for pi in want if pi not in coded_pis(cohort)]
    assert data["rows"] == len(want) and data["kept"] == 0
    assert data["without_code"] == len(uncoded) and data["without_code_pis"] == uncoded
    assert data["note"] == ""

    rows = sheet_rows(xlsx)
    assert [row["PI"] for row in rows] == want
    for row in rows:
        student = cohort.student(row["PI"])
        assert row["Name"] == student.name
        assert row["Confirmation code"] == (
            student.code if row["PI"] in coded_pis(cohort) else None
        )
        assert "marks differ by" in row["Reason"] or "straddles the" in row["Reason"]
    sheet = load_workbook(xlsx)[SHEET_TITLE]
    assert sheet.freeze_panes == "D2"
    checked = {
        str(v.sqref): (v.type, v.formula1, v.formula2)
        for v in sheet.data_validations.dataValidation
    }
    header = [cell.value for cell in sheet[1]]
    for question in cohort.questions:
        column = header.index(third_column(question.name)) + 1
        letter = sheet.cell(row=1, column=column).column_letter
        assert checked[f"{letter}2:{letter}{len(want) + 1}"] == (
            "decimal",
            "0",
            str(question.maximum),
        )
    reason = header.index("Reason") + 1
    assert all(
        sheet.cell(row=r, column=reason).fill.fgColor.rgb.endswith(HIGHLIGHT)
        for r in range(2, len(want) + 2)
    )


def test_codes_come_from_the_ledger_when_the_codes_table_is_gone_or_broken(host, home, cohort):
    folder = home.joinpath(*CODES_FOLDER)
    table = folder / "confirmation_codes.csv"
    saved = {path: path.read_bytes() for path in folder.glob("confirmation_codes.*")}
    try:
        for path in saved:
            path.unlink()
        data = export(host, cohort)["data"]
        assert data["without_code"] == len(flagged(cohort)) - len(coded_pis(cohort))
        assert data["note"] == ""

        table.write_text("PI,Code\nnot-a-pi,XYZ\n", encoding="utf-8")
        data = export(host, cohort)["data"]
        assert data["without_code"] == len(flagged(cohort)) - len(coded_pis(cohort))
        assert str(table) in data["note"] and "not a student PI" in data["note"]
    finally:
        for path, content in saved.items():
            path.write_bytes(content)


def test_a_code_in_the_codes_table_is_used_before_the_ledgers(host, home, cohort):
    table = home.joinpath(*CODES_FOLDER, "confirmation_codes.csv")
    earlier = table.read_bytes()
    uncoded = next(pi for pi in flagged(cohort) if pi not in coded_pis(cohort))
    try:
        with table.open("a", encoding="utf-8") as out:
            out.write(f'"{uncoded}","","TMA02","HAND-TYPED"\n')
        data = export(host, cohort)["data"]
        assert uncoded not in data["without_code_pis"]
        row = next(r for r in sheet_rows(Path(data["path"])) if r["PI"] == uncoded)
        assert row["Confirmation code"] == "HAND-TYPED"
    finally:
        table.write_bytes(earlier)


def test_what_the_tutor_typed_is_kept_when_exported_again(host, cohort):
    path = Path(export(host, cohort)["data"]["path"])
    book = load_workbook(path)
    sheet = book[SHEET_TITLE]
    header = [cell.value for cell in sheet[1]]
    q1 = header.index(third_column(cohort.questions[0].name)) + 1
    sheet.cell(row=2, column=q1, value=7)
    sheet.cell(row=2, column=header.index("Comment") + 1, value="Read again: fair.")
    typed_pi = sheet.cell(row=2, column=1).value
    book.save(path)

    data = export(host, cohort)["data"]
    assert data["kept"] == 1 and data["rows"] == len(flagged(cohort))
    row = next(r for r in sheet_rows(path) if r["PI"] == typed_pi)
    assert row[third_column(cohort.questions[0].name)] == 7
    assert row["Comment"] == "Read again: fair."


def test_marks_typed_into_the_csv_copy_are_kept_as_numbers(host, cohort):
    path = Path(export(host, cohort)["data"]["path"])
    csv_path = path.with_suffix(".csv")
    with csv_path.open(encoding="utf-8", newline="") as table:
        rows = list(csv.reader(table))
    column = rows[0].index(third_column(cohort.questions[0].name))
    rows[1][column] = "6.5"
    rows[1][rows[0].index("Comment")] = "=typed in the copy"
    with csv_path.open("w", encoding="utf-8", newline="") as table:
        csv.writer(table).writerows(rows)
    # Saved after the export, as a tutor's save is (the file system's clock may be coarse).
    later = path.stat().st_mtime_ns + 5 * 10**9
    os.utime(csv_path, ns=(later, later))

    data = export(host, cohort)["data"]
    assert data["kept"] == 1
    row = next(r for r in sheet_rows(path) if r["PI"] == rows[1][0])
    assert row[third_column(cohort.questions[0].name)] == 6.5
    assert row["Comment"] == "'=typed in the copy"  # shown as typed, never run
    # The next export reads the workbook again: the two files have one time once written.
    assert path.stat().st_mtime_ns == csv_path.stat().st_mtime_ns
    assert export(host, cohort)["data"]["kept"] == 1


def test_a_list_of_students_writes_exactly_them_in_the_pages_order(host, cohort):
    unflagged = next(s.pi for s in cohort.students if s.pi not in flagged(cohort))
    chosen = [flagged(cohort)[1], unflagged.lower()]
    data = export(host, cohort, students=chosen)["data"]
    order = [s.pi for s in cohort.students]
    assert [r["PI"] for r in sheet_rows(Path(data["path"]))] == sorted(
        [chosen[0], unflagged], key=order.index
    )
    assert data["rows"] == 2
    every = export(host, cohort, students="all")["data"]
    assert every["rows"] == len(cohort.students)


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"module": "../../etc"}, "module", "module code"),
        ({"module": None}, "module", "module code"),
        ({"assignment": "TMA 02/../x"}, "assignment", "not an assignment"),
        ({"students": "some"}, "students", '"flagged", "all" or a list'),
        ({"students": []}, "students", '"flagged", "all" or a list'),
        ({"students": ["P0000001"]}, "students[0]", "has no marks on this page"),
        ({"students": [FIRST, 7]}, "students[1]", "is not a PI"),
        ({"threshold": "lots"}, "threshold", "must be a number"),
    ],
)
def test_bad_input_is_named_and_nothing_is_written(host, home, cohort, fields, field, words):
    if isinstance(fields.get("students"), list):
        fields = {
            "students": [cohort.students[0].pi if s is FIRST else s for s in fields["students"]]
        }
    reply = export(host, cohort, **fields)
    assert reply["status"] == "error" and reply["code"] == 3, reply
    assert reply["params"] == {"field": field} and words in reply["message"]
    assert not list(home.joinpath(*MODULE_FOLDER).glob("third_marking.*"))


def test_a_bad_row_is_named_and_nothing_is_written(host, home, cohort):
    rows = page_rows(cohort)
    rows[4]["second"] = "99"
    host.send({"id": "x", "action": "export_worksheet", "module": "TM351", "rows": rows})
    reply = host.receive(timeout=60)
    assert reply["code"] == 3 and reply["params"] == {"field": "rows[4].second"}, reply
    assert f"Row 5 ({rows[4]['pi']}, {rows[4]['question']})" in reply["message"]
    assert not list(home.joinpath(*MODULE_FOLDER).glob("third_marking.*"))


@pytest.mark.parametrize(
    "lock",
    [
        ".~lock.third_marking.xlsx#",
        "~$third_marking.xlsx",
        "~$ird_marking.xlsx",
        "~$third_marking.csv",
    ],
)
def test_a_worksheet_open_in_a_spreadsheet_program_is_left_alone(host, home, cohort, lock):
    path = Path(export(host, cohort)["data"]["path"])
    before = path.read_bytes()
    (path.parent / lock).write_text("tutor,host,1234", encoding="utf-8")
    reply = export(host, cohort, students="all")
    assert reply["status"] == "error" and reply["code"] == 8, reply
    assert "open in a spreadsheet program" in reply["message"] and lock in reply["message"]
    assert "close it, then export again" in reply["message"]
    assert reply["params"] == {"folder": str(path.parent)}
    assert path.read_bytes() == before


def test_a_worksheet_that_cannot_be_written_says_what_to_do_and_loses_nothing(host, home, cohort):
    path = Path(export(host, cohort)["data"]["path"])
    before = path.read_bytes()
    csv_path = path.with_suffix(".csv")
    csv_path.unlink()
    csv_path.mkdir()  # something the copy cannot be written over
    os.utime(csv_path, ns=(0, 0))  # older than the workbook, which is read for what was typed
    reply = export(host, cohort)
    assert reply["status"] == "error" and reply["code"] == 8, reply
    assert "could not be written" in reply["message"] and "save and close it" in reply["message"]
    assert path.read_bytes() == before
    assert not list(path.parent.glob("*.part"))


def test_typed_values_that_cannot_be_kept_stop_the_export(host, home, cohort):
    path = Path(export(host, cohort)["data"]["path"])
    book = load_workbook(path)
    sheet = book[SHEET_TITLE]
    sheet.cell(row=1, column=sheet.max_column + 1, value="Third Q9")
    sheet.cell(row=3, column=sheet.max_column, value=4)
    book.save(path)
    before = path.read_bytes()
    reply = export(host, cohort)
    assert reply["status"] == "error" and reply["code"] == 8, reply
    assert "cannot be kept" in reply["message"] and "Third Q9" in reply["message"]
    assert "It is left as it is." in reply["message"]
    assert path.read_bytes() == before
