"""Third marking from start to finish, as a third marker does it, in real Chromium and Firefox
with the real helper against the practice OSCAR and eTMA: the marks page flags who needs it
(with a chart each); Select flagged carries them to the work allocation, where Download scripts
fetches their scripts and Get confirmation codes their codes; Export marks worksheet writes the
worksheet with those codes; the tutor types third marks and comments into it; Fill marks unlocks
each student with their code and saves exactly those marks and comments in OSCAR, which shows
them back; a second Fill marks sends nothing; and a worksheet with a bad row is refused with the
row named and nothing sent."""

from __future__ import annotations

from openpyxl import load_workbook

from etma_helper.worksheet import COMMENT, SHEET_TITLE, third_column
from tests.e2e.test_fill_marks import fill_marks, panel_cells, saved
from tests.e2e.test_marks_page import open_marks
from tests.e2e.test_marks_worksheet import codes_table
from tests.sites.marks import third_marks_path

# How long a refused Fill marks is given to (wrongly) reach OSCAR: the practice OSCAR answers in ms.
SETTLE_SECONDS = 1.5


def third_marks_for(cohort, index: int) -> tuple[list, str]:
    """The marks and comment the tutor types for the ``index``-th worksheet row: each question
    within its maximum, every other one with a half mark, and a comment on every other row."""
    marks: list[float] = []
    for n, question in enumerate(cohort.questions):
        whole = (index + n) % question.maximum  # below the maximum, so a half mark still fits
        marks.append(whole + 0.5 if n % 2 else whole)
    comment = f"Third marker: row {index + 2} looked at again.\nAgreed Q1." if index % 2 else ""
    return marks, comment


def test_flag_fetch_export_fill_and_oscar_holds_exactly_the_typed_marks(
    browser, sites, cohort, installed
):
    # The marks page: who needs third marking, with a chart per student.
    flags = open_marks(browser, sites)
    flagged = [pi for pi, flag in flags.items() if flag == "yes"]
    assert flagged and set(flagged) == {
        s.pi for s in cohort.students if cohort.third_marking_required(s.pi)
    }
    assert browser.count("tr[data-etma-pi] svg.etma-helper-chart") == len(flags)

    # Select flagged, then on the work allocation Download scripts and Get confirmation codes.
    browser.press("select-flagged")
    browser.wait_for_message("flagged for third marking kept")
    browser.open_allocation(sites)
    browser.wait_for_message(f"{len(flagged)} students flagged for third marking selected")
    assert browser.ticked() == len(flagged)
    browser.press("download")
    browser.wait_for_message("Finished", timeout=180)
    folder = installed.download_root / cohort.module / "TMA02"
    for pi in flagged:
        assert (folder / pi).is_dir() == cohort.student(pi).has_submission, pi
    assert browser.ticked() == len(flagged)
    browser.press("codes")
    browser.wait_for_message("Finished", timeout=120)
    codes = codes_table(installed)
    assert {pi: codes.get(pi) for pi in flagged} == {pi: cohort.student(pi).code for pi in flagged}

    # Export marks worksheet: one row per flagged student, with their codes.
    open_marks(browser, sites)
    browser.press("export-worksheet")
    browser.wait_for_message("Worksheet for", timeout=60)
    path = installed.download_root / cohort.module / "third_marking.xlsx"
    book = load_workbook(path)
    sheet = book[SHEET_TITLE]
    header = [cell.value for cell in sheet[1]]
    rows = {sheet.cell(row=r, column=1).value: r for r in range(2, sheet.max_row + 1)}
    assert set(rows) == set(flagged)
    for pi, r in rows.items():
        assert sheet.cell(row=r, column=header.index("Confirmation code") + 1).value == codes[pi]

    # The tutor types third marks and comments for every flagged student, and saves.
    typed = {pi: third_marks_for(cohort, index) for index, pi in enumerate(flagged)}
    for pi, r in rows.items():
        marks, comment = typed[pi]
        for question, mark in zip(cohort.questions, marks, strict=True):
            sheet.cell(row=r, column=header.index(third_column(question.name)) + 1, value=mark)
        sheet.cell(row=r, column=header.index(COMMENT) + 1, value=comment or None)
    book.save(path)

    # Fill marks: every student needs unlocking with their code, then is saved through OSCAR.
    plans = fill_marks(browser)
    assert plans == dict.fromkeys(flagged, "unlock")
    assert sites.third_marks_posts == []
    browser.press("marks-confirm")
    message = browser.wait_for_message("Saved third marks for", timeout=120)
    assert message.startswith(
        f"Saved third marks for {len(flagged)} of {len(flagged)} students in OSCAR."
    ), message
    assert sites.third_marks == {pi: saved(*typed[pi], cohort) for pi in flagged}
    assert set(flagged) <= sites.unlocked
    assert set(panel_cells(browser, "fill-result").values()) == {"Saved in OSCAR"}
    posts = list(sites.third_marks_posts)

    # OSCAR's own page shows the saved marks and comment back.
    shown, (marks, comment) = flagged[1], typed[flagged[1]]
    browser.navigate(sites.oscar_url.rstrip("/") + third_marks_path(cohort, shown))
    page = browser.text("body")
    assert comment.splitlines()[0] in page
    assert all(str(mark) in page for mark in marks)

    # A second Fill marks: everyone already shows the same marks, nothing is sent.
    open_marks(browser, sites)
    fill_marks(browser)
    assert browser.wait_for_message("Nothing to change").startswith(
        f"Nothing to change: all {len(flagged)}"
    )
    assert not browser.enabled('[data-action="marks-confirm"]', in_toolbar=True)
    browser.stays(lambda: sites.third_marks_posts == posts, SETTLE_SECONDS, "nothing sent again")

    # A mark above its maximum typed into one row: refused with that row named, nothing sent.
    book = load_workbook(path)
    sheet = book[SHEET_TITLE]
    bad_pi = flagged[-1]
    question = cohort.questions[0]
    sheet.cell(
        row=rows[bad_pi],
        column=header.index(third_column(question.name)) + 1,
        value=question.maximum + 1,
    )
    book.save(path)
    browser.press("fill-marks")  # closes the earlier preview first
    refused = browser.wait_for_message(f"row {rows[bad_pi]}", timeout=60)
    assert (
        f"row {rows[bad_pi]}: the third mark for {question.name} ({question.maximum + 1}) "
        f"is not between 0 and {question.maximum}"
    ) in refused
    browser.stays(lambda: sites.third_marks_posts == posts, SETTLE_SECONDS, "nothing sent")
    assert sites.third_marks == {pi: saved(*typed[pi], cohort) for pi in flagged}
