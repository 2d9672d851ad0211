"""OSCAR's marks page in real Chromium and Firefox: each student's flag, reason and chart from
the helper's rule; "Select flagged" ticks exactly those students on the work allocation, where Get
confirmation codes fetches exactly them; the options page's threshold changes who is flagged."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.browsers.session import FINAL_STATES, REPO
from tests.e2e.page_checks import ticked_pis
from tests.sites.cohort import CASE_REASONS
from tests.sites.marks import marks_path

DOC_IMAGES = REPO / "docs" / "images"
#: The chart's plot height in pixels (extension/content/chart.js SIZE.plot).
PLOT = 36
FLAGGED_ROW = "tr[data-etma-flag]"


def expected_flags(cohort) -> dict[str, str]:
    words = {True: "yes", False: "no", None: "incomplete"}
    return {s.pi: words[cohort.third_marking_required(s.pi)] for s in cohort.students}


def open_marks(browser, sites) -> dict[str, str]:
    """Open the marks page and wait for the helper's answer; each student's flag, by PI."""
    browser.navigate(sites.oscar_url.rstrip("/") + marks_path(sites.cohort))
    browser.wait_for_toolbar()
    browser.wait_for_message("need third marking")
    return browser.run(
        "(s) => Object.fromEntries([...document.querySelectorAll(s)]"
        ".map(r => [r.dataset.etmaPi, r.dataset.etmaFlag]))",
        FLAGGED_ROW,
    )


def marks_cell(pi: str, role: str) -> str:
    return f'tr[data-etma-pi="{pi}"] td.etma-helper-marks [data-role="{role}"]'


def chart_bars(browser, pi: str) -> list[list]:
    return browser.run(
        "(pi) => [...document.querySelectorAll("
        '`tr[data-etma-pi="${pi}"] svg.etma-helper-chart rect`)].map(r => [r.dataset.question,'
        " r.dataset.marker, r.dataset.mark, Number(r.getAttribute('height')),"
        " r.getAttribute('fill')])",
        pi,
    )


def test_each_student_shows_the_rules_flag_reason_and_a_chart_of_their_marks(
    browser, sites, cohort, artefacts
):
    flags = open_marks(browser, sites)
    assert flags == expected_flags(cohort)
    flagged = [pi for pi, flag in flags.items() if flag == "yes"]
    assert browser.text('[data-action="select-flagged"]', in_toolbar=True) == (
        f"Select flagged ({len(flagged)})"
    )
    # The reasons, in the words, for every flagged student.
    for pi in flagged:
        reason = browser.text(marks_cell(pi, "reason"))
        for why in CASE_REASONS[cohort.marks[pi].case]:
            assert ("marks differ by" if why == "differ" else "straddles the") in reason, reason
    for pi, flag in flags.items():
        words = browser.text(marks_cell(pi, "flag"))
        assert (
            words
            == {
                "yes": "Third marking needed",
                "no": "No third marking",
                "incomplete": "Marks incomplete",
            }[flag]
        )

    straddle = next(s for s in cohort.students if cohort.marks[s.pi].case == "straddle")
    assert browser.text(marks_cell(straddle.pi, "reason")) == (
        "straddles the Pass 2 / Pass 3 boundary (71.7% / 68.3%)"
    )
    assert browser.text(marks_cell(straddle.pi, "totals")) == "First 71.7% · Second 68.3%"
    assert browser.text(marks_cell(straddle.pi, "bands")) == "Pass 2 / Pass 3"
    differ = next(s.pi for s in cohort.students if cohort.marks[s.pi].case == "differ")
    assert browser.text(marks_cell(differ, "reason")) == "marks differ by 23.3% (over 15%)"

    # The chart: a pair of bars per question, each the share of that question's maximum.
    marks = cohort.marks[straddle.pi]
    bars = chart_bars(browser, straddle.pi)
    expected = []
    for question, first, second in zip(cohort.questions, marks.first, marks.second, strict=True):
        for marker, mark in (("first", first), ("second", second)):
            expected.append([question.name, marker, str(mark), PLOT * mark / question.maximum])
    assert [bar[:3] for bar in bars] == [e[:3] for e in expected]
    for bar, want in zip(bars, expected, strict=True):
        assert bar[3] == pytest.approx(want[3], abs=0.01)
    assert {bar[4] for bar in bars} == {"#0a4d8c", "#d98a00"}
    described = browser.run(
        '(pi) => document.querySelector(`tr[data-etma-pi="${pi}"] svg desc`).textContent',
        straddle.pi,
    )
    first_question = cohort.questions[0]
    assert described.startswith(
        f"{first_question.name} (out of {first_question.maximum}): "
        f"first {marks.first[0]}, second {marks.second[0]}."
    )
    # A student whose second marker has not finished: an empty outline, no flag.
    missing = next(s.pi for s in cohort.students if cohort.marks[s.pi].case == "second_missing")
    assert any(
        bar[1] == "second" and bar[2] == "" and bar[4] == "none"
        for bar in chart_bars(browser, missing)
    )

    where = DOC_IMAGES if browser.name == "chromium" and not browser.headed else artefacts
    picture = screenshot_of_the_marks(browser, Path(where) / "marks-page.png")
    assert picture.stat().st_size < (150_000 if where == DOC_IMAGES else 1_000_000)


def test_select_flagged_ticks_exactly_them_on_the_work_allocation_and_codes_fetch_them(
    browser, sites, cohort
):
    flags = open_marks(browser, sites)
    flagged = {pi for pi, flag in flags.items() if flag == "yes"}
    # A page's own script cannot press it: only the tutor's real click keeps anything.
    before = browser.message()
    browser.run_in_toolbar(
        "(root) => root.querySelector('[data-action=\"select-flagged\"]').click()"
    )
    browser.stays(lambda: browser.message() == before, 1, "nothing kept for a synthetic click")

    browser.press("select-flagged")
    browser.wait_for_message("flagged for third marking kept")

    browser.open_allocation(sites)
    message = browser.wait_for_message("selected from the marks page")
    assert message == (
        f"{len(flagged)} students flagged for third marking selected from the marks page."
    )
    assert ticked_pis(browser) == flagged
    assert browser.toolbar_text("count").startswith(f"{len(flagged)} of")

    sites.reset_hits()
    browser.press("codes")
    # The job's own summary: other rows may still show an earlier test's job, as a page that
    # catches up does, so the rows alone cannot say when this job ended.
    browser.wait_for_message("Finished", timeout=120)
    states = browser.row_states()
    assert all(states[pi] in FINAL_STATES for pi in flagged), states
    assert sites.etma_hits[("POST", "/etma/student")] == len(flagged)
    assert sites.etma_hits[("POST", "/etma/download")] == 0

    # Used once: the work allocation opened again starts from nothing selected.
    browser.open_allocation(sites)
    browser.stays(lambda: not ticked_pis(browser), 1, "no selection carried a second time")


def test_a_threshold_changed_in_the_options_changes_who_is_flagged(browser, sites, cohort):
    differ = next(s.pi for s in cohort.students if cohort.marks[s.pi].case == "differ")
    before = open_marks(browser, sites)
    assert before[differ] == "yes"
    browser.open_options()
    browser.wait(lambda: browser.value("#threshold") == "15", "the default threshold")
    assert browser.value("#boundaries") == "85, 70, 55, 40"
    try:
        browser.fill("#threshold", "fifteen")
        browser.click("#rule-save")
        browser.wait_for_text('#third-marking .field-error[data-for="threshold"]', "0 to 100")
        browser.fill("#threshold", "25")
        browser.click("#rule-save")
        browser.wait_for_text("#rule-status", "Saved")

        after = open_marks(browser, sites)
        # 36.7 % against 13.3 %, both Fail: 23.3 apart is not over 25.
        assert after[differ] == "no"
        # Only the students flagged for the difference alone are no longer flagged.
        changed = {pi for pi in before if before[pi] != after[pi]}
        assert differ in changed
        assert all(CASE_REASONS[cohort.marks[pi].case] == ("differ",) for pi in changed)
        assert browser.wait_for_message("over 25%")
    finally:
        browser.open_options()
        browser.wait(lambda: browser.value("#threshold"), "the saved threshold")
        browser.click("#rule-defaults")
        browser.wait_for_text("#rule-status", "defaults")
    assert open_marks(browser, sites) == before


def screenshot_of_the_marks(browser, path: Path) -> Path:
    """The toolbar and the first students' rows: the window's top, as wide as the table (small
    enough for the README)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    browser.run("() => document.querySelector('#etma-helper-toolbar').scrollIntoView()")
    if browser.name != "chromium":
        return browser.screenshot(path)
    top, width, height = browser.run(
        "() => { const table = document.querySelector('table.marks');"
        " const rows = document.querySelectorAll('tr[data-etma-flag]');"
        " const toolbar = document.querySelector('#etma-helper-toolbar');"
        " const last = rows[Math.min(2, rows.length - 1)];"
        " return [window.scrollY + toolbar.getBoundingClientRect().top - 4,"
        " Math.ceil(table.getBoundingClientRect().right) + 8,"
        " Math.ceil((last.nextElementSibling ?? last).getBoundingClientRect().bottom"
        " - toolbar.getBoundingClientRect().top) + 8]; }"
    )
    clip = {"x": 0, "y": top, "width": width, "height": height, "scale": 1}
    shot = browser.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "clip": clip})
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


