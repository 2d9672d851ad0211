"""What the practice eTMA serves and what ended up on disk, for the tests to compare."""

from __future__ import annotations

import csv
import zipfile
from io import BytesIO
from pathlib import Path


def served_files(cohort, pi: str) -> dict[str, bytes]:
    """Student ``pi``'s files as the practice eTMA serves them (inside the zip), by path."""
    with zipfile.ZipFile(BytesIO(cohort.zip_bytes(pi))) as archive:
        return {i.filename: archive.read(i) for i in archive.infolist() if not i.is_dir()}


def files_on_disk(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, by path relative to it."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def codes_table(folder: Path) -> dict[str, str]:
    """The confirmation codes table in an assignment's folder: PI → code."""
    with open(folder / "confirmation_codes.csv", newline="", encoding="utf-8") as table:
        return {row["PI"]: row["Code"] for row in csv.DictReader(table)}


def codes_table_pis(folder: Path) -> list[str]:
    """The PIs in the codes table under ``folder`` (wherever below it the table is)."""
    (table,) = folder.rglob("confirmation_codes.csv")
    with open(table, newline="", encoding="utf-8") as rows:
        return [row["PI"] for row in csv.DictReader(rows)]
