"""The command line against the practice eTMA: the same engine, cookies from a cookies.txt."""

from __future__ import annotations

import csv
import subprocess
import sys

import pandas as pd
import requests

from etma_helper.cli import pis_from_text
from tests.conftest import etma_admin_url


def write_cookies_txt(sites, path) -> None:
    """Log in and save the session as a browser extension's cookies.txt export would."""
    session = requests.Session()
    sites.etma_login(session)
    lines = ["# Netscape HTTP Cookie File"]
    for c in session.cookies:
        # Session cookies carry expiry 0 and HttpOnly ones a prefix, as exporters write them.
        lines.append(f"#HttpOnly_{c.domain}\tFALSE\t{c.path}\tFALSE\t0\t{c.name}\t{c.value}")
    path.write_text("\n".join(lines) + "\n")


def etma_helper(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "etma_helper", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_pis_are_found_in_text_pasted_from_oscar():
    pasted = "Student name\tPI\tAssignment\nAda Lovelace\tP1234567\tTMA 02\nB. Babbage\tq7654321\t"
    assert pis_from_text(pasted + " P1234567 TM351 X12345678") == ["P1234567", "Q7654321"]


def test_download_from_the_command_line(fresh_sites, cohort, tmp_path):
    cookies = tmp_path / "cookies.txt"
    write_cookies_txt(fresh_sites, cookies)
    chosen = cohort.students[:6]
    pasted = tmp_path / "oscar.txt"
    pasted.write_text("\n".join(f"{s.name}\t{s.pi}\tTMA 02\tFirst marks" for s in chosen))
    out = tmp_path / "out"
    result = etma_helper(
        "download",
        "--etma-url",
        etma_admin_url(fresh_sites),
        "--module",
        "tm351",
        "--pis-file",
        str(pasted),
        "--cookies",
        str(cookies),
        "--out",
        str(out),
        "--concurrency",
        "3",
    )
    missing = [s for s in chosen if not s.files]
    assert result.returncode == (1 if missing else 0), result.stderr
    for student in chosen:
        assert (out / "TM351" / student.pi).is_dir() == bool(student.files)
    assert "Students not done" in result.stdout if missing else "done" in result.stdout
    with open(out / "TM351" / "confirmation_codes.csv", newline="") as table:
        rows = {row["PI"]: row for row in csv.DictReader(table)}
    assert {pi: row["Code"] for pi, row in rows.items()} == {s.pi: s.code for s in chosen}
    workbook = pd.read_excel(out / "TM351" / "confirmation_codes.xlsx", dtype=str)
    assert list(workbook.columns) == ["PI", "Code", "Status", "Reason", "Files", "Folder"]
    assert sorted(workbook["PI"]) == sorted(rows)


def test_codes_with_expired_session_exits_needs_login(fresh_sites, cohort, tmp_path):
    cookies = tmp_path / "cookies.txt"
    write_cookies_txt(fresh_sites, cookies)
    fresh_sites.expire_etma_sessions()
    result = etma_helper(
        "codes",
        "--etma-url",
        etma_admin_url(fresh_sites),
        "--module",
        "TM351",
        "--pis",
        cohort.students[0].pi,
        "--cookies",
        str(cookies),
        "--out",
        str(tmp_path / "out"),
    )
    assert result.returncode == 3
    assert "log in to eTMA again" in result.stdout


def test_bad_usage_says_what_to_fix(fresh_sites, tmp_path):
    cookies = tmp_path / "cookies.txt"
    write_cookies_txt(fresh_sites, cookies)
    base = ["download", "--etma-url", etma_admin_url(fresh_sites), "--cookies", str(cookies)]
    result = etma_helper(*base, "--module", "TM351", "--pis", "12345")
    assert result.returncode == 2 and "not a student PI" in result.stderr
    result = etma_helper(*base, "--module", "../etc", "--pis", "P1234567")
    assert result.returncode == 2 and "not a module code" in result.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("# Netscape HTTP Cookie File\n")
    result = etma_helper(
        "codes",
        "--etma-url",
        etma_admin_url(fresh_sites),
        "--module",
        "TM351",
        "--pis",
        "P1234567",
        "--cookies",
        str(empty),
    )
    assert result.returncode == 2 and "holds no cookies" in result.stderr


def test_profile_check_reports_each_item(fresh_sites, cohort, tmp_path):
    cookies = tmp_path / "cookies.txt"
    write_cookies_txt(fresh_sites, cookies)
    student = next(s for s in cohort.students if s.files)
    result = etma_helper(
        "profile",
        "check",
        "--etma-url",
        etma_admin_url(fresh_sites),
        "--module",
        "TM351",
        "--pi",
        student.pi,
        "--cookies",
        str(cookies),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert student.code in result.stdout and "MISSING" not in result.stdout
    assert fresh_sites.etma_hits[("POST", "/etma/download")] == 0


def test_a_second_folder_gets_every_file_and_the_summary_says_how(fresh_sites, cohort, tmp_path):
    """Download into outA, then the same students into outB: the files are in outB."""
    cookies = tmp_path / "cookies.txt"
    write_cookies_txt(fresh_sites, cookies)
    chosen = [s for s in cohort.students if s.files][:2]
    base = [
        "download",
        "--etma-url",
        etma_admin_url(fresh_sites),
        "--module",
        "TM351",
        "--assignment",
        "TMA 02",
        "--pis",
        *[s.pi for s in chosen],
        "--cookies",
        str(cookies),
    ]
    first = etma_helper(*base, "--out", str(tmp_path / "outA"))
    assert first.returncode == 0, first.stdout + first.stderr
    second = etma_helper(*base, "--out", str(tmp_path / "outB"))
    assert second.returncode == 0, second.stdout + second.stderr
    folder = tmp_path / "outB" / "TM351" / "TMA02"
    assert f"Files:  {folder}" in second.stdout
    assert "copied from an earlier download" in second.stdout
    assert f"copied from {tmp_path / 'outA' / 'TM351' / 'TMA02'}" in second.stdout
    for student in chosen:
        on_disk = {p.name for p in (folder / student.pi).rglob("*") if p.is_file()}
        assert on_disk == {name.rsplit("/", 1)[-1] for name in student.files}
    assert fresh_sites.etma_hits[("POST", "/etma/download")] == 2  # copied, not fetched
    forced = etma_helper(*base, "--out", str(tmp_path / "outB"), "--force")
    assert forced.returncode == 0 and "2 fetched from eTMA" in forced.stdout.replace("  ", " ")
    assert fresh_sites.etma_hits[("POST", "/etma/download")] == 4
