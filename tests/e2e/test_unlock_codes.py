"""Codes into OSCAR for the students who need them, in real Chromium and Firefox: Fill codes takes
only the selected (or, with none selected, the still-locked students whose code was fetched),
and "Fill and unlock" sends each student's own "Unlock third marking" form to the practice OSCAR
one after another without reloading the page, so every other field keeps what it holds; OSCAR's
answer shows per student; a second run skips the unlocked; a page's script cannot start it."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browsers.session import row_selector

PANEL = '[data-role="fill-panel"]'
# How long a synthetic press is given to (wrongly) reach OSCAR: the practice OSCAR answers in ms.
SETTLE_SECONDS = 1.5


@pytest.fixture
def locked(sites, cohort):
    """The students still locked in the practice OSCAR when the test starts; the ones the test
    unlocks are locked again afterwards, so each test (in each browser) finds students to use."""
    before = set(sites.unlocked)
    yield [s for s in cohort.students if s.pi not in before]
    sites.unlocked.intersection_update(before)


def oscar_origin(sites) -> str:
    parts = urlsplit(sites.oscar_url)
    return f"{parts.scheme}://{parts.netloc}"


def get_codes(browser, students) -> None:
    """Tick ``students`` and get their confirmation codes; wait for the job's summary."""
    for student in students:
        browser.tick(student.pi)
    assert browser.ticked() == len(students), "a tick did not reach its row"
    browser.press("codes")
    submitted = sum(1 for s in students if s.files)
    expected = f"{submitted} done"
    if submitted < len(students):
        expected += f", {len(students) - submitted} with nothing submitted"
    browser.wait_for_message(expected)


def open_panel(browser) -> dict[str, str]:
    """Press Fill codes; the panel's lines, PI → text."""
    browser.press("fill")
    return browser.wait(
        lambda: (
            browser.shown(PANEL, in_toolbar=True)
            and browser.texts(f"{PANEL} [data-fill-pi]", "data-fill-pi", in_toolbar=True)
        ),
        "the fill panel",
    )


def panel_results(browser) -> dict[str, str]:
    """Each panel line's OSCAR column: PI → its words."""
    return browser.run_in_toolbar(
        "(root) => Object.fromEntries([...root.querySelectorAll('[data-fill-pi]')].map(r =>"
        " [r.dataset.fillPi, r.querySelector('[data-role=\"unlock-result\"]').innerText]))"
    )


def row_outcomes(browser) -> dict[str, str]:
    """The rows OSCAR answered an unlock for: PI → outcome."""
    return browser.run(
        "() => Object.fromEntries([...document.querySelectorAll('tr[data-etma-unlock]')]"
        ".map(r => [r.dataset.etmaPi, r.dataset.etmaUnlock]))"
    )


def type_into(browser, pi: str, text: str) -> None:
    browser.click(row_selector(pi, "input[type=text]"))
    browser.type_keys(text)


def test_fill_and_unlock_five_selected_in_one_go_keeps_every_other_field(
    browser, sites, cohort, locked
):
    chosen, typed, copied = locked[:5], locked[5], locked[6]
    browser.open_allocation(sites)
    get_codes(browser, chosen)
    # The tutor has typed into two other rows: their own text, and another student's code.
    type_into(browser, typed.pi, "MY-OWN")
    type_into(browser, copied.pi, copied.code)
    browser.run("() => { window.etmaSamePage = true; }")  # gone if the page reloaded

    listed = open_panel(browser)
    assert set(listed) == {s.pi for s in chosen}
    for student in chosen:
        assert student.code in listed[student.pi]
    about = browser.text(PANEL, in_toolbar=True)
    assert "For the 5 selected students." in about
    confirm = '[data-action="unlock-confirm"]'
    assert browser.text(confirm, in_toolbar=True) == "Fill and unlock 5 students"
    fields_before = browser.code_fields()
    requests_before = len(sites.unlock_requests)
    browser.press("unlock-confirm")

    message = browser.wait_for_message("Unlocked 5 of 5 students in OSCAR.", timeout=30)
    assert "Not unlocked" not in message
    assert {s.pi for s in locked} & sites.unlocked == {s.pi for s in chosen}
    sent = sites.unlock_requests[requests_before:]
    assert [r.pi for r in sent] == [s.pi for s in chosen]
    assert all(r.unlocked for r in sent)
    # Sent from the page itself: OSCAR's own origin, with each student's fetched code.
    assert {r.origin for r in sent} == {oscar_origin(sites)}
    assert [r.code for r in sent] == [s.code for s in chosen]

    assert browser.run("() => window.etmaSamePage") is True
    fields = browser.code_fields()
    assert fields[typed.pi] == "MY-OWN" and fields[copied.pi] == copied.code
    chosen_pis = {s.pi for s in chosen}
    assert {pi: v for pi, v in fields.items() if pi not in chosen_pis} == {
        pi: v for pi, v in fields_before.items() if pi not in chosen_pis
    }
    assert row_outcomes(browser) == dict.fromkeys(chosen_pis, "unlocked")
    assert set(panel_results(browser).values()) == {"Third marking unlocked"}
    for student in chosen:
        assert "Third marking unlocked" in browser.status_text(student.pi)

    # Again, on this page and after a reload: the unlocked are left out, nothing is sent.
    browser.press("fill-cancel")
    browser.press("fill")
    browser.wait_for_message("Nothing to fill or unlock. For the 5 selected students.")
    assert "Left out: 5 already unlocked." in browser.message()
    browser.open_allocation(sites)
    browser.wait(lambda: browser.enabled('[data-action="fill"]', in_toolbar=True), "Fill codes")
    browser.press("fill")
    said = browser.wait_for_message("Nothing to fill or unlock. No one is selected")
    assert "5 already unlocked" in said
    assert len(sites.unlock_requests) == requests_before + 5


