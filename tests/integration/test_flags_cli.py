"""`etma-helper flags`: a marks table in, one row per student out; bad input named by row, and
nothing written."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook

from etma_helper.cli import EXIT_OK, EXIT_USAGE, main
from etma_helper.third_marking import FLAG_COLUMNS

HEADER = ["PI", "question", "max", "weight", "first", "second"]
GOOD_ROWS = [
    # Q1 out of 40 (weight 1), Q2 out of 10 (weight 2): totals out of 60.
    # 71.67 / 68.33: straddles, difference 3.3
    ["P1000001", "1", "40", "1", "33", "31"],
    ["P1000001", "2", "10", "2", "5", "5"],
    # 38.33 / 23.33: exactly 15 (floats say 15.000000000000004), both Fail
    ["X1000002", "1", "40", "1", "15", "8"],
    ["X1000002", "2", "10", "2", "4", "3"],
    # 100 / 80: differs by 20 and straddles Pass 1 / Pass 2
    ["P1000003", "1", "40", "1", "40", "32"],
    ["P1000003", "2", "10", "2", "10", "8"],
    # no second mark for question 2
    ["P1000004", "1", "40", "1", "20", "20"],
    ["P1000004", "2", "10", "2", "5", ""],
]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def read_flags(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as data:
        return list(csv.DictReader(data))


def flags(*args: str) -> int:
    return main(["flags", *args])


EXPECTED = [
    {
        "PI": "P1000001",
        "first_percent": "71.7",
        "second_percent": "68.3",
        "difference": "3.3",
        "first_band": "Pass 2",
        "second_band": "Pass 3",
        "third_marking": "yes",
        "reason": "straddles the Pass 2 / Pass 3 boundary (71.7% / 68.3%)",
    },
    {
        "PI": "X1000002",
        "first_percent": "38.3",
        "second_percent": "23.3",
        "difference": "15.0",
        "first_band": "Fail",
        "second_band": "Fail",
        "third_marking": "no",
        "reason": "",
    },
    {
        "PI": "P1000003",
        "first_percent": "100.0",
        "second_percent": "80.0",
        "difference": "20.0",
        "first_band": "Pass 1",
        "second_band": "Pass 2",
        "third_marking": "yes",
        "reason": "marks differ by 20.0% (over 15%); "
        "straddles the Pass 1 / Pass 2 boundary (100.0% / 80.0%)",
    },
    {
        "PI": "P1000004",
        "first_percent": "50.0",
        "second_percent": "",
        "difference": "",
        "first_band": "Pass 4",
        "second_band": "",
        "third_marking": "no",
        "reason": "marks incomplete",
    },
]


def test_flags_from_csv_one_row_per_student_in_input_order(tmp_path, capsys):
    marks = write_csv(tmp_path / "marks.csv", GOOD_ROWS)
    out = tmp_path / "flags.csv"
    assert flags("--marks", str(marks), "--out", str(out)) == EXIT_OK
    with out.open(newline="") as data:
        assert next(csv.reader(data)) == list(FLAG_COLUMNS)
    assert read_flags(out) == EXPECTED
    said = capsys.readouterr().out
    assert "4 students: 2 for third marking, 1 with marks incomplete." in said
    assert not list(tmp_path.glob("*.part"))


def test_flags_from_xlsx_with_numbers_and_text_cells(tmp_path):
    rows: list[list[object]] = [
        [pi, question, int(maximum), int(weight), int(first), int(second) if second else None]
        for pi, question, maximum, weight, first, second in GOOD_ROWS
    ]
    marks = write_xlsx(tmp_path / "marks.xlsx", rows)
    out = tmp_path / "flags.csv"
    assert flags("--marks", str(marks), "--out", str(out)) == EXIT_OK
    assert read_flags(out) == EXPECTED


def test_xlsx_decimals_and_text_question_names_are_kept_exactly(tmp_path):
    marks = write_xlsx(
        tmp_path / "marks.xlsx",
        [
            ["p1000001", "007", 10, None, 7.1, 5.6],
            ["p1000001", "2a", 10, None, 2.2, 2.2],
        ],
    )
    out = tmp_path / "flags.csv"
    assert flags("--marks", str(marks), "--out", str(out)) == EXIT_OK
    (row,) = read_flags(out)
    assert (row["PI"], row["first_percent"], row["second_percent"], row["difference"]) == (
        "P1000001",
        "46.5",
        "39.0",
        "7.5",
    )


def test_a_student_without_a_row_for_a_question_is_incomplete(tmp_path):
    rows = GOOD_ROWS[:2] + [["P1000005", "1", "40", "1", "40", "0"]]
    out = tmp_path / "flags.csv"
    assert flags("--marks", str(write_csv(tmp_path / "m.csv", rows)), "--out", str(out)) == EXIT_OK
    last = read_flags(out)[-1]
    assert (last["PI"], last["third_marking"], last["reason"]) == (
        "P1000005",
        "no",
        "marks incomplete",
    )


def test_threshold_and_boundaries_options(tmp_path):
    marks = write_csv(tmp_path / "marks.csv", GOOD_ROWS)
    out = tmp_path / "flags.csv"
    assert (
        flags(
            "--marks",
            str(marks),
            "--out",
            str(out),
            "--threshold",
            "2",
            "--boundaries",
            "90,60,30,10",
        )
        == EXIT_OK
    )
    rows = {row["PI"]: row for row in read_flags(out)}
    assert rows["P1000001"]["reason"] == "marks differ by 3.3% (over 2%)"
    assert rows["P1000001"]["first_band"] == "Pass 2"
    assert rows["X1000002"]["first_band"] == "Pass 3"
    assert rows["X1000002"]["second_band"] == "Pass 4"
    assert rows["P1000003"]["first_band"] == "Pass 1"


def test_custom_band_names(tmp_path):
    marks = write_csv(tmp_path / "marks.csv", GOOD_ROWS)
    out = tmp_path / "flags.csv"
    code = flags("--marks", str(marks), "--out", str(out), "--boundaries", "50", "--bands", "Y,N")
    assert code == EXIT_OK
    assert [row["first_band"] for row in read_flags(out)] == ["Y", "N", "Y", "Y"]


def bad(rows_after_header: list[list[str]]) -> list[list[str]]:
    return GOOD_ROWS[:2] + rows_after_header


@pytest.mark.parametrize(
    ("header", "rows", "said"),
    [
        (HEADER + ["grade"], [r + ["A"] for r in GOOD_ROWS], "row 1: unknown column 'grade'"),
        (["PI", "question", "max", "first"], [r[:3] + r[4:5] for r in GOOD_ROWS], "row 1: missing"),
        (HEADER[:5] + ["First"], GOOD_ROWS, "row 1: the column 'first' is there twice"),
        (HEADER, bad([["P1000009", "1", "40", "1", "41", "3"]]), "row 4: the first mark 41 is "),
        (
            HEADER,
            bad([["P1000009", "1", "40", "1", "4", "-1"]]),
            "row 4: the second mark -1 is neg",
        ),
        (
            HEADER,
            bad([["P1000009", "1", "40", "1", "4", "x"]]),
            "row 4: the second mark 'x' is not",
        ),
        (HEADER, bad([["P1000009", "1", "40", "1", "4", "nan"]]), "row 4: the second mark 'nan'"),
        (HEADER, bad([["P1000009", "1", "40", "1", "4,5", "4"]]), "row 4: the first mark '4,5'"),
        (HEADER, bad([["12345678", "1", "40", "1", "4", "4"]]), "row 4: '12345678' is not a stud"),
        (HEADER, bad([["P1000001", "1", "40", "1", "4", "4"]]), "row 4: question 1 for P1000001 "),
        (HEADER, bad([["P1000009", "1", "30", "1", "4", "4"]]), "row 4: question 1 has maximum 30"),
        (HEADER, bad([["P1000009", "1", "40", "3", "4", "4"]]), "row 4: question 1 has weight 3 "),
        (HEADER, bad([["P1000009", "1", "0", "1", "0", "0"]]), "row 4: the maximum 0 is not above"),
        (HEADER, bad([["P1000009", "", "40", "1", "4", "4"]]), "row 4: no question"),
        (HEADER, [], "no marks"),
    ],
)
def test_bad_input_names_the_row_and_writes_nothing(tmp_path, capsys, header, rows, said):
    marks = write_csv(tmp_path / "marks.csv", rows, header)
    out = tmp_path / "out" / "flags.csv"
    out.parent.mkdir()
    out.write_text("an earlier table\n")
    assert flags("--marks", str(marks), "--out", str(out)) == EXIT_USAGE
    assert said in capsys.readouterr().err
    assert out.read_text() == "an earlier table\n"
    assert sorted(p.name for p in out.parent.iterdir()) == ["flags.csv"]


def test_every_problem_is_reported_with_spreadsheet_rows_even_after_blank_rows(tmp_path, capsys):
    rows = [
        GOOD_ROWS[0],
        [],
        ["P10000", "1", "40", "1", "4", "4"],
        ["P1000009", "1", "40", "1", "50", "4"],
    ]
    marks = write_csv(tmp_path / "marks.csv", rows)
    assert flags("--marks", str(marks), "--out", str(tmp_path / "f.csv")) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "2 problems" in err
    assert "row 4: 'P10000' is not a student PI" in err
    assert "row 5: the first mark 50 is above the maximum 40" in err
    assert not (tmp_path / "f.csv").exists()


def test_xlsx_rows_are_named_as_the_spreadsheet_shows_them(tmp_path, capsys):
    marks = write_xlsx(
        tmp_path / "marks.xlsx",
        [
            ["P1000001", "1", 40, 1, 30, 28],
            [None, None, None, None, None, None],
            ["P1000001", "2", 10, 2, 11, 2],
        ],
    )
    assert flags("--marks", str(marks), "--out", str(tmp_path / "f.csv")) == EXIT_USAGE
    assert "row 4: the first mark 11 is above the maximum 10" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--boundaries", "70,85,55,40", "highest down"),
        ("--boundaries", "85,70,55,140", "not between 0 and 100"),
        ("--boundaries", "85,70,x,40", "not a number"),
        ("--boundaries", "85,70", "need their band names"),
        ("--threshold", "fifteen", "not a number"),
        ("--threshold", "-1", "not between 0 and 100"),
    ],
)
def test_bad_rule_options_are_refused_before_anything_is_written(
    tmp_path, capsys, option, value, said
):
    marks = write_csv(tmp_path / "marks.csv", GOOD_ROWS)
    out = tmp_path / "flags.csv"
    assert flags("--marks", str(marks), "--out", str(out), option, value) == EXIT_USAGE
    assert said in capsys.readouterr().err
    assert not out.exists()


def test_files_that_are_no_table_are_refused(tmp_path, capsys):
    not_a_workbook = tmp_path / "marks.xlsx"
    not_a_workbook.write_bytes(b"PK\x03\x04 not really a zip")
    assert flags("--marks", str(not_a_workbook), "--out", str(tmp_path / "f.csv")) == EXIT_USAGE
    assert "cannot be read" in capsys.readouterr().err
    missing = tmp_path / "missing.csv"
    assert flags("--marks", str(missing), "--out", str(tmp_path / "f.csv")) == EXIT_USAGE
    assert "no such file" in capsys.readouterr().err
    marks = write_csv(tmp_path / "marks.csv", GOOD_ROWS)
    assert flags("--marks", str(marks), "--out", str(marks)) == EXIT_USAGE
    assert "would write over an input" in capsys.readouterr().err
    assert flags("--marks", str(marks), "--out", str(tmp_path / "f.xlsx")) == EXIT_USAGE


def test_text_that_could_run_in_a_spreadsheet_is_neutralised(tmp_path):
    marks = write_csv(tmp_path / "marks.csv", GOOD_ROWS)
    out = tmp_path / "flags.csv"
    code = flags(
        "--marks", str(marks), "--out", str(out), "--boundaries", "50", "--bands", "=HYPERLINK(1),N"
    )
    assert code == EXIT_OK
    assert read_flags(out)[0]["first_band"] == "'=HYPERLINK(1)"


def test_the_installed_command_exits_2_on_bad_input_and_0_on_good(tmp_path):
    marks = write_csv(tmp_path / "marks.csv", GOOD_ROWS)
    out = tmp_path / "flags.csv"
    run = [sys.executable, "-m", "etma_helper", "flags", "--marks", str(marks), "--out", str(out)]
    done = subprocess.run(run, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert read_flags(out) == EXPECTED
    write_csv(marks, bad([["P1000009", "1", "40", "1", "41", "3"]]))
    out.unlink()
    failed = subprocess.run(run, capture_output=True, text=True, timeout=60)
    assert failed.returncode == 2
    assert "row 4: the first mark 41 is above the maximum 40" in failed.stderr
    assert failed.stdout == "" and not out.exists()


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252"])
def test_csv_as_excel_saves_it_is_read(tmp_path, encoding):
    text = "PI,name,question,max,first,second\r\nP1000001,Zoë Müller,1,80,57,55\r\n"
    marks = tmp_path / "marks.csv"
    marks.write_bytes(text.encode(encoding))
    out = tmp_path / "flags.csv"
    assert flags("--marks", str(marks), "--out", str(out)) == EXIT_OK
    assert read_flags(out)[0]["reason"] == "straddles the Pass 2 / Pass 3 boundary (71.3% / 68.8%)"
    from etma_helper.marks_file import read_marks

    assert read_marks(marks)[0].name == "Zoë Müller"
