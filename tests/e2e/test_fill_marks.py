"""Fill marks on OSCAR's marks page, in real Chromium and Firefox: the tutor's filled marks
worksheet (written here as Export marks worksheet writes it, then typed into with openpyxl) goes
into each student's third-marks form in the practice OSCAR, unlocking with the worksheet's
confirmation codes where needed, after a preview; OSCAR then holds exactly those marks and
comments; a second Fill marks sends nothing; marks typed by hand in OSCAR are replaced only when
the tutor ticks Replace; one student OSCAR refuses leaves the others saved; OSCAR's error next to
a field is shown for that student; OSCAR asking to sign in again stops the run; a worksheet
with a bad row is refused with the row named and nothing sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from etma_helper.marks_file import read_marks
from etma_helper.worksheet import COMMENT, SHEET_TITLE, third_column, write_worksheet
from tests.e2e.test_marks_page import DOC_IMAGES, marks_cell, open_marks
from tests.sites.marks import SavedThirdMarks, write_marks_csv

PANEL = '[data-role="marks-panel"]'
SETTLE_SECONDS = 1.5


@pytest.fixture
def worksheet(installed, cohort, tmp_path):
    """Write the module's worksheet (flagged students, with their codes) and type into it:
    ``worksheet({pi: (marks, comment)}, codes={pi: code})``; returns its path and PI rows."""
    students = read_marks(write_marks_csv(cohort, tmp_path / "marks.csv"))
    path = installed.download_root / cohort.module / "third_marking.xlsx"

    def write(typed: dict[str, tuple[list, str]], codes: dict[str, str] | None = None) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        given = {s.pi: (s.name, (codes or {}).get(s.pi, s.code)) for s in cohort.students}
        write_worksheet(path, students, codes=given)
        book = load_workbook(path)
        sheet = book[SHEET_TITLE]
        header = [cell.value for cell in sheet[1]]
        for row in range(2, sheet.max_row + 1):
            pi = sheet.cell(row=row, column=1).value
            if pi not in typed:
                continue
            marks, comment = typed[pi]
            for question, mark in zip(cohort.questions, marks, strict=True):
                column = header.index(third_column(question.name)) + 1
                sheet.cell(row=row, column=column, value=mark)
            sheet.cell(row=row, column=header.index(COMMENT) + 1, value=comment)
        book.save(path)
        return path

    return write


def worksheet_pis(path: Path) -> list[str]:
    sheet = load_workbook(path)[SHEET_TITLE]
    return [sheet.cell(row=r, column=1).value for r in range(2, sheet.max_row + 1)]


def flagged_pis(cohort) -> list[str]:
    return [s.pi for s in cohort.students if cohort.third_marking_required(s.pi)]


def fill_marks(browser) -> dict[str, str]:
    """Press Fill marks; each panel row's plan, PI → plan."""
    browser.press("fill-marks")
    return browser.wait(
        lambda: (
            browser.shown(PANEL, in_toolbar=True)
            and browser.texts(f"{PANEL} [data-marks-pi]", "data-marks-pi", in_toolbar=True)
            and browser.run_in_toolbar(
                "(root) => Object.fromEntries([...root.querySelectorAll('[data-marks-pi]')]"
                ".map(r => [r.dataset.marksPi, r.dataset.plan]))"
            )
        ),
        "the Fill marks preview",
        timeout=60,
    )


def panel_cells(browser, role: str) -> dict[str, str]:
    return browser.run_in_toolbar(
        "(root, role) => Object.fromEntries([...root.querySelectorAll('[data-marks-pi]')].map(r =>"
        ' [r.dataset.marksPi, r.querySelector(`[data-role="${role}"]`).innerText]))',
        role,
    )


def saved(marks: list, comment: str, cohort) -> SavedThirdMarks:
    return SavedThirdMarks(
        {q.name: str(m) for q, m in zip(cohort.questions, marks, strict=True)}, comment
    )