# The page's own script re-renders the table without this script's cells, with one changed mark.
RE_RENDER = """(pi, column, text) => {
  const table = document.querySelector('table.marks');
  const copy = table.cloneNode(true);
  copy.querySelectorAll('.etma-helper-cell').forEach((cell) => cell.remove());
  copy.querySelectorAll('[data-etma-pi]').forEach((row) => {
    delete row.dataset.etmaPi; delete row.dataset.etmaFlag; });
  const row = [...copy.rows].find((r) => [...r.cells].some((c) => c.textContent.trim() === pi));
  row.cells[column].textContent = text;
  table.replaceWith(copy);
}"""


def test_a_re_rendered_table_with_a_changed_mark_is_checked_again(browser, sites, cohort):
    flags = open_marks(browser, sites)
    agree = next(s.pi for s in cohort.students if cohort.marks[s.pi].case == "agree")
    assert flags[agree] == "no"
    first, second = list(cohort.marks[agree].first), cohort.marks[agree].second
    q3 = 2  # 20 marks, weight 1: the first marker's mark there drops to 0
    first[q3] = 0
    # Columns: name, PI, marker, then the questions.
    browser.run(RE_RENDER, agree, 3 + q3, "0")
    possible = sum(q.weight * q.maximum for q in cohort.questions)
    totals = [
        sum(q.weight * m for q, m in zip(cohort.questions, marks, strict=True)) * 100 / possible
        for marks in (first, second)
    ]
    difference = abs(totals[0] - totals[1])
    assert difference > 15
    browser.wait(
        lambda: browser.attribute(f'tr[data-etma-pi="{agree}"]', "data-etma-flag") == "yes",
        "the changed student flagged",
    )
    assert f"marks differ by {difference:.1f}% (over 15%)" in browser.text(
        marks_cell(agree, "reason")
    )
    assert browser.count("td.etma-helper-marks") == len(cohort.students)
    assert browser.count("#etma-helper-toolbar") == 1


