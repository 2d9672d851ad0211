"""The ``flags`` action through the real helper: the rule's answers for marks a page read."""

from __future__ import annotations

import pytest

from etma_helper import PROTOCOL_VERSION
from tests.hostproc import HostProcess
from tests.integration.test_crash_safety import helper_env
from tests.sites.cohort import CASE_REASONS, INCOMPLETE_CASES


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    process = HostProcess({**helper_env(home), "HOME": str(home)})
    process.send({"id": "hello", "action": "hello", "protocol": PROTOCOL_VERSION})
    hello = process.receive()
    assert hello["status"] == "ok" and "flags" in hello["data"]["actions"]
    yield process
    process.close()


def ask(host, message: dict) -> dict:
    host.send({"id": "f", "action": "flags", **message})
    reply = host.receive()
    assert reply["id"] == "f" and reply["type"] == "reply"
    return reply


def page_rows(cohort) -> list[dict]:
    """The marks as the page reads them: text cells, a blank mark as ""."""
    return [{key.lower(): str(value) for key, value in row.items()} for row in cohort.marks_rows()]


def test_every_student_gets_the_rules_answer_in_the_page_order(host, cohort):
    reply = ask(host, {"rows": page_rows(cohort)})
    assert reply["status"] == "ok", reply
    data = reply["data"]
    assert [s["pi"] for s in data["students"]] == [s.pi for s in cohort.students]
    assert data["threshold"] == "15" and data["boundaries"] == ["85", "70", "55", "40"]
    by_pi = {s["pi"]: s for s in data["students"]}
    for student in cohort.students:
        answer, case = by_pi[student.pi], cohort.marks[student.pi].case
        required = cohort.third_marking_required(student.pi)
        assert answer["third_marking"] is bool(required), (case, answer)
        assert answer["complete"] is (case not in INCOMPLETE_CASES)
        if case in INCOMPLETE_CASES:
            assert answer["reason"] == "marks incomplete" and answer["difference"] == ""
        for reason in CASE_REASONS.get(case, ()):
            words = "marks differ by" if reason == "differ" else "straddles the"
            assert words in answer["reason"], (case, answer)
    assert data["flagged"] == sum(1 for s in cohort.students if cohort.third_marking_required(s.pi))
    assert data["incomplete"] == sum(
        1 for s in cohort.students if cohort.marks[s.pi].case in INCOMPLETE_CASES
    )


def test_the_straddle_student_reads_as_the_issue_words(host, cohort):
    [pi] = [s.pi for s in cohort.students if cohort.marks[s.pi].case == "straddle"][:1]
    answer = {s["pi"]: s for s in ask(host, {"rows": page_rows(cohort)})["data"]["students"]}[pi]
    assert answer["first_percent"] == "71.7" and answer["second_percent"] == "68.3"
    assert answer["first_band"] == "Pass 2" and answer["second_band"] == "Pass 3"
    assert answer["reason"] == "straddles the Pass 2 / Pass 3 boundary (71.7% / 68.3%)"


def test_a_higher_threshold_and_other_boundaries_change_who_is_flagged(host, cohort):
    rows = page_rows(cohort)
    differ = next(s.pi for s in cohort.students if cohort.marks[s.pi].case == "differ")
    before = {s["pi"]: s for s in ask(host, {"rows": rows})["data"]["students"]}
    assert before[differ]["reason"] == "marks differ by 23.3% (over 15%)"
    after = ask(host, {"rows": rows, "threshold": 25, "boundaries": [80, 60, 40, 20]})
    assert after["data"]["threshold"] == "25"
    answer = {s["pi"]: s for s in after["data"]["students"]}[differ]
    # 36.7 % / 13.3 %: 23.3 apart is not over 25, but now across the 20 boundary.
    assert answer["reason"] == "straddles the Pass 4 / Fail boundary (36.7% / 13.3%)"
    named = ask(host, {"rows": rows, "boundaries": [50], "bands": ["Pass", "Fail"]})
    assert named["data"]["bands"] == ["Pass", "Fail"]
    assert {s["first_band"] for s in named["data"]["students"]} <= {"Pass", "Fail", ""}


def test_a_mark_above_its_maximum_is_refused_naming_the_row_and_field(host, cohort):
    rows = page_rows(cohort)
    rows[7]["second"] = "99"
    reply = ask(host, {"rows": rows})
    assert reply["status"] == "error" and reply["code"] == 3
    assert reply["params"] == {"field": "rows[7].second"}
    pi, question = rows[7]["pi"], rows[7]["question"]
    assert f"Row 8 ({pi}, {question}): the second mark 99 is above the maximum" in reply["message"]
    assert "data" not in reply


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"pi": "nobody"}, "rows[2].pi", "is not a student PI"),
        ({"first": "seven"}, "rows[2].first", "is not a number"),
        ({"first": "-1"}, "rows[2].first", "is negative"),
        ({"max": "0"}, "rows[2].max", "not above 0"),
        ({"question": ""}, "rows[2].question", "no question"),
        ({"first": ["7"]}, "rows[2].first", "must be text or a number"),
        ({"name": "x" * 201}, "rows[2].name", "longer than 200"),
    ],
)
def test_each_kind_of_bad_row_is_named(host, cohort, change, field, words):
    rows = page_rows(cohort)
    rows[2].update(change)
    reply = ask(host, {"rows": rows})
    assert reply["code"] == 3 and reply["params"] == {"field": field}, reply
    assert words in reply["message"]


def test_a_question_twice_names_both_rows_as_the_request_counts_them(host, cohort):
    rows = page_rows(cohort)
    rows[1]["question"] = rows[0]["question"]
    reply = ask(host, {"rows": rows})
    assert reply["params"] == {"field": "rows[1].question"}
    assert "Row 2 (" in reply["message"] and "is already on row 1" in reply["message"]


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({"rows": []}, "rows"),
        ({"rows": "P1234567"}, "rows"),
        ({"rows": [{"pi": "P1234567"}] * 20_001}, "rows"),
        ({"rows": [7]}, "rows[0]"),
        ({"rows": [{}]}, "rows[0]"),
        ({"threshold": "a lot"}, "threshold"),
        ({"threshold": 101}, "threshold"),
        ({"threshold": True}, "threshold"),
        ({"boundaries": [70, 85, 55, 40]}, "boundaries"),
        ({"boundaries": [50]}, "bands"),
        ({"boundaries": [50], "bands": ["Pass", "Pass"]}, "bands"),
        ({"boundaries": "85,70"}, "boundaries"),
    ],
)
def test_a_request_that_makes_no_rule_or_table_is_refused(host, cohort, message, field):
    reply = ask(host, {"rows": page_rows(cohort), **message})
    assert reply["status"] == "error" and reply["code"] == 3, reply
    assert reply["params"] == {"field": field}