def test_fill_marks_unlocks_fills_and_saves_exactly_the_worksheet_and_a_second_run_sends_nothing(
    browser, sites, cohort, worksheet, artefacts
):
    ready, locked_one, locked_two = flagged_pis(cohort)[:3]
    unlocks_before = len(sites.unlock_requests)
    sites.mark_unlocked(ready)
    typed = {
        ready: ([7.5, 6, 15, 3, 4], "Clear argument.\nWeak on Q3's code."),
        locked_one: ([8, 8, 16, 4, 5], ""),
        locked_two: ([2, 3.25, 11, 1, 0], "Needs a clearer structure."),
    }
    worksheet(typed)
    open_marks(browser, sites)
    plans = fill_marks(browser)
    assert plans == {ready: "fill", locked_one: "unlock", locked_two: "unlock"}
    what = panel_cells(browser, "plan")
    assert what[locked_one] == (
        f"Needs unlocking with code {cohort.student(locked_one).code}, then fill"
    )
    assert what[ready] == "Fill: OSCAR holds no third marks yet"
    marks_shown = browser.run_in_toolbar(
        '(root, pi) => root.querySelector(`[data-marks-pi="${pi}"] td:nth-child(3)`).innerText',
        locked_two,
    )
    assert marks_shown == "Q1 2 · Q2 3.25 · Q3 11 · Q4 1 · Q5 0"
    assert browser.text('[data-action="marks-confirm"]', in_toolbar=True) == (
        "Fill 3 students in OSCAR"
    )
    assert sites.third_marks_posts == [] and len(sites.unlock_requests) == unlocks_before
    where = DOC_IMAGES if browser.name == "chromium" and not browser.headed else artefacts
    picture = browser.screenshot(where / "fill-marks-preview.png", selector="#etma-helper-toolbar")
    assert picture.stat().st_size < 200_000

    # A page's own script cannot confirm it: only the tutor's real click sends anything.
    browser.run_in_toolbar(
        "(root) => root.querySelector('[data-action=\"marks-confirm\"]').click()"
    )
    browser.stays(lambda: not sites.third_marks_posts, SETTLE_SECONDS, "nothing sent")

    browser.press("marks-confirm")
    message = browser.wait_for_message("Saved third marks for", timeout=60)
    assert message.startswith("Saved third marks for 3 of 3 students in OSCAR."), message
    assert sites.third_marks == {pi: saved(*typed[pi], cohort) for pi in typed}
    assert {pi for pi in typed if pi != ready} <= sites.unlocked
    unlocks = {r.pi: (r.code, r.unlocked) for r in sites.unlock_requests[unlocks_before:]}
    assert unlocks == {
        pi: (cohort.student(pi).code.upper(), True) for pi in (locked_one, locked_two)
    }
    assert set(panel_cells(browser, "fill-result").values()) == {"Saved in OSCAR"}
    posts = list(sites.third_marks_posts)
    assert sorted(posts) == sorted(typed)

    # Again: OSCAR already shows the same marks for everyone, so nothing is sent.
    plans = fill_marks(browser)
    browser.wait(
        lambda: (
            set(
                browser.run_in_toolbar(
                    "(root) => [...root.querySelectorAll('[data-marks-pi]')]"
                    ".map(r => r.dataset.plan)"
                )
            )
            == {"same"}
        ),
        "every student the same as OSCAR",
    )
    assert browser.wait_for_message("Nothing to change").startswith("Nothing to change: all 3")
    assert not browser.enabled('[data-action="marks-confirm"]', in_toolbar=True)
    assert set(panel_cells(browser, "plan").values()) == {"Same as OSCAR: skipped"}
    browser.stays(lambda: sites.third_marks_posts == posts, SETTLE_SECONDS, "nothing sent again")
    assert len(sites.unlock_requests) == unlocks_before + 2


def test_marks_typed_by_hand_stay_unless_replace_is_ticked_and_a_refusal_leaves_the_others(
    browser, sites, cohort, worksheet
):
    by_hand, refused, plain, wrong_code = flagged_pis(cohort)[:4]
    for pi in (by_hand, refused, plain):
        sites.mark_unlocked(pi)
    hand_typed = saved([1, 1, 1, 1, 1], "typed in OSCAR", cohort)
    sites.save_third_marks(by_hand, hand_typed)
    sites.refuse_third_marks[refused] = "This record is being edited by another user."
    typed = {pi: ([5, 5, 10, 2, 2], f"comment for {pi}") for pi in (by_hand, refused, plain)}
    typed[wrong_code] = ([6, 6, 12, 3, 3], "")
    worksheet(typed, codes={wrong_code: "WRONG-0000"})
    open_marks(browser, sites)
    plans = fill_marks(browser)
    assert plans == {by_hand: "differs", refused: "fill", plain: "fill", wrong_code: "unlock"}
    replace = f'[data-marks-pi="{by_hand}"] input[data-role="replace-marks"]'
    assert browser.checked(replace, in_toolbar=True) is False
    assert "Q1 1 · Q2 1" in panel_cells(browser, "plan")[by_hand] or "Q1 1 · Q2 1" in (
        browser.text(f'[data-marks-pi="{by_hand}"]', in_toolbar=True)
    )
    assert browser.text('[data-action="marks-confirm"]', in_toolbar=True) == (
        "Fill 3 students in OSCAR"
    )

    browser.press("marks-confirm")
    message = browser.wait_for_message("Saved third marks for", timeout=60)
    assert message.startswith("Saved third marks for 1 of 3 students in OSCAR."), message
    assert "This record is being edited by another user." in message
    assert "Kept the marks OSCAR holds for 1 student, as you chose." in message
    results = panel_cells(browser, "fill-result")
    assert results[plain] == "Saved in OSCAR"
    assert "This record is being edited by another user." in results[refused]
    assert "The confirmation code is not correct" in results[wrong_code]
    assert results[by_hand].startswith("Not replaced")
    assert sites.third_marks == {by_hand: hand_typed, plain: saved(*typed[plain], cohort)}
    assert wrong_code not in sites.unlocked
    assert by_hand not in sites.third_marks_posts

    # Chosen: the hand-typed marks are replaced.
    sites.refuse_third_marks.clear()
    plans = fill_marks(browser)
    assert plans[by_hand] == "differs" and plans[plain] == "same"
    browser.click(replace, in_toolbar=True)
    browser.wait(
        lambda: (
            browser.text('[data-action="marks-confirm"]', in_toolbar=True)
            == "Fill 3 students in OSCAR"
        ),
        "the confirm button counting the replaced student",
    )
    browser.press("marks-confirm")
    message = browser.wait_for_message("Saved third marks for", timeout=60)
    assert message.startswith("Saved third marks for 2 of 3 students in OSCAR."), message
    assert sites.third_marks[by_hand] == saved(*typed[by_hand], cohort)
    assert sites.third_marks[refused] == saved(*typed[refused], cohort)
    assert sites.third_marks[plain] == saved(*typed[plain], cohort)


