"""``python -m tests.sites``: the knobs tests turn from Python, on the command line."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import requests

from tests.sites.__main__ import build_sites, parse_args
from tests.sites.faults import FAULT_KINDS


def sites_from(*argv):
    return build_sites(parse_args(["--oscar-port", "0", "--etma-port", "0", *argv]))


def test_help_names_every_knob():
    shown = subprocess.run(
        [sys.executable, "-m", "tests.sites", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    for flag in (
        "--latency-ms",
        "--zip-bytes",
        "--fault",
        "--fault-times",
        "--session-expires-after",
        "--markup",
        "--viewstate-bytes",
        "--hostile",
    ):
        assert flag in shown, flag
    for kind in FAULT_KINDS:
        assert kind in shown, kind


def test_faults_by_pi_or_by_position_in_the_allocation():
    sites = sites_from(
        "--students",
        "10",
        "--fault",
        "2=http500",
        "--fault",
        "x1234567=truncate",
        "--fault-times",
        "1",
        "--session-expires-after",
        "40",
        "--latency-ms",
        "25",
        "--markup",
        "variant",
        "--viewstate-bytes",
        "5000",
        "--hostile",
        "3=zip_traversal",
    )
    second, third = sites.cohort.students[1].pi, sites.cohort.students[2].pi
    assert sites.faults.per_pi == {second: "http500", "X1234567": "truncate"}
    assert sites.faults.times == 1 and sites.faults.session_expires_after == 40
    assert sites.latency == pytest.approx(0.025)
    assert sites.etma_markup == "variant" and sites.etma_viewstate_bytes == 5000
    assert sites.etma_hostile == {third: "zip_traversal"}


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["--fault", "2=explode"], "unknown fault"),
        (["--fault", "2"], "STUDENT=KIND"),
        (["--fault", "99=http500"], "no student 99"),
        (["--hostile", "1=nonsense"], "unknown attack"),
        (["--hostile", "1=redirect_page"], "another server"),
        (["--session-expires-after", "0"], "at least 1"),
    ],
)
def test_a_bad_knob_is_refused_with_what_to_write(argv, complaint, capsys):
    with pytest.raises(SystemExit) as stopped:
        sites_from("--students", "5", *argv)
    assert stopped.value.code == 2
    assert complaint in capsys.readouterr().err


def test_a_session_expiry_from_the_command_line_ends_sessions():
    with sites_from("--students", "3", "--session-expires-after", "2") as sites:
        with requests.Session() as session:
            sites.etma_login(session)
            admin = sites.etma_url + "etma/admin"
            assert "Sign in" not in session.get(admin, timeout=5).text
            assert "Sign in" not in session.get(admin, timeout=5).text
            assert re.search("Sign in", session.get(admin, timeout=5).text)
