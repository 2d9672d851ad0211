"""The helper's records are built by name: a field added or moved cannot shift another."""

from __future__ import annotations

import pytest

from etma_helper.records import Outcome


def test_an_outcome_is_built_with_keywords_only():
    # Positionally, a new field between reason and code would silently take the code's value.
    with pytest.raises(TypeError):
        Outcome("P1234567", "failed", "No files.", "AB12-CD34")  # type: ignore[misc]
    outcome = Outcome(pi="P1234567", state="done", zip_name="TM351_TMA02_P1234567.zip")
    assert outcome.zip_name == "TM351_TMA02_P1234567.zip" and outcome.reason == ""


def test_nothing_submitted_is_a_final_state_of_its_own_after_done():
    from etma_helper.records import FINAL_STATES, STATES

    assert FINAL_STATES == ("done", "not_submitted", "failed", "needs_login", "cancelled")
    assert STATES == ("queued", "working", *FINAL_STATES)


def test_a_students_message_carries_name_submission_date_and_late_flag():
    outcome = Outcome(
        pi="P1234567",
        state="done",
        code="AB12-CD34",
        name="Ada Lovelace",
        submitted="2024-03-11T14:22",
        late=False,
    )
    message = outcome.to_message()
    assert message["name"] == "Ada Lovelace"
    assert message["submitted"] == "2024-03-11T14:22"
    assert message["late"] is False
    unknown = Outcome(pi="P1234567", state="not_submitted").to_message()
    assert (unknown["name"], unknown["submitted"], unknown["late"]) == ("", "", None)