def test_a_bad_row_is_refused_by_row_and_nothing_is_sent(browser, sites, cohort, worksheet):
    unlocks_before = len(sites.unlock_requests)
    open_marks(browser, sites)
    browser.press("fill-marks")
    missing = browser.wait_for_message("There is no marks worksheet at")
    assert "Export marks worksheet first" in missing
    assert not browser.shown(PANEL, in_toolbar=True)

    good, bad = flagged_pis(cohort)[:2]
    sites.mark_unlocked(good)
    path = worksheet({good: ([5, 5, 10, 2, 2], "fine"), bad: ([11, 5, 10, 2, 2], "too high")})
    row = worksheet_pis(path).index(bad) + 2
    browser.press("fill-marks")
    message = browser.wait_for_message("cannot be used")
    assert f"row {row}: the third mark for Q1 (11) is not between 0 and 10" in message
    assert "no marks were filled" in message
    assert not browser.shown(PANEL, in_toolbar=True)
    browser.stays(
        lambda: not sites.third_marks_posts and len(sites.unlock_requests) == unlocks_before,
        SETTLE_SECONDS,
        "nothing sent",
    )
    assert sites.third_marks == {}


def test_oscar_asking_to_sign_in_again_stops_the_run_and_sends_nothing_more(
    browser, sites, cohort, worksheet
):
    first, second = flagged_pis(cohort)[:2]
    for pi in (first, second):
        sites.mark_unlocked(pi)
    worksheet({pi: ([5, 5, 10, 2, 2], "") for pi in (first, second)})
    open_marks(browser, sites)
    assert fill_marks(browser) == {first: "fill", second: "fill"}
    sites.oscar_sessions.clear()  # the tutor's OSCAR session ends while the preview is open
    browser.press("marks-confirm")
    message = browser.wait_for_message("Saved third marks for", timeout=60)
    assert message.startswith("Saved third marks for 0 of 2 students in OSCAR."), message
    results = panel_cells(browser, "fill-result")
    order = [pi for pi in flagged_pis(cohort) if pi in (first, second)]
    assert results[order[0]] == "Not saved: OSCAR asked you to sign in again"
    assert results[order[1]] == "Not saved: OSCAR asked you to sign in again first."
    assert sites.third_marks_posts == [] and sites.third_marks == {}


# The marks page says Q1 is out of 20, where OSCAR's own form still checks 10: the helper takes
# the worksheet's 15, and OSCAR refuses it next to its field.
WIDEN_Q1 = """() => {
  const row = [...document.querySelectorAll('table.marks tr')]
    .find((r) => /Maximum mark/.test(r.textContent));
  [...row.cells].find((c) => c.textContent.trim() === '10').textContent = '20';
}"""


def test_oscars_error_next_to_a_field_is_shown_for_that_student(browser, sites, cohort, worksheet):
    pi = flagged_pis(cohort)[0]
    sites.mark_unlocked(pi)
    worksheet({pi: ([15, 5, 10, 2, 2], "")})
    open_marks(browser, sites)
    before = browser.text(marks_cell(pi, "totals"))
    browser.run(WIDEN_Q1)
    # The marks page reads its table again once the change settles; a preview opened before
    # that would be overtaken by it.
    browser.wait(
        lambda: browser.text(marks_cell(pi, "totals")) not in ("", before), "the marks read again"
    )
    assert fill_marks(browser) == {pi: "fill"}
    browser.press("marks-confirm")
    message = browser.wait_for_message("Saved third marks for", timeout=60)
    assert message.startswith("Saved third marks for 0 of 1 student in OSCAR."), message
    assert panel_cells(browser, "fill-result")[pi] == (
        "Not saved: OSCAR said “Q1: The mark must be between 0 and 10.”"
    )
    assert sites.third_marks_posts == [pi] and sites.third_marks == {}
