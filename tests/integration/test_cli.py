"""The command line against the practice eTMA: the same engine, cookies from a cookies.txt."""

from __future__ import annotations

import csv
import subprocess
import sys

import pandas as pd
import requests

from etma_helper.cli import pis_from_text
from etma_helper.export import COLUMNS
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
    assert missing, "the cohort's sixth student submits nothing"
    # Nothing submitted is no failure: every student finished, so the exit code is 0.
    assert result.returncode == 0, result.stdout + result.stderr
    for student in chosen:
        assert (out / "TM351" / student.pi).is_dir() == bool(student.files)
    assert "Students not done" not in result.stdout
    listed = result.stdout.split("Nothing submitted", 1)[1]
    for student in missing:
        assert student.pi in listed and student.name in listed
    with open(out / "TM351" / "confirmation_codes.csv", newline="") as table:
        rows = {row["PI"]: row for row in csv.DictReader(table)}
    assert {pi: row["Code"] for pi, row in rows.items()} == {s.pi: s.code for s in chosen}
    assert {pi: row["Status"] for pi, row in rows.items()} == {
        s.pi: "done" if s.files else "not submitted" for s in chosen
    }
    workbook = pd.read_excel(out / "TM351" / "confirmation_codes.xlsx", dtype=str)
    assert list(workbook.columns) == COLUMNS
    assert list(workbook["PI"]) == [s.pi for s in chosen]  # OSCAR's order


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


def codes_command(sites, cookies, *pis, out):
    return etma_helper(
        "codes",
        "--etma-url",
        etma_admin_url(sites),
        "--module",
        "TM351",
        "--assignment",
        "TMA02",
        "--pis",
        *pis,
        "--cookies",
        str(cookies),
        "--out",
        str(out),
    )


def test_codes_help_offers_only_what_codes_uses_and_out_says_what_it_is_for():
    codes = etma_helper("codes", "--help")
    download = etma_helper("download", "--help")
    assert codes.returncode == download.returncode == 0
    assert "--force" not in codes.stdout and "--force" in download.stdout
    out = {
        name: " ".join(result.stdout.split("\n  --out DIR", 1)[1].split("--", 1)[0].split())
        for name, result in (("codes", codes), ("download", download))
    }
    assert "codes table" in out["codes"] and "scripts" not in out["codes"]
    assert "scripts" in out["download"]
    assert "nothing submitted" in codes.stdout and "nothing submitted" in download.stdout


def test_an_expired_session_is_said_once_with_the_count(fresh_sites, cohort, tmp_path):
    cookies = tmp_path / "cookies.txt"
    write_cookies_txt(fresh_sites, cookies)
    fresh_sites.expire_etma_sessions()
    pis = [s.pi for s in cohort.students[:12]]
    result = codes_command(fresh_sites, cookies, *pis, out=tmp_path / "out")
    assert result.returncode == 3, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert not any(pi in line for pi in pis for line in lines)
    said = [line for line in lines if "12 students" in line]
    assert len(said) == 1 and "session" in said[0].lower(), result.stdout
    assert sum("log in" in line.lower() for line in lines) <= 2, result.stdout


def test_a_resumed_run_says_how_many_it_skipped(fresh_sites, cohort, tmp_path):
    cookies = tmp_path / "cookies.txt"
    write_cookies_txt(fresh_sites, cookies)
    chosen = [s.pi for s in cohort.students if s.files][:3]
    base = [
        "download",
        "--etma-url",
        etma_admin_url(fresh_sites),
        "--module",
        "TM351",
        "--assignment",
        "TMA02",
        "--cookies",
        str(cookies),
        "--out",
        str(tmp_path / "out"),
    ]
    first = etma_helper(*base, "--pis", *chosen[:2])
    assert first.returncode == 0 and "skipped" not in first.stdout.lower(), first.stdout
    second = etma_helper(*base, "--pis", *chosen)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Skipped 2 students already downloaded by an earlier run" in second.stdout


def test_codes_prints_each_code_with_the_students_name(fresh_sites, cohort, tmp_path):
    cookies = tmp_path / "cookies.txt"
    write_cookies_txt(fresh_sites, cookies)
    chosen = cohort.students[:8]
    result = codes_command(fresh_sites, cookies, *[s.pi for s in chosen], out=tmp_path / "out")
    assert result.returncode == 0, result.stdout + result.stderr
    printed = result.stdout.split("Codes found", 1)[1].split("Nothing submitted", 1)[0]
    rows = [line.split() for line in printed.splitlines() if line.strip()]
    found = {row[0]: (" ".join(row[1:-1]), row[-1]) for row in rows if row[0][1:].isdigit()}
    assert found == {s.pi: (s.name, s.code) for s in chosen if s.files}
    assert [pi for pi in found] == [s.pi for s in chosen if s.files]  # the job's order
