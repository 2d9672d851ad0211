"""The third-marking rule at every edge: exact differences, boundaries, weights, missing marks."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etma_helper.third_marking import (
    INCOMPLETE,
    Bands,
    QuestionMarks,
    Rule,
    RuleError,
    StudentMarks,
    decide,
    flag_rows,
    shown,
    total_percent,
)


def student(*questions: tuple, pi: str = "P1234567") -> StudentMarks:
    """Questions as (maximum, first, second) or (maximum, first, second, weight)."""
    made = []
    for number, spec in enumerate(questions, start=1):
        maximum, first, second, *weight = spec
        made.append(
            QuestionMarks(
                question=f"Q{number}",
                maximum=Fraction(maximum),
                first=None if first is None else Fraction(first),
                second=None if second is None else Fraction(second),
                weight=Fraction(weight[0]) if weight else Fraction(1),
            )
        )
    return StudentMarks(pi=pi, questions=tuple(made))


def test_the_issues_example_straddles_pass_2_and_pass_3():
    decision = decide(student((80, 57, 55)))
    assert decision.first_percent == Fraction(285, 4)  # 71.25 exactly
    assert decision.reasons == ("straddles the Pass 2 / Pass 3 boundary (71.3% / 68.8%)",)
    assert decision.third_marking


def test_a_difference_over_the_threshold_is_worded_with_one_decimal():
    decision = decide(student((160, 20, 50)))  # 12.5% and 31.25%, both Fail
    assert decision.difference == Fraction(75, 4)
    assert decision.reasons == ("marks differ by 18.8% (over 15%)",)
    assert (decision.first_band, decision.second_band) == ("Fail", "Fail")


@pytest.mark.parametrize(
    ("maximum", "first", "second"),
    [
        (60, 23, 14),  # 38.33… − 23.33…: float says 15.000000000000004
        (60, 10, 1),  # float says 15.000000000000002
        (120, 20, 2),  # float says 15.000000000000002
        (140, 26, 5),  # float says 15.000000000000002
        (60, 11, 2),  # float says 14.999999999999998
    ],
)
def test_a_difference_of_exactly_15_is_not_flagged_whatever_floats_say(maximum, first, second):
    as_floats = 100 * first / maximum - 100 * second / maximum
    assert as_floats != 15  # the trap is real
    decision = decide(student((maximum, first, second)))
    assert decision.difference == 15
    assert not decision.third_marking and decision.reasons == ()


def test_a_difference_of_15_made_by_weights_is_not_flagged():
    marks = student((10, 0, 0, "0.1"), (10, "3.5", "1.5", "0.3"))
    weights, firsts, seconds = (0.1, 0.3), (0, 3.5), (0, 1.5)
    possible = sum(w * 10 for w in weights)
    as_floats = 100 * sum(w * m for w, m in zip(weights, firsts, strict=True)) / possible - (
        100 * sum(w * m for w, m in zip(weights, seconds, strict=True)) / possible
    )
    assert as_floats == 15.000000000000002
    decision = decide(marks)
    assert decision.difference == 15
    assert not decision.third_marking


def test_just_over_15_is_flagged_and_the_reason_shows_it_is_over():
    decision = decide(student((10000, 3501, 2000)))
    assert decision.difference == Fraction(1501, 100)
    assert decision.reasons == ("marks differ by 15.01% (over 15%)",)


def test_exactly_15_on_the_top_band_is_not_flagged():
    decision = decide(student((60, 60, 51)))
    assert (decision.first_percent, decision.second_percent) == (100, 85)
    assert decision.first_band == decision.second_band == "Pass 1"
    assert not decision.third_marking


def test_exactly_15_across_a_boundary_gives_only_the_straddle():
    decision = decide(student((60, 51, 42)))  # 85.0 and 70.0
    assert decision.reasons == ("straddles the Pass 1 / Pass 2 boundary (85.0% / 70.0%)",)


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (100, "Pass 1"),
        (85, "Pass 1"),
        (Fraction(8499, 100), "Pass 2"),
        (70, "Pass 2"),
        (Fraction(6999, 100), "Pass 3"),
        (55, "Pass 3"),
        (Fraction(5499, 100), "Pass 4"),
        (40, "Pass 4"),
        (Fraction(3999, 100), "Fail"),
        (0, "Fail"),
    ],
)
def test_a_total_on_a_boundary_belongs_to_the_higher_band(total, band):
    assert Bands().band(Fraction(total)) == band


@pytest.mark.parametrize("boundary", [85, 70, 55, 40])
def test_totals_exactly_on_each_boundary_from_marks(boundary):
    # 0.55 * 100 is 55.00000000000001 in floats; the exact total is 55.
    decision = decide(student((60, boundary * 60 // 100, boundary * 60 // 100)))
    assert decision.first_percent == boundary
    assert decision.first_band == Bands().names[[85, 70, 55, 40].index(boundary)]


def test_a_total_just_below_a_boundary_shows_enough_decimals_to_be_below():
    decision = decide(student((100000, 70000, 69996)))
    assert decision.reasons == ("straddles the Pass 2 / Pass 3 boundary (70.0% / 69.996%)",)


def test_both_reasons_when_both_hold_difference_first():
    decision = decide(student((60, 50, 36)))
    assert decision.reasons == (
        "marks differ by 23.3% (over 15%)",
        "straddles the Pass 2 / Pass 3 boundary (83.3% / 60.0%)",
    )
    assert decision.reason == "; ".join(decision.reasons)


def test_bands_follow_the_markers_order_and_several_boundaries_are_plural():
    decision = decide(student((60, 30, 55)))
    assert decision.reasons[1] == "straddles the Pass 4 / Pass 1 boundaries (50.0% / 91.7%)"


def test_weights_change_the_totals():
    # Q1 10 marks weight 1, Q2 10 marks weight 3: Σw·max = 40.
    marks = student((10, 10, 0, 1), (10, 4, 6, 3))
    assert total_percent(marks.questions, "first") == Fraction(100 * 22, 40)  # 55.0
    assert total_percent(marks.questions, "second") == Fraction(100 * 18, 40)  # 45.0
    decision = decide(marks)
    assert decision.reasons == ("straddles the Pass 3 / Pass 4 boundary (55.0% / 45.0%)",)
    unweighted = decide(student((10, 10, 0), (10, 4, 6)))
    assert (unweighted.first_percent, unweighted.second_percent) == (70, 30)


@pytest.mark.parametrize(
    "questions",
    [
        ((10, 5, None), (10, 5, 5)),
        ((10, None, 5), (10, 5, 5)),
        ((10, None, None),),
    ],
)
def test_a_missing_mark_is_not_flagged_but_incomplete(questions):
    decision = decide(student(*questions))
    assert not decision.third_marking
    assert decision.reasons == (INCOMPLETE,) and decision.reason == "marks incomplete"
    assert decision.difference is None and not decision.complete


def test_an_incomplete_student_far_apart_is_still_not_flagged():
    decision = decide(student((10, 10, 0), (10, 10, None)))
    assert decision.first_percent == 100 and decision.second_percent is None
    assert decision.first_band == "Pass 1" and decision.second_band == ""
    assert not decision.third_marking


def test_custom_threshold_boundaries_and_names():
    rule = Rule(threshold=Fraction(5), bands=Bands((Fraction(60), Fraction(50)), ("A", "B", "C")))
    decision = decide(student((100, 61, 55)), rule)
    assert decision.reasons == (
        "marks differ by 6.0% (over 5%)",
        "straddles the A / B boundary (61.0% / 55.0%)",
    )
    half = Rule(threshold=Fraction(25, 2))
    assert decide(student((1000, 300, 175)), half).reasons == ()  # exactly 12.5
    assert decide(student((1000, 300, 174)), half).reasons == (
        "marks differ by 12.6% (over 12.5%)",
    )


@pytest.mark.parametrize(
    ("boundaries", "names", "complaint"),
    [
        ((70, 85, 55, 40), None, "highest down"),
        ((85, 85, 55, 40), None, "highest down"),
        ((101, 70, 55, 40), None, "between 0 and 100"),
        ((85, 70, 55, -1), None, "between 0 and 100"),
        ((85, 70), None, "need 3 band names"),
        ((), (), "at least one"),
        ((50,), ("A", "A"), "different"),
    ],
)
def test_bad_boundaries_are_refused(boundaries, names, complaint):
    with pytest.raises(RuleError, match=complaint):
        Bands(
            tuple(Fraction(b) for b in boundaries),
            names or ("Pass 1", "Pass 2", "Pass 3", "Pass 4", "Fail"),
        )


def test_a_threshold_outside_0_to_100_is_refused():
    with pytest.raises(RuleError):
        Rule(threshold=Fraction(101))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(285, 4), "71.3"),  # half up, not to even
        (Fraction(275, 4), "68.8"),
        (Fraction(1, 20), "0.1"),
        (Fraction(3, 20), "0.2"),
        (Fraction(149999, 10000), "15.0"),
        (Fraction(200, 3), "66.7"),
        (0, "0.0"),
        (100, "100.0"),
        (None, ""),
    ],
)
def test_numbers_are_shown_to_one_decimal_half_up(value, text):
    assert shown(value) == text


def test_flag_rows_give_the_table_in_order():
    rows = flag_rows(
        [
            decide(student((80, 57, 55), pi="P1000001")),
            decide(student((80, 57, None), pi="P1000002")),
            decide(student((80, 40, 41), pi="P1000003")),
        ]
    )
    assert rows == [
        (
            "P1000001",
            "71.3",
            "68.8",
            "2.5",
            "Pass 2",
            "Pass 3",
            "yes",
            "straddles the Pass 2 / Pass 3 boundary (71.3% / 68.8%)",
        ),
        ("P1000002", "71.3", "", "", "Pass 2", "", "no", "marks incomplete"),
        ("P1000003", "50.0", "51.3", "1.3", "Pass 4", "Pass 4", "no", ""),
    ]


marks_strategy = st.lists(
    st.tuples(
        st.integers(1, 40),  # maximum
        st.integers(0, 100),  # first, as a percent of the maximum
        st.integers(0, 100),  # second, likewise
        st.sampled_from(["1", "2", "0.5", "0.1", "0.3", "3"]),  # weight
    ),
    min_size=1,
    max_size=6,
)


def build(spec) -> StudentMarks:
    return StudentMarks(
        pi="P1234567",
        questions=tuple(
            QuestionMarks(
                question=f"Q{n}",
                maximum=Fraction(maximum),
                first=Fraction(maximum * first, 100),
                second=Fraction(maximum * second, 100),
                weight=Fraction(weight),
            )
            for n, (maximum, first, second, weight) in enumerate(spec, start=1)
        ),
    )


@settings(max_examples=300, deadline=None)
@given(marks_strategy)
def test_swapping_the_markers_changes_no_decision(spec):
    student = build(spec)
    swapped = StudentMarks(
        pi=student.pi,
        questions=tuple(replace(q, first=q.second, second=q.first) for q in student.questions),
    )
    one, other = decide(student), decide(swapped)
    assert one.third_marking == other.third_marking
    assert one.difference == other.difference
    assert (one.first_band, one.second_band) == (other.second_band, other.first_band)


@settings(max_examples=300, deadline=None)
@given(marks_strategy)
def test_the_decision_matches_the_rule_worked_in_high_precision_decimals(spec):
    with localcontext() as context:
        context.prec = 60
        possible = sum(Decimal(w) * m for m, _f, _s, w in spec)
        first = 100 * sum(Decimal(w) * Decimal(m * f) / 100 for m, f, _s, w in spec) / possible
        second = 100 * sum(Decimal(w) * Decimal(m * s) / 100 for m, _f, s, w in spec) / possible
        difference = abs(first - second)
        # Sixty digits leave a total exactly on a boundary a hair either side; such hairs are
        # taken as on it (these small fractions are never that close otherwise).
        hair = Decimal("1e-40")

        def band(total: Decimal) -> int:
            return next((i for i, b in enumerate((85, 70, 55, 40)) if total >= b - hair), 4)

        over = difference > 15 + hair
        differ_bands = band(first) != band(second)
    decision = decide(build(spec))
    assert decision.third_marking == (over or differ_bands)
    assert any(r.startswith("marks differ") for r in decision.reasons) == over


def test_marks_parsed_from_rows_in_memory_are_checked_like_a_file():
    from etma_helper.marks_file import MarksFileError, parse_marks

    header = ["PI", "question", "max", "first", "second"]
    students = parse_marks([header, ["p1234567", "Q1", "80", "57", "55"]], "the marks page")
    assert decide(students[0]).reason == "straddles the Pass 2 / Pass 3 boundary (71.3% / 68.8%)"
    with pytest.raises(MarksFileError) as refused:
        parse_marks([header, ["P1234567", "Q1", "80", "81"]], "the marks page")
    assert [str(p) for p in refused.value.problems] == [
        "row 2: the first mark 81 is above the maximum 80"
    ]
