"""What the tutor-facing tests of the OSCAR page read and do, beyond tests/browsers' page object:
the toolbar's counts and next steps, the codes table's names, logging in to eTMA in the tab the
page opened, and the in-browser contrast and focus measurements."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.browsers.session import BrowserSession

# WCAG 2 contrast of each element's rendered colour on its rendered background: the first
# non-transparent background walking up (through the toolbar's shadow root to its host).
CONTRAST = """
(root, selectors) => {
  const channel = (value) => {
    const c = value / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const parse = (text) => {
    const [r, g, b, a = 1] = (text.match(/[\\d.]+/g) || []).map(Number);
    return { r, g, b, a };
  };
  const luminance = ({ r, g, b }) =>
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const up = (node) => node.parentElement ?? node.getRootNode()?.host ?? null;
  const background = (node) => {
    for (let at = node; at; at = up(at)) {
      const colour = parse(getComputedStyle(at).backgroundColor);
      if (colour.a > 0) return { colour, at: `${at.tagName}.${at.className || ""}` };
    }
    return { colour: { r: 255, g: 255, b: 255, a: 1 }, at: "canvas" };
  };
  const found = [];
  for (const selector of selectors) {
    for (const node of root.querySelectorAll(selector)) {
      if (!node.getClientRects().length || !node.textContent.trim()) continue;
      const fg = parse(getComputedStyle(node).color);
      const bg = background(node);
      const [light, dark] = [luminance(fg), luminance(bg.colour)].sort((x, y) => y - x);
      const row = node.closest("tr[data-etma-pi]");
      found.push({
        selector,
        state: row?.dataset.etmaState ?? node.dataset?.state ?? node.dataset?.kind ?? "",
        band: row ? getComputedStyle(row).backgroundColor : bg.at,
        colour: getComputedStyle(node).color,
        on: `rgb(${bg.colour.r}, ${bg.colour.g}, ${bg.colour.b})`,
        ratio: Math.round(((light + 0.05) / (dark + 0.05)) * 100) / 100,
      });
    }
  }
  return found;
}
"""

ROW_PARTS = [
    "tr[data-etma-pi] .etma-helper-words",
    "tr[data-etma-pi] .etma-helper-detail",
    "tr[data-etma-pi] .etma-helper-open",
]
TOOLBAR_PARTS = ['[data-role="message"]', '[data-role="counts"] [data-state]', ".steps button"]


def contrasts(browser: BrowserSession) -> list[dict]:
    """Every shown state colour on the page and in the toolbar, with its contrast ratio."""
    rows = browser.run(f"(selectors) => ({CONTRAST})(document, selectors)", ROW_PARTS)
    toolbar = browser.run_in_toolbar(CONTRAST, TOOLBAR_PARTS)
    return rows + toolbar


def focus(browser: BrowserSession) -> str | None:
    """The toolbar control holding the keyboard focus, when the document's focus is the toolbar's
    host: its data-action (``cancel``...); None when the focus is anywhere else."""
    return browser.focused_toolbar_control()


def counts(browser: BrowserSession) -> dict[str, str]:
    """The toolbar's live counts: state → its words ("12 done")."""
    return browser.texts('[data-role="counts"] [data-state]', "data-state", in_toolbar=True)


def next_steps(browser: BrowserSession) -> list[str]:
    """The buttons the toolbar offers after a job, by their data-action."""
    return browser.run_in_toolbar(
        "(root) => [...root.querySelectorAll('[data-role=\"next-steps\"] button')]"
        ".map(b => b.dataset.action)"
    )


def ticked_pis(browser: BrowserSession) -> set[str]:
    """The students whose row checkbox is ticked."""
    return set(
        browser.run(
            "() => [...document.querySelectorAll('tr[data-etma-pi]')]"
            ".filter(r => r.querySelector('input.etma-helper-select')?.checked)"
            ".map(r => r.dataset.etmaPi)"
        )
    )


def codes_table_rows(folder: Path) -> dict[str, dict[str, str]]:
    """The codes table under the assignment's ``folder``: PI → its row (Name, Code, Status...)."""
    with open(folder / "confirmation_codes.csv", newline="", encoding="utf-8") as table:
        return {row["PI"]: row for row in csv.DictReader(table)}


def sign_in_to_etma(browser: BrowserSession, sites) -> None:
    """The tutor logs in to eTMA in the tab the page's "Log in to eTMA" opened, through the
    practice eTMA's own form. (With a sign-on host, this is the one step that changes.)"""
    browser.wait(lambda: browser.current_url().startswith(sites.etma_url), "eTMA in the new tab")
    browser.log_in(sites.etma_url + "etma/login", *sites.ETMA_LOGIN)


def press_log_in_to_etma(browser: BrowserSession, sites, sign_in=sign_in_to_etma) -> None:
    """Press the page's "Log in to eTMA", log in in the tab it opens (``sign_in``: eTMA's own
    form, or a sign-on host's), and come back."""
    oscar_tab = browser.current_tab()
    before = set(browser.tabs())
    browser.press("login-etma")
    new = browser.wait(lambda: set(browser.tabs()) - before, "a new tab for eTMA")
    (tab,) = new
    browser.switch_to_tab(tab)
    sign_in(browser, sites)
    browser.close_tab()
    browser.switch_to_tab(oscar_tab)


def run_again_fetches_exactly(browser: BrowserSession, sites, cohort, rest: list[str]) -> None:
    """Press "Run again": every student ends finished, eTMA is asked for exactly ``rest`` (a
    search each, a download for those with files), and the selection is now those students."""
    sites.reset_hits()
    browser.press("run-again")
    browser.wait_for_message("Finished", timeout=120)
    after = browser.wait_for_finished_rows(len(cohort.students))
    assert set(after.values()) <= {"done", "not_submitted"}
    assert sites.etma_hits[("POST", "/etma/student")] == len(rest)
    with_files = [pi for pi in rest if cohort.student(pi).files]
    assert sites.etma_hits[("POST", "/etma/download")] == len(with_files)
    assert ticked_pis(browser) == set(rest)