def test_a_mark_above_its_maximum_is_named_and_nothing_is_flagged(browser, sites, cohort):
    open_marks(browser, sites)
    student = cohort.students[0]
    browser.run(RE_RENDER, student.pi, 3, "99")  # Q1 is out of 10
    message = browser.wait_for_message("above the maximum")
    assert f"({student.pi}, Q1): the first mark 99 is above the maximum 10" in message
    assert browser.count(FLAGGED_ROW) == 0
    assert not browser.enabled('[data-action="select-flagged"]', in_toolbar=True)


# The page's script makes the table ``copies`` times as long: every student again under new PIs.
LONGER = """(copies) => {
  const table = document.querySelector('table.marks');
  const copy = table.cloneNode(true);
  copy.querySelectorAll('.etma-helper-cell').forEach((cell) => cell.remove());
  const rows = [...copy.rows].filter((r) => r.cells.length > 5 && /^[A-Z]\\d{7}$/.test(
    r.cells[1].textContent.trim()));
  const body = copy.tBodies[0];
  for (let n = 1; n < copies; n += 1) {
    rows.forEach((first, i) => {
      const a = first.cloneNode(true), b = first.nextElementSibling.cloneNode(true);
      a.cells[1].textContent = 'X' + String(n * 1000 + i).padStart(7, '0');
      body.append(a, b);
    });
  }
  table.replaceWith(copy);
}"""


def test_a_long_marks_table_is_checked_in_turns_and_every_student_answered(browser, sites, cohort):
    flags = open_marks(browser, sites)
    # 600 students, 3,000 rows of marks: two turns of at most 400 students (ROWS_PER_REQUEST
    # in content/marks.js), each well inside the helper's limits
    copies = 20
    browser.run(LONGER, copies)
    total = copies * len(cohort.students)
    flagged = copies * sum(1 for flag in flags.values() if flag == "yes")
    browser.wait_for_message(f"of {total} need third marking", timeout=60)
    assert browser.count("td.etma-helper-marks") == total
    assert browser.count('tr[data-etma-flag="yes"]') == flagged
    assert browser.text('[data-action="select-flagged"]', in_toolbar=True) == (
        f"Select flagged ({flagged})"
    )
