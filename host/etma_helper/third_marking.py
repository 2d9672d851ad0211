"""Who needs third marking, and why: the rule, in one place.

For each student and each marker (first, second), with per-question maxima ``max_q``, weights
``w_q`` (default 1) and marks ``m_q``:

- total percent ``T = 100 * Σ w_q·m_q / Σ w_q·max_q``;
- difference ``D = |T_first − T_second|`` (percentage points of the maximum);
- band of a total: the first band whose boundary the total reaches (``Pass 1`` from 85, ``Pass 2``
  from 70, ``Pass 3`` from 55, ``Pass 4`` from 40, else ``Fail``); a total exactly on a boundary
  belongs to the higher band;
- third marking when ``D`` is strictly greater than the threshold (default 15) or the two totals
  fall in different bands; a student missing any mark from either marker is not flagged and is
  listed as "marks incomplete".

Everything is computed exactly, in fractions: a difference of exactly 15 is never flagged, however
the marks and weights would have rounded in floating point. Numbers are rounded only to be shown
(`shown`), to one decimal, half up (71.25 shows as 71.3).

The command line (``etma-helper flags``), the worksheet and the browser's marks page all use this
module; reading a marks file is ``marks_file.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

DEFAULT_THRESHOLD = Fraction(15)
DEFAULT_BOUNDARIES: tuple[Fraction, ...] = (Fraction(85), Fraction(70), Fraction(55), Fraction(40))
DEFAULT_BAND_NAMES: tuple[str, ...] = ("Pass 1", "Pass 2", "Pass 3", "Pass 4", "Fail")
INCOMPLETE = "marks incomplete"
# When one decimal would hide why a student is flagged (a difference of 15.01 shows as 15.0, a
# total of 69.96 as 70.0), the reason shows more decimals, up to this many.
MAX_REASON_DECIMALS = 6


class RuleError(ValueError):
    """A threshold, boundaries or band names that make no rule (says what is wrong)."""


@dataclass(frozen=True)
class Bands:
    """Grade bands: ``names[i]`` from ``boundaries[i]`` (a percent) up; the last name below them.

    Boundaries are strictly descending and within 0..100, and there is one more name than
    boundaries.
    """

    boundaries: tuple[Fraction, ...] = DEFAULT_BOUNDARIES
    names: tuple[str, ...] = DEFAULT_BAND_NAMES

    def __post_init__(self) -> None:
        boundaries = tuple(Fraction(b) for b in self.boundaries)
        object.__setattr__(self, "boundaries", boundaries)
        object.__setattr__(self, "names", tuple(self.names))
        if not boundaries:
            raise RuleError("Give at least one grade boundary.")
        for boundary in boundaries:
            if not 0 <= boundary <= 100:
                raise RuleError(f"The boundary {shown(boundary)} is not between 0 and 100.")
        for higher, lower in zip(boundaries, boundaries[1:], strict=False):
            if lower >= higher:
                raise RuleError(
                    "Grade boundaries go from the highest down, each lower than the one "
                    f"before ({shown(higher)} then {shown(lower)})."
                )
        if len(self.names) != len(boundaries) + 1:
            raise RuleError(
                f"{len(boundaries)} boundaries need {len(boundaries) + 1} band names "
                f"(one above each boundary and one below the last), not {len(self.names)}."
            )
        if any(not name.strip() for name in self.names) or len(set(self.names)) != len(self.names):
            raise RuleError("Band names must be different and not blank.")

    def index(self, total: Fraction) -> int:
        """The band's position (0 = highest): a total exactly on a boundary is in the higher."""
        for position, boundary in enumerate(self.boundaries):
            if total >= boundary:
                return position
        return len(self.boundaries)

    def band(self, total: Fraction) -> str:
        """The name of the band a total percent falls in."""
        return self.names[self.index(total)]


@dataclass(frozen=True)
class Rule:
    """The third-marking rule: a difference strictly over ``threshold`` percentage points, or
    totals in different ``bands``."""

    threshold: Fraction = DEFAULT_THRESHOLD
    bands: Bands = field(default_factory=Bands)

    def __post_init__(self) -> None:
        threshold = Fraction(self.threshold)
        object.__setattr__(self, "threshold", threshold)
        if not 0 <= threshold <= 100:
            raise RuleError(f"The threshold {shown(threshold)} is not between 0 and 100.")


@dataclass(frozen=True)
class QuestionMarks:
    """One question for one student: its maximum, its weight, and each marker's mark (None when
    the marker has not given one)."""

    question: str
    maximum: Fraction
    first: Fraction | None
    second: Fraction | None
    weight: Fraction = Fraction(1)


@dataclass(frozen=True)
class StudentMarks:
    """One student's marks from both markers, question by question, in the page's order."""

    pi: str
    questions: tuple[QuestionMarks, ...]
    name: str = ""


@dataclass(frozen=True)
class Decision:
    """What the rule says about one student.

    Percentages are exact; ``None`` where a marker's marks are incomplete (the difference, when
    either is). ``reasons`` is empty for a complete student who needs no third marking.
    """

    pi: str
    first_percent: Fraction | None
    second_percent: Fraction | None
    difference: Fraction | None
    first_band: str
    second_band: str
    third_marking: bool
    reasons: tuple[str, ...]

    @property
    def complete(self) -> bool:
        """True when both markers gave every mark."""
        return self.difference is not None

    @property
    def reason(self) -> str:
        """The reasons as one line a tutor reads ("" when there are none)."""
        return "; ".join(self.reasons)


