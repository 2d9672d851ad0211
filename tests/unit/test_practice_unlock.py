"""The practice OSCAR's "Unlock third marking" behaves as the real one does where the extension
depends on it: each unlock answers with the work-allocation page again (so fields not yet sent
are gone), its answer above the table; a wrong, empty or changed code is refused in OSCAR's words;
a form sent from another site's page is refused; every request is recorded for the tests."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from tests.sites import Cohort, PracticeSites


@pytest.fixture(scope="module")
def sites() -> Iterator[PracticeSites]:
    with PracticeSites(Cohort(size=8, seed=351, module="TM351", assignment="TMA02")) as running:
        yield running


@pytest.fixture()
def oscar(sites: PracticeSites) -> Iterator[requests.Session]:
    with requests.Session() as session:
        username, password = sites.OSCAR_LOGIN
        session.post(
            sites.oscar_url + "oscar/login",
            data={"username": username, "password": password},
            timeout=5,
        )
        yield session


def unlock(sites, oscar, pi: str, code: str, **headers: str) -> requests.Response:
    return oscar.post(
        sites.oscar_url + "oscar/confirm",
        data={"module": "TM351", "assignment": "TMA02", "pi": pi, "confirmation_code": code},
        headers=headers,
        timeout=5,
    )


def origin_of(sites) -> str:
    parts = urlsplit(sites.oscar_url)
    return f"{parts.scheme}://{parts.netloc}"


def test_an_unlock_answers_with_the_allocation_page_its_row_unlocked(sites, oscar):
    student = sites.cohort.students[0]
    page = unlock(sites, oscar, student.pi, student.code, Origin=origin_of(sites)).text
    assert f"<b>Third marking unlocked for {student.pi}</b>" in page
    assert "Module TM351 – Assignment TMA 02" in page
    # Every other row asks for its code again, in a new empty field.
    assert page.count('name="confirmation_code"') == len(sites.cohort.students) - 1
    assert sites.unlock_requests[-1].pi == student.pi
    assert sites.unlock_requests[-1].origin == origin_of(sites)
    assert sites.unlock_requests[-1].unlocked

    again = unlock(sites, oscar, student.pi, student.code).text
    assert f"Third marking is already unlocked for {student.pi}." in again
    assert not sites.unlock_requests[-1].unlocked


@pytest.mark.parametrize(
    ("code", "said"),
    [
        ("AAAA-AAAA", "The confirmation code is not correct for {pi}."),
        ("   ", "Enter the confirmation code for {pi}."),
    ],
)
def test_a_wrong_or_empty_code_is_refused_in_oscars_words(sites, oscar, code, said):
    student = sites.cohort.students[1]
    response = unlock(sites, oscar, student.pi, code)
    assert response.status_code == 200
    assert said.format(pi=student.pi) in response.text
    assert student.pi not in sites.unlocked
    assert response.text.count('name="confirmation_code"') == len(sites.cohort.students) - len(
        sites.unlocked
    )


def test_a_code_changed_after_it_was_fetched_is_refused_and_the_new_one_taken(sites, oscar):
    student = sites.cohort.students[2]
    sites.changed_codes[student.pi] = "ZZZZ-ZZZZ"
    try:
        refused = unlock(sites, oscar, student.pi, student.code).text
        assert f"The confirmation code is not correct for {student.pi}." in refused
        assert student.pi not in sites.unlocked
        taken = unlock(sites, oscar, student.pi, "zzzz-zzzz").text
        assert f"Third marking unlocked for {student.pi}" in taken
    finally:
        sites.changed_codes.clear()


def test_a_form_sent_from_another_sites_page_is_refused(sites, oscar):
    student = sites.cohort.students[3]
    response = unlock(sites, oscar, student.pi, student.code, Origin="http://elsewhere.example")
    assert response.status_code == 403
    assert "not sent from OSCAR's own page" in response.text
    assert student.pi not in sites.unlocked


def test_the_page_wide_form_unlocks_the_student_whose_button_was_pressed(sites, oscar):
    first, pressed = sites.cohort.students[4], sites.cohort.students[5]
    page = oscar.get(sites.allocation_url + "&form=page", timeout=5).text
    assert page.count("<form") == 1 and f'name="unlock_{pressed.pi}"' in page
    fields = {"module": "TM351", "assignment": "TMA02", "layout": "page"}
    fields |= {f"code_{s.pi}": "" for s in sites.cohort.students if s.pi not in sites.unlocked}
    fields |= {f"code_{first.pi}": "AAAA-AAAA", f"code_{pressed.pi}": pressed.code}
    answer = oscar.post(
        sites.oscar_url + "oscar/confirm",
        data={**fields, f"unlock_{pressed.pi}": "Unlock third marking"},
        timeout=5,
    ).text
    assert f"Third marking unlocked for {pressed.pi}" in answer
    assert pressed.pi in sites.unlocked and first.pi not in sites.unlocked
    assert answer.count("<form") == 1  # the same layout again
