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
