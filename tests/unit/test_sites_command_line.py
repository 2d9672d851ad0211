"""``python -m tests.sites``: the knobs tests turn from Python, on the command line."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time

import pytest
import requests

from tests.sites import SIGNON_HOST
from tests.sites.__main__ import build_sites, parse_args
from tests.sites.faults import FAULT_KINDS


def sites_from(*argv):
    return build_sites(
        parse_args(["--oscar-port", "0", "--etma-port", "0", "--signon-port", "0", *argv])
    )


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
        "--signon",
        "--signon-port",
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
        (["--signon", "kerberos"], "invalid choice"),
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


def test_sign_on_mode_is_off_unless_asked_for():
    assert sites_from("--students", "3").signon is None


@pytest.mark.parametrize("mode", ["saml", "sams"])
def test_sign_on_mode_from_the_command_line_sends_an_expired_session_to_the_sign_on_host(mode):
    with sites_from("--students", "3", "--signon", mode, "--session-expires-after", "2") as sites:
        assert sites.signon == mode
        with requests.Session() as session:
            admin = sites.etma_url + "etma/admin"
            assert "Module code" in sites.signon_login(session).text
            assert "Module code" in session.get(admin, timeout=5).text
            ended = session.get(admin, allow_redirects=False, timeout=5)
            assert ended.status_code == 302
            assert ended.headers["Location"].startswith(sites.signon_url)
            assert sites.signon_url.startswith(f"http://{SIGNON_HOST}:")


def test_the_start_up_message_names_the_sign_on_host_and_its_login():
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "tests.sites", "--students", "3", "--signon", "saml"]
        + ["--oscar-port", "0", "--etma-port", "0", "--signon-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    shown = b""
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and b"sign-on: saml" not in shown:
            ready, _, _ = select.select([process.stdout], [], [], 1)
            if ready:
                chunk = os.read(process.stdout.fileno(), 4096)
                if not chunk:
                    break
                shown += chunk
    finally:
        process.terminate()
        process.wait(timeout=10)
    text = shown.decode()
    assert f"Sign-on host (saml): http://{SIGNON_HOST}:" in text, text
    assert "login: tutor / signon-demo" in text
    assert "sign-on: saml" in text
