"""A work-allocation page that renders its student table from script, after the extension's
content script has already looked for it, still gets the toolbar and a checkbox per row."""

from __future__ import annotations

from tests.browsers.session import CHECKBOX, ROW

# When the content script first looked (the start of its first "etma-helper:inject" measure on the
# page's performance timeline) and when the page's own script put the table in.
TIMES = """() => {
  const [first] = performance.getEntriesByName("etma-helper:inject");
  const shown = window.lateTableShownAt;
  return shown === undefined ? null : [first?.startTime ?? null, shown];
}"""


def test_a_table_rendered_after_start_up_gets_the_toolbar_and_checkboxes(browser, sites, cohort):
    browser.navigate(sites.allocation_url + "&late=1")
    looked, shown = browser.wait(lambda: browser.run(TIMES), "the late table", 20)
    assert looked is not None and looked < shown, "the table was there before the script looked"

    browser.wait_for_toolbar()
    total = len(cohort.students)
    browser.wait(lambda: browser.count(f"{ROW} {CHECKBOX}") == total, "a checkbox on every row")
    assert browser.count(ROW) == total
    assert browser.toolbar_text("count") == f"0 of {total} selected"

    # The late rows work like any others: the tutor's click selects one.
    browser.tick(cohort.students[0].pi)
    browser.wait(lambda: browser.toolbar_text("count") == f"1 of {total} selected", "1 ticked", 5)
