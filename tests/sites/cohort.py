"""A deterministic fake cohort of students, and the zips the eTMA practice site serves.

Everything is derived from ``seed`` so that tests, benchmarks and the demo see the same students,
codes, marks and file bytes on every run.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from typing import BinaryIO

# A fixed timestamp for every zip member keeps the zip bytes reproducible run to run.
ZIP_DATE_TIME = (2024, 3, 14, 9, 30, 0)
# Bit 11 of the general purpose flags: "file name is UTF-8"; the real site's zips carry it.
UTF8_FLAG = 0x800
PAD_MEMBER = "data/sensor_readings.bin"
# OU pass grades (Pass 1 from 85 % …) and the third-marking threshold, as OSCAR applies them.
GRADE_BOUNDARIES = (85, 70, 55, 40)
THIRD_MARKING_DIFFERENCE = 15

FIRST_NAMES = (
    "Amelia",
    "Oliver",
    "Isla",
    "George",
    "Ava",
    "Noah",
    "Freya",
    "Arthur",
    "Zoë",
    "Harry",
    "Priya",
    "Mohammed",
    "Siobhán",
    "Dylan",
    "Chloé",
    "Tomasz",
    "Aisha",
    "Rhys",
    "Grace",
    "Kwame",
    "Mei",
    "Callum",
    "Fatima",
    "José",
    "Niamh",
    "Lukas",
    "Eilidh",
    "Ravi",
    "Hannah",
    "Olumide",
)
LAST_NAMES = (
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Roberts",
    "Patel",
    "Khan",
    "O'Brien",
    "MacDonald",
    "Nowak",
    "Okafor",
    "Chen",
    "Murphy",
    "Hughes",
    "Müller",
    "Campbell",
    "Ahmed",
    "Kowalski",
    "Singh",
    "Lloyd",
    "Fraser",
    "Byrne",
    "Mensah",
    "Walker",
    "García",
)
PI_LETTERS = "ABCDEFGHJKLMNPRSTWXYZ"
# Submissions fall between FIRST_SUBMISSION and 13 days later; those after DUE are late.
FIRST_SUBMISSION = datetime(2024, 3, 1, 8, 0)
DUE = datetime(2024, 3, 12, 12, 0)
# No 0/O or 1/I/L: the codes are meant to be typed in by hand.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

SENTENCES = (
    "The dataset was loaded into a pandas DataFrame and inspected for missing values.",
    "Outliers in the sensor readings were removed using the interquartile range rule.",
    "A MongoDB aggregation pipeline grouped the accidents by local authority.",
    "The SQL query joins the readings table to the stations table on station_id.",
    "Normalising the schema to third normal form removed the update anomalies.",
    "The chart shows a clear seasonal pattern with a peak in late summer.",
    "I am not fully confident in the interpretation of the correlation coefficient here.",
    "Further work could compare these results with the 2019 open data release.",
    "The reproducibility of the notebook was checked by restarting the kernel and running all.",
    "Data cleaning took longer than expected because of inconsistent date formats.",
    "The licence of the source data permits reuse with attribution.",
    "Missing values were imputed with the median of each station's readings.",
)

OPTIONAL_FILES = (
    "{assignment}_answers.ipynb",
    "report.md",
    "code/analysis.py",
    "data/results.csv",
    "code/utils/helpers.py",
    "Zoë's notes.txt",
    "notes on question 3.txt",
)


@dataclass(frozen=True)
class Student:
    """One allocated student: identity, eTMA confirmation code and submitted files (the marks
    are the cohort's: `Cohort.marks`)."""

    name: str
    pi: str
    code: str
    # path inside the zip -> bytes; {} means the student submitted nothing.
    files: dict[str, bytes] = field(hash=False, compare=False, repr=False)

    @property
    def has_submission(self) -> bool:
        """True when the student submitted at least one file."""
        return bool(self.files)


@dataclass(frozen=True)
class Question:
    """One question (OSCAR's marking category) of the assignment: its maximum and weight."""

    name: str
    maximum: int
    weight: int


#: The assignment's questions. Σ weight·maximum is 60, so a total of 15 % of it is 9 marks, and
#: totals such as 38.33… − 23.33… trip up floating-point arithmetic (15.000000000000004).
QUESTIONS = (
    Question("Q1", 10, 1),
    Question("Q2", 10, 1),
    Question("Q3", 20, 1),
    Question("Q4", 5, 2),
    Question("Q5", 5, 2),
)


@dataclass(frozen=True)
class Marks:
    """Both markers' marks for one student, one per question in `QUESTIONS` (None: not given),
    and the marking case (`MARKING_CASES`) they were made for."""

    first: tuple[int | None, ...]
    second: tuple[int | None, ...]
    case: str


#: What the marks of the students are made to show, in turn (student 1 the first case, student
#: 2 the second, …, then again from the top): (case, weighted totals out of 60 for the first
#: and the second marker). None: made at random, close and in one band; a second total of None:
#: the second marker has given no marks yet.
MARKING_CASES: tuple[tuple[str, tuple[int, int | None] | None], ...] = (
    ("agree", None),
    ("straddle", (43, 41)),  # 71.7 % / 68.3 %: Pass 2 / Pass 3
    ("differ", (22, 8)),  # 36.7 % / 13.3 %: both Fail, 23.3 apart
    ("agree", None),
    ("differ_and_straddle", (50, 36)),  # 83.3 % / 60.0 %
    ("fifteen_in_one_band", (23, 14)),  # 38.3 % / 23.3 %: exactly 15 apart, both Fail
    ("second_missing", (40, None)),
    ("agree", None),
    ("fifteen_in_top_band", (60, 51)),  # 100 % / 85 %: exactly 15 apart, 85 is Pass 1
    ("on_boundary_straddle", (42, 41)),  # 70.0 % exactly / 68.3 %
    ("fifteen_across_boundary", (51, 42)),  # 85.0 % / 70.0 %: exactly 15, Pass 1 / Pass 2
    ("agree", None),
    ("second_missing_one", (35, 34)),  # the second marker left one question blank
    ("second_higher", (30, 45)),  # 50.0 % / 75.0 %: both reasons, second above first
    ("pass_4_edge", (24, 23)),  # 40.0 % exactly / 38.3 %: Pass 4 / Fail
    ("on_boundary_agree", (33, 33)),  # 55.0 % both (0.55 * 100 is 55.00000000000001)
)
#: The cases that need third marking, and why: "differ" (over 15 apart), "straddle" (different
#: bands), or both. Every other case with all marks given needs none.
CASE_REASONS: dict[str, tuple[str, ...]] = {
    "straddle": ("straddle",),
    "differ": ("differ",),
    "differ_and_straddle": ("differ", "straddle"),
    "on_boundary_straddle": ("straddle",),
    "fifteen_across_boundary": ("straddle",),
    "second_higher": ("differ", "straddle"),
    "pass_4_edge": ("straddle",),
}
#: The cases with a mark missing ("marks incomplete": never third marked).
INCOMPLETE_CASES = frozenset({"second_missing", "second_missing_one"})


def weighted_total(marks: tuple[int | None, ...]) -> int | None:
    """Σ weight·mark over `QUESTIONS` (out of 60), or None when a mark is missing."""
    if any(mark is None for mark in marks):
        return None
    return sum(q.weight * mark for q, mark in zip(QUESTIONS, marks, strict=True))


def total_percent(marks: tuple[int | None, ...]) -> Fraction | None:
    """A marker's total as an exact percentage of the maximum, or None when a mark is missing."""
    total = weighted_total(marks)
    possible = sum(q.weight * q.maximum for q in QUESTIONS)
    return None if total is None else Fraction(100 * total, possible)


def grade_band(percent: Fraction) -> int:
    """0 for Pass 1 … 3 for Pass 4, 4 for a fail; a total on a boundary takes the higher."""
    return next((i for i, b in enumerate(GRADE_BOUNDARIES) if percent >= b), len(GRADE_BOUNDARIES))


class Cohort:
    """A deterministic cohort of ``size`` students for one module and assignment."""

    def __init__(
        self, size: int = 30, seed: int = 351, module: str = "TM351", assignment: str = "TMA02"
    ) -> None:
        self.size = size
        self.seed = seed
        self.module = module
        self.assignment = assignment
        self.students: list[Student] = self._make_students()
        self._by_pi = {student.pi: student for student in self.students}
        self.questions = QUESTIONS
        #: both markers' marks by PI, made from the marking cases in turn
        self.marks: dict[str, Marks] = {
            student.pi: _make_marks(
                MARKING_CASES[index % len(MARKING_CASES)],
                random.Random(f"{seed}:{student.pi}:marks"),
            )
            for index, student in enumerate(self.students)
        }

    def student(self, pi: str) -> Student:
        """The student with this PI; KeyError if the PI is not in the cohort."""
        return self._by_pi[pi]

    def third_marking_required(self, pi: str) -> bool | None:
        """OSCAR's own answer: True when the totals differ by more than 15 % or fall in
        different grade bands; None while a mark is missing."""
        marks = self.marks[pi]
        first, second = total_percent(marks.first), total_percent(marks.second)
        if first is None or second is None:
            return None
        differ = abs(first - second) > THIRD_MARKING_DIFFERENCE
        return differ or grade_band(first) != grade_band(second)

    def marks_rows(self) -> list[dict[str, object]]:
        """The marks in the long format ``etma-helper flags`` reads: one row per student per
        question (PI, name, question, max, weight, first, second; "" for a missing mark)."""
        return [
            {
                "PI": student.pi,
                "name": student.name,
                "question": question.name,
                "max": question.maximum,
                "weight": question.weight,
                "first": "" if first is None else first,
                "second": "" if second is None else second,
            }
            for student in self.students
            for question, first, second in zip(
                QUESTIONS, self.marks[student.pi].first, self.marks[student.pi].second, strict=True
            )
        ]

    @property
    def due(self) -> datetime:
        """The assignment's cut-off date: a submission after it is late."""
        return DUE

    def submitted_at(self, pi: str) -> datetime:
        """When the student submitted: stable, plausible, derived from the PI (to the minute).

        Not drawn from the cohort's generator, so the students, codes and files stay as they were.
        """
        offset = int.from_bytes(hashlib.sha256(pi.encode()).digest()[:4], "big")
        return FIRST_SUBMISSION + timedelta(minutes=offset % (13 * 24 * 60))

    def is_late(self, pi: str) -> bool:
        """True when the student submitted after the cut-off date."""
        return self.submitted_at(pi) > DUE

    def zip_name(self, pi: str) -> str:
        """The filename the site gives the download, e.g. ``TM351_TMA02_P1234567.zip``."""
        return f"{self.module}_{self.assignment}_{pi}.zip"

    def zip_bytes(self, pi: str, pad_to: int | None = None) -> bytes:
        """The exact zip the eTMA site serves for this student (in memory: keep pads small)."""
        buffer = io.BytesIO()
        self.write_zip(pi, buffer, pad_to)
        return buffer.getvalue()

    def write_zip(self, pi: str, out: BinaryIO, pad_to: int | None = None) -> None:
        """Write the student's zip to a seekable binary file, streaming any padding in chunks.

        ``pad_to`` pads the zip to about that many bytes with an incompressible, stored member so
        that benchmarks can exercise large downloads without holding them in memory.
        """
        student = self.student(pi)
        if not student.files:
            raise ValueError(f"{pi} has no submission, so there is no zip")
        base = _files_zip(student.files)
        pad_size = 0
        if pad_to is not None:
            name_len = len(PAD_MEMBER.encode())
            # Local header (30) and central directory entry (46) both repeat the member name.
            pad_size = pad_to - len(base) - (30 + 46 + 2 * name_len)
        if pad_size <= 0:
            out.write(base)
            return
        with zipfile.ZipFile(out, "w") as archive:
            for path, data in student.files.items():
                archive.writestr(_member_info(path, zipfile.ZIP_DEFLATED), data)
            info = _member_info(PAD_MEMBER, zipfile.ZIP_STORED)
            info.file_size = pad_size
            with archive.open(info, "w") as member:
                for chunk in _incompressible_chunks(f"{self.seed}:{pi}:pad", pad_size):
                    member.write(chunk)

    def _make_students(self) -> list[Student]:
        rng = random.Random(self.seed)
        used_pis: set[str] = set()
        students: list[Student] = []
        for index in range(self.size):
            pi = _unique_pi(rng, used_pis)
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            code = _confirmation_code(rng)
            _draw_retired_marks(rng)
            # About one in twelve students submits nothing.
            submitted = rng.random() >= 1 / 12
            # Guarantee the demo and the tests always see one missing submission early on.
            if index == 5 and not any(not s.files for s in students):
                submitted = False
            # Per-student generator seeded by a string, so one student's files do not shift
            # when the generation of another student's files changes.
            files = self._make_files(random.Random(f"{self.seed}:{pi}")) if submitted else {}
            students.append(Student(name, pi, code, files))
        return students

    def _make_files(self, rng: random.Random) -> dict[str, bytes]:
        count = rng.randint(2, 6)
        optional = [name.format(assignment=self.assignment) for name in OPTIONAL_FILES]
        names = [f"{self.assignment}_report.docx", *rng.sample(optional, count - 1)]
        return {name: _file_content(name, rng, self.module, self.assignment) for name in names}


def _unique_pi(rng: random.Random, used: set[str]) -> str:
    while True:
        # Most real PIs start with a handful of letters; P and X dominate here.
        letter = rng.choice("PPPPX" + PI_LETTERS)
        pi = f"{letter}{rng.randrange(10**7):07d}"
        if pi not in used:
            used.add(pi)
            return pi


def _confirmation_code(rng: random.Random) -> str:
    chars = "".join(rng.choice(CODE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def _draw_retired_marks(rng: random.Random) -> None:
    """Draw what once made each student's single pair of marks (the marks are now per
    question, from their own generator): still drawn, so that every student's PI, code and
    files stay what they have always been."""
    rng.randint(25, 95)
    spread = 25 if rng.random() < 0.25 else 8
    rng.randint(-spread, spread)


def _make_marks(case: tuple[str, tuple[int, int | None] | None], rng: random.Random) -> Marks:
    """Per-question marks whose weighted totals are the case's (see `MARKING_CASES`)."""
    name, totals = case
    if totals is None:
        first = rng.randint(12, 58)
        while True:
            second = first + rng.randint(-6, 6)
            in_range = 0 <= second <= 60
            if in_range and grade_band(Fraction(second * 100, 60)) == grade_band(
                Fraction(first * 100, 60)
            ):
                break
        totals = (first, second)
    first_marks = _spread(totals[0], rng)
    if totals[1] is None:
        second_marks: tuple[int | None, ...] = (None,) * len(QUESTIONS)
    else:
        second_marks = _near(first_marks, totals[1], rng)
    if name == "second_missing_one":
        second_marks = (*second_marks[:-1], None)
    return Marks(first_marks, second_marks, name)


def _near(marks: tuple[int, ...], total: int, rng: random.Random) -> tuple[int, ...]:
    """Marks close to ``marks`` question by question (as a second marker's mostly are) whose
    weighted sum is ``total``: one mark at a time up or down; spread afresh if that gets stuck."""
    near = list(marks)
    while (gap := total - sum(q.weight * m for q, m in zip(QUESTIONS, near, strict=True))) != 0:
        step = 1 if gap > 0 else -1
        movable = [
            i
            for i, q in enumerate(QUESTIONS)
            if q.weight <= abs(gap) and 0 <= near[i] + step <= q.maximum
        ]
        if not movable:
            return _spread(total, rng)
        near[rng.choice(movable)] += step
    return tuple(near)


def _spread(total: int, rng: random.Random) -> tuple[int, ...]:
    """Marks per question, each within its maximum, whose weighted sum is ``total`` (0..60):
    first how much of it the weight-2 questions carry, then each group's marks one at a time to
    a question with room, chosen in proportion to the room left."""
    marks = [0] * len(QUESTIONS)
    double = [i for i, q in enumerate(QUESTIONS) if q.weight == 2]
    single = [i for i, q in enumerate(QUESTIONS) if q.weight == 1]
    double_room = sum(QUESTIONS[i].maximum for i in double)
    single_room = sum(QUESTIONS[i].maximum for i in single)
    low = max(0, -(-(total - single_room) // 2))
    doubled = rng.randint(low, min(double_room, total // 2))
    for group, count in ((double, doubled), (single, total - 2 * doubled)):
        for _ in range(count):
            room = [QUESTIONS[i].maximum - marks[i] for i in group]
            marks[rng.choices(group, weights=room)[0]] += 1
    return tuple(marks)


def _paragraphs(rng: random.Random, target_bytes: int) -> str:
    lines: list[str] = []
    size = 0
    while size < target_bytes:
        line = " ".join(rng.sample(SENTENCES, rng.randint(2, 4)))
        lines.append(line)
        size += len(line) + 2
    return "\n\n".join(lines)


def _file_content(name: str, rng: random.Random, module: str, assignment: str) -> bytes:
    target = rng.randint(1500, 5000)
    if name.endswith(".docx"):
        return _docx(_paragraphs(rng, target).split("\n\n"))
    if name.endswith(".ipynb"):
        return _notebook(rng, module, assignment)
    if name.endswith(".csv"):
        rows = ["station_id,date,reading,flag"]
        for row in range(rng.randint(60, 150)):
            flag = rng.choice(["ok", "ok", "ok", "suspect"])
            rows.append(
                f"S{rng.randint(1, 40):03d},2023-{row % 12 + 1:02d}-"
                f"{row % 28 + 1:02d},{rng.uniform(0, 120):.2f},{flag}"
            )
        return ("\n".join(rows) + "\n").encode()
    if name.endswith(".py"):
        threshold = rng.randint(2, 9)
        body = (
            f'"""{module} {assignment}: analysis helpers."""\n\nimport pandas as pd\n\n\n'
            "def load(path):\n    return pd.read_csv(path, parse_dates=['date'])\n\n\n"
            f"def flag_outliers(df, k={threshold / 2}):\n"
            "    q1, q3 = df.reading.quantile([0.25, 0.75])\n"
            "    iqr = q3 - q1\n"
            "    return df[(df.reading < q1 - k * iqr) | (df.reading > q3 + k * iqr)]\n\n"
        )
        comments = "".join(f"# {line}\n" for line in _paragraphs(rng, target // 2).split("\n\n"))
        return (body + comments).encode()
    if name.endswith(".md"):
        return f"# {module} {assignment} report\n\n{_paragraphs(rng, target)}\n".encode()
    return (_paragraphs(rng, target) + "\n").encode()


def _notebook(rng: random.Random, module: str, assignment: str) -> bytes:
    cells = [
        {
            "cell_type": "markdown",
            "id": "intro",
            "metadata": {},
            "source": [f"# {module} {assignment}\n", "\n", _paragraphs(rng, 400)],
        }
    ]
    for number in range(1, rng.randint(3, 7)):
        cells.append(
            {
                "cell_type": "markdown",
                "id": f"q{number}",
                "metadata": {},
                "source": [f"## Question {number}\n", "\n", _paragraphs(rng, 300)],
            }
        )
        cells.append(
            {
                "cell_type": "code",
                "id": f"a{number}",
                "metadata": {},
                "execution_count": number,
                "outputs": [],
                "source": [
                    "import pandas as pd\n",
                    f"df = pd.read_csv('data/results.csv').head({number * 5})",
                ],
            }
        )
    notebook = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(notebook, indent=1, ensure_ascii=False).encode()


def _docx(paragraphs: list[str]) -> bytes:
    """A minimal but valid WordprocessingML document (the three parts Word needs)."""
    from xml.sax.saxutils import escape

    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
    )
    body = "".join(f"<w:p><w:r><w:t>{escape(text)}</w:t></w:r></w:p>" for text in paragraphs)
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}</w:body></w:document>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in (
            ("[Content_Types].xml", content_types),
            ("_rels/.rels", rels),
            ("word/document.xml", document),
        ):
            archive.writestr(_member_info(path, zipfile.ZIP_DEFLATED), text.encode())
    return buffer.getvalue()


class _Utf8ZipInfo(zipfile.ZipInfo):
    """A member whose name is always flagged UTF-8, even when it is plain ASCII.

    ``zipfile`` only sets the flag for non-ASCII names and resets ``flag_bits`` when a member is
    written, so the flag is added where the header is encoded.
    """

    __slots__ = ()

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # noqa: N802 - overrides zipfile's name
        return self.filename.encode("utf-8"), self.flag_bits | UTF8_FLAG


def _member_info(path: str, compression: int) -> zipfile.ZipInfo:
    info = _Utf8ZipInfo(path, date_time=ZIP_DATE_TIME)
    info.compress_type = compression
    info.external_attr = 0o644 << 16
    return info


def _files_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files.items():
            archive.writestr(_member_info(path, zipfile.ZIP_DEFLATED), data)
    return buffer.getvalue()


def _incompressible_chunks(seed: str, total: int, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    rng = random.Random(seed)
    remaining = total
    while remaining > 0:
        size = min(chunk_size, remaining)
        yield rng.randbytes(size)
        remaining -= size
