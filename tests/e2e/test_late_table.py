"""A work-allocation page that renders its student table from script, after the extension's
content script has already looked for it, still gets the toolbar and a checkbox per row."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from tests import chromium

# When the content script first looked (the start of its first "etma-helper:inject" measure on the
# page's performance timeline) and when the page's own script put the table in.
TIMES = """
const [first] = performance.getEntriesByName("etma-helper:inject");
const shown = window.lateTableShownAt;
return shown === undefined ? null : [first?.startTime ?? null, shown];
"""


def test_a_table_rendered_after_start_up_gets_the_toolbar_and_checkboxes(driver, sites, cohort):
    driver.get(sites.allocation_url + "&late=1")
    looked, shown = chromium.wait(driver, 20).until(lambda d: d.execute_script(TIMES))
    assert looked is not None and looked < shown, "the table was there before the script looked"

    toolbar = chromium.toolbar_root(driver)
    total = len(cohort.students)
    assert len(driver.find_elements(By.CSS_SELECTOR, "tr[data-etma-pi]")) == total
    boxes = driver.find_elements(By.CSS_SELECTOR, "tr[data-etma-pi] input.etma-helper-select")
    assert len(boxes) == total
    count = toolbar.find_element(By.CSS_SELECTOR, '[data-role="count"]')
    assert count.text == f"0 of {total} selected"

    # The late rows work like any others: the tutor's click selects one.
    boxes[0].click()
    chromium.wait(driver, 5).until(lambda d: count.text == f"1 of {total} selected")
