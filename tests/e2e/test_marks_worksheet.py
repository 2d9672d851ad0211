"""The marks worksheet from OSCAR's marks page in real Chromium and Firefox: after Select flagged
and Get confirmation codes on the work allocation, "Export marks worksheet" writes
third_marking.xlsx in the helper's folder for the module, with one row per flagged student, their
codes, a frozen header, checks on every mark cell and the reasons highlighted; a third mark the
tutor types into it is kept when the worksheet is exported again."""

from __future__ import annotations

import csv

from openpyxl import load_workbook

from etma_helper.worksheet import COMMENT, HIGHLIGHT, SHEET_TITLE, third_column
from tests.e2e.test_marks_page import marks_cell, open_marks


def codes_for_the_flagged(browser, sites) -> set[str]:
    """Select flagged on the marks page, then Get confirmation codes for them on the work
    allocation; the flagged PIs."""
    flags = open_marks(browser, sites)
    flagged = {pi for pi, flag in flags.items() if flag == "yes"}
    browser.press("select-flagged")
    browser.wait_for_message("flagged for third marking kept")
    browser.open_allocation(sites)
    browser.wait_for_message("selected from the marks page")
    browser.press("codes")
    # The job's own summary: other rows may still show an earlier test's job.
    browser.wait_for_message("Finished", timeout=120)
    return flagged


def codes_table(installed) -> dict[str, str]:
    """The codes the job wrote into its codes table, by PI."""
    path = installed.download_root / "TM351" / "TMA02" / "confirmation_codes.csv"
    with path.open(encoding="utf-8", newline="") as table:
        return {row["PI"]: row["Code"] for row in csv.DictReader(table)}


def test_export_writes_the_flagged_with_codes_and_keeps_a_typed_mark_when_exported_again(
    browser, sites, cohort, installed
):
    flagged = codes_for_the_flagged(browser, sites)
    codes = codes_table(installed)
    flags = open_marks(browser, sites)
    assert {pi for pi, flag in flags.items() if flag == "yes"} == flagged
    assert browser.enabled('[data-action="export-worksheet"]', in_toolbar=True)
    reasons = {pi: browser.text(marks_cell(pi, "reason")) for pi in flagged}

    # A page's own script cannot press it: only the tutor's real click writes anything.
    before = browser.message()
    browser.run_in_toolbar(
        "(root) => root.querySelector('[data-action=\"export-worksheet\"]').click()"
    )
    browser.stays(lambda: browser.message() == before, 1, "nothing written for a synthetic click")
    path = installed.download_root / "TM351" / "third_marking.xlsx"
    assert not path.exists()

    browser.press("export-worksheet")
    message = browser.wait_for_message("Worksheet for", timeout=60)
    uncoded = [pi for pi in flagged if not codes.get(pi)]
    expected = f"Worksheet for {len(flagged)} students written to {path}"
    if uncoded:
        expected += (
            f"; {len(uncoded)} without a confirmation code yet: get their codes on the work "
            "allocation page (Select flagged, then Get confirmation codes) and export again"
        )
    assert message == expected + ". Open folder"

    book = load_workbook(path)
    sheet = book[SHEET_TITLE]
    header = [cell.value for cell in sheet[1]]
    rows = [
        dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)
    ]
    order = [s.pi for s in cohort.students]
    assert [row["PI"] for row in rows] == sorted(flagged, key=order.index)
    for row in rows:
        student = cohort.student(row["PI"])
        assert row["Name"] == student.name
        assert row["Confirmation code"] == (codes.get(row["PI"]) or None)
        assert row["Reason"] == reasons[row["PI"]]
    assert any(row["Confirmation code"] == cohort.student(row["PI"]).code for row in rows)
    assert sheet.freeze_panes == "D2"
    last = len(rows) + 1
    checks = {
        str(v.sqref): (v.type, v.formula1, v.formula2)
        for v in sheet.data_validations.dataValidation
    }
    for question in cohort.questions:
        letter = sheet.cell(
            row=1, column=header.index(third_column(question.name)) + 1
        ).column_letter
        assert checks[f"{letter}2:{letter}{last}"] == ("decimal", "0", str(question.maximum))
    reason = header.index("Reason") + 1
    for number in range(2, last + 1):
        assert sheet.cell(row=number, column=reason).fill.fgColor.rgb.endswith(HIGHLIGHT)

    # The tutor types a third mark and a comment for the first student, saves, exports again.
    first_question = cohort.questions[0]
    typed_pi = rows[0]["PI"]
    mark = min(first_question.maximum, 7)
    sheet.cell(row=2, column=header.index(third_column(first_question.name)) + 1, value=mark)
    sheet.cell(row=2, column=header.index(COMMENT) + 1, value="Agreed with the first marker.")
    book.save(path)
    browser.press("export-worksheet")
    browser.wait(
        lambda: "what you typed for 1 student is kept" in browser.message(),
        "the second export's message",
        timeout=60,
    )
    again = load_workbook(path)[SHEET_TITLE]
    kept = {row[0]: row for row in again.iter_rows(min_row=2, values_only=True)}
    assert set(kept) == flagged
    assert kept[typed_pi][header.index(third_column(first_question.name))] == mark
    assert kept[typed_pi][header.index(COMMENT)] == "Agreed with the first marker."

    # Open folder: the helper opens its own folder for the module.
    browser.click('[data-action="open-worksheet-folder"]', in_toolbar=True)
    assert browser.wait_for_message("Opened") == f"Opened {path.parent}."

    # The worksheet open in a spreadsheet program: not written over, and the page says why.
    written = path.read_bytes()
    lock = path.parent / ".~lock.third_marking.xlsx#"
    lock.write_text("tutor,host,1234", encoding="utf-8")
    browser.press("export-worksheet")
    message = browser.wait_for_message("open in a spreadsheet program", timeout=60)
    assert "save what you typed, close it, then export again" in message
    assert path.read_bytes() == written
    assert browser.enabled('[data-action="export-worksheet"]', in_toolbar=True)
