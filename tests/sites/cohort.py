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
from typing import BinaryIO

# A fixed timestamp for every zip member keeps the zip bytes reproducible run to run.
ZIP_DATE_TIME = (2024, 3, 14, 9, 30, 0)
# Bit 11 of the general purpose flags: "file name is UTF-8"; the real site's zips carry it.
UTF8_FLAG = 0x800
PAD_MEMBER = "data/sensor_readings.bin"
GRADE_BOUNDARIES = (40, 55, 70, 85)
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
    """One allocated student: identity, eTMA confirmation code, OSCAR marks and submitted files."""

    name: str
    pi: str
    code: str
    first_mark: int
    second_mark: int
    # path inside the zip -> bytes; {} means the student submitted nothing.
    files: dict[str, bytes] = field(hash=False, compare=False, repr=False)

    @property
    def has_submission(self) -> bool:
        """True when the student submitted at least one file."""
        return bool(self.files)

    @property
    def mark_difference(self) -> int:
        """Absolute difference between the first and second marks."""
        return abs(self.first_mark - self.second_mark)

    @property
    def needs_third_marking(self) -> bool:
        """OSCAR's rule: marks differ by more than 15, or straddle a grade boundary."""
        low, high = sorted((self.first_mark, self.second_mark))
        straddles = any(low < boundary <= high for boundary in GRADE_BOUNDARIES)
        return self.mark_difference > THIRD_MARKING_DIFFERENCE or straddles


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

    def student(self, pi: str) -> Student:
        """The student with this PI; KeyError if the PI is not in the cohort."""
        return self._by_pi[pi]

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
            first_mark, second_mark = _marks(rng)
            # About one in twelve students submits nothing.
            submitted = rng.random() >= 1 / 12
            # Guarantee the demo and the tests always see one missing submission early on.
            if index == 5 and not any(not s.files for s in students):
                submitted = False
            # Per-student generator seeded by a string, so one student's files do not shift
            # when the generation of another student's files changes.
            files = self._make_files(random.Random(f"{self.seed}:{pi}")) if submitted else {}
            students.append(Student(name, pi, code, first_mark, second_mark, files))
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


def _marks(rng: random.Random) -> tuple[int, int]:
    first = rng.randint(25, 95)
    # Most second marks are close; some differ enough to go to third marking.
    spread = 25 if rng.random() < 0.25 else 8
    second = min(100, max(0, first + rng.randint(-spread, spread)))
    return first, second


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