def test_a_code_oscar_refuses_is_reported_in_its_words_and_the_rest_unlocked(
    browser, sites, cohort, locked
):
    chosen = locked[:3]
    refused = chosen[1]
    browser.open_allocation(sites)
    get_codes(browser, chosen)
    sites.changed_codes[refused.pi] = "ZZZZ-ZZZZ"  # changed in OSCAR after the codes were fetched
    open_panel(browser)
    requests_before = len(sites.unlock_requests)
    browser.press("unlock-confirm")

    message = browser.wait_for_message("Unlocked 2 of 3 students in OSCAR.", timeout=30)
    oscar_said = f"The confirmation code is not correct for {refused.pi}."
    assert f"({refused.pi}): OSCAR said “{oscar_said}”" in message
    assert {s.pi for s in locked} & sites.unlocked == {chosen[0].pi, chosen[2].pi}
    assert row_outcomes(browser) == {
        chosen[0].pi: "unlocked",
        refused.pi: "refused",
        chosen[2].pi: "unlocked",
    }
    assert oscar_said in browser.status_text(refused.pi)
    assert oscar_said in panel_results(browser)[refused.pi]
    # OSCAR's refusal did not touch the field: it still holds the fetched code.
    assert browser.code_fields()[refused.pi] == refused.code

    # A second run takes only the refused student, and sends only theirs.
    browser.press("fill-cancel")
    listed = open_panel(browser)
    assert list(listed) == [refused.pi]
    assert "Left out: 2 already unlocked." in browser.text(PANEL, in_toolbar=True)
    assert browser.text('[data-action="unlock-confirm"]', in_toolbar=True) == "Unlock 1 student"
    browser.press("unlock-confirm")
    browser.wait_for_message("Unlocked 0 of 1 student in OSCAR.", timeout=30)
    assert [r.pi for r in sites.unlock_requests[requests_before:]] == [
        chosen[0].pi,
        refused.pi,
        chosen[2].pi,
        refused.pi,
    ]


def test_a_pages_script_cannot_unlock(browser, sites, cohort, locked):
    student = locked[0]
    browser.open_allocation(sites)
    get_codes(browser, [student])
    open_panel(browser)  # the panel is open, one of its buttons focused
    before = len(sites.unlock_requests)
    browser.run(
        """() => {
          const host = document.getElementById('etma-helper-toolbar');
          const press = (el, key) => { for (const type of ['keydown', 'keypress', 'keyup'])
            el.dispatchEvent(new KeyboardEvent(type, { key, code: key, bubbles: true,
              cancelable: true, composed: true })); };
          host.click();
          host.dispatchEvent(new MouseEvent('click', { bubbles: true, composed: true }));
          host.focus();
          for (const target of [host, document.activeElement, document.body]) {
            press(target, 'Enter');
            press(target, ' ');
          }
          window.etmaShadow = host.shadowRoot;
        }"""
    )
    browser.stays(
        lambda: len(sites.unlock_requests) == before, SETTLE_SECONDS, "no unlock sent to OSCAR"
    )
    assert browser.run("() => window.etmaShadow") is None
    assert student.pi not in sites.unlocked
    assert row_outcomes(browser) == {}

    # The tutor's own press does it.
    browser.press("unlock-confirm")
    browser.wait_for_message("Unlocked 1 of 1 student in OSCAR.", timeout=30)
    assert student.pi in sites.unlocked


def test_when_oscar_asks_to_sign_in_again_the_rest_wait(browser, sites, cohort, locked):
    chosen = locked[:3]
    browser.open_allocation(sites)
    get_codes(browser, chosen)
    open_panel(browser)
    sites.expire_oscar_sessions()  # the tutor's OSCAR session ends before they press Unlock
    browser.press("unlock-confirm")

    message = browser.wait_for_message("OSCAR asked you to sign in again", timeout=30)
    assert message.startswith("Unlocked 0 of 3 students in OSCAR.")
    assert "unlock the rest (3 students)" in message
    assert not {s.pi for s in chosen} & sites.unlocked
    # OSCAR sent the first to its sign-in page; the others were never sent.
    assert row_outcomes(browser) == {
        chosen[0].pi: "sign_in",
        chosen[1].pi: "not_sent",
        chosen[2].pi: "not_sent",
    }
    fields = browser.code_fields()
    assert all(fields[s.pi] == s.code for s in chosen)  # the filled codes wait in their fields


def test_a_page_wide_form_sends_each_students_own_button(browser, sites, cohort, locked):
    """An ASP.NET-style page, one form around the table: each student is sent with their own
    row's button, so OSCAR unlocks them and no one else, and the other fields stay."""
    chosen, typed = locked[1:3], locked[0]
    browser.open_allocation(sites, "&form=page")
    get_codes(browser, chosen)
    type_into(browser, typed.pi, "MY-OWN")  # the first row: the one a wrong button would send
    open_panel(browser)
    before = len(sites.unlock_requests)
    browser.press("unlock-confirm")

    browser.wait_for_message("Unlocked 2 of 2 students in OSCAR.", timeout=30)
    assert [r.pi for r in sites.unlock_requests[before:]] == [s.pi for s in chosen]
    assert {s.pi for s in locked} & sites.unlocked == {s.pi for s in chosen}
    assert browser.value(row_selector(typed.pi, "input[type=text]")) == "MY-OWN"