def total_percent(questions: Sequence[QuestionMarks], marker: str) -> Fraction | None:
    """``100 * Σ w·m / Σ w·max`` for ``marker`` ("first" or "second"), exactly; None when that
    marker left any question without a mark, or when there is nothing to mark (Σ w·max = 0)."""
    marks = [getattr(q, marker) for q in questions]
    if not questions or any(mark is None for mark in marks):
        return None
    possible = sum((q.weight * q.maximum for q in questions), Fraction(0))
    if possible <= 0:
        return None
    scored = sum((q.weight * mark for q, mark in zip(questions, marks, strict=True)), Fraction(0))
    return 100 * scored / possible


def decide(student: StudentMarks, rule: Rule | None = None) -> Decision:
    """Apply the rule to one student."""
    rule = rule or Rule()
    first = total_percent(student.questions, "first")
    second = total_percent(student.questions, "second")
    first_band = rule.bands.band(first) if first is not None else ""
    second_band = rule.bands.band(second) if second is not None else ""
    if first is None or second is None:
        return Decision(
            student.pi, first, second, None, first_band, second_band, False, (INCOMPLETE,)
        )
    difference = abs(first - second)
    reasons: list[str] = []
    if difference > rule.threshold:
        reasons.append(_differ_reason(difference, rule.threshold))
    if first_band != second_band:
        reasons.append(_straddle_reason(first, second, rule.bands))
    return Decision(
        student.pi,
        first,
        second,
        difference,
        first_band,
        second_band,
        bool(reasons),
        tuple(reasons),
    )


def decide_all(students: Iterable[StudentMarks], rule: Rule | None = None) -> list[Decision]:
    """Apply the rule to every student, in the order given."""
    rule = rule or Rule()
    return [decide(student, rule) for student in students]


def shown(value: Fraction | int | None, decimals: int = 1) -> str:
    """A number as a tutor reads it: rounded half up (away from zero on a tie) to ``decimals``
    places; "" for None. ``shown(Fraction(285, 4))`` is "71.3"."""
    if value is None:
        return ""
    exact = Fraction(value)
    scaled = abs(exact) * 10**decimals
    whole, remainder = divmod(scaled.numerator, scaled.denominator)
    if 2 * remainder >= scaled.denominator:
        whole += 1
    sign = "-" if exact < 0 and whole else ""
    digits = str(whole).rjust(decimals + 1, "0")
    if not decimals:
        return sign + digits
    return f"{sign}{digits[:-decimals]}.{digits[-decimals:]}"


def plain(value: Fraction) -> str:
    """A threshold or boundary as written: 15 as "15", 12.5 as "12.5" (up to 6 decimals)."""
    text = shown(value, MAX_REASON_DECIMALS)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _shown_so_that(value: Fraction, keeps: Callable[[Fraction], bool]) -> str:
    """``value`` to one decimal, or to as many more (up to MAX_REASON_DECIMALS) as it takes for
    the number shown to keep what matters (``keeps(shown_number)``)."""
    for decimals in range(1, MAX_REASON_DECIMALS + 1):
        text = shown(value, decimals)
        if keeps(Fraction(Decimal(text))):
            return text
    return shown(value, MAX_REASON_DECIMALS)


def _differ_reason(difference: Fraction, threshold: Fraction) -> str:
    amount = _shown_so_that(difference, lambda number: number > threshold)
    return f"marks differ by {amount}% (over {plain(threshold)}%)"


def _straddle_reason(first: Fraction, second: Fraction, bands: Bands) -> str:
    """ "straddles the Pass 2 / Pass 3 boundary (71.3% / 68.8%)": the bands and totals in the
    markers' order (first / second); "boundaries" when the totals are more than one band apart."""
    first_index, second_index = bands.index(first), bands.index(second)
    first_total = _shown_so_that(first, lambda number: bands.index(number) == first_index)
    second_total = _shown_so_that(second, lambda number: bands.index(number) == second_index)
    crossed = "boundary" if abs(first_index - second_index) == 1 else "boundaries"
    return (
        f"straddles the {bands.names[first_index]} / {bands.names[second_index]} {crossed} "
        f"({first_total}% / {second_total}%)"
    )


FLAG_COLUMNS = (
    "PI",
    "first_percent",
    "second_percent",
    "difference",
    "first_band",
    "second_band",
    "third_marking",
    "reason",
)


def flag_rows(decisions: Iterable[Decision]) -> list[tuple[str, ...]]:
    """The flags table (`FLAG_COLUMNS`), one row per student: percentages and difference to one
    decimal ("" where marks are incomplete), third_marking "yes" or "no"."""
    return [
        (
            d.pi,
            shown(d.first_percent),
            shown(d.second_percent),
            shown(d.difference),
            d.first_band,
            d.second_band,
            "yes" if d.third_marking else "no",
            d.reason,
        )
        for d in decisions
    ]
