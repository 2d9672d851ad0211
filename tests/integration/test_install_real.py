"""A real install into a temporary home, checked by the doctor, then a clean uninstall.

SLOW (about 10-20 s each): a real venv and pip install of this repository. The browser tests
(tests/e2e) then drive real Chromium and Firefox through exactly what `install_helper` installs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.browsers.helper_install import install_helper
from tests.unit.test_install import CHROMIUM_ORIGIN, FIREFOX_ID, listing, run_installer

REPO = Path(__file__).resolve().parents[2]


def doctor(prefix: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "install.py"), "--doctor", "--prefix", str(prefix)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_real_install_is_healthy_and_uninstall_leaves_home_exactly_as_it_was(tmp_path: Path):
    home = tmp_path / "home"
    (home / ".config/chromium/NativeMessagingHosts").mkdir(parents=True)
    (home / ".config/chromium/NativeMessagingHosts/other_host.json").write_text("{}")
    (home / "notes.txt").write_text("the user's own file")
    before = listing(home)
    prefix, profile = home / "prefix", home / "profile"
    args = [
        "--prefix",
        str(prefix),
        "--system-site-packages",
        "--browser",
        "chromium,firefox",
        "--chromium-profile",
        str(profile),
    ]
    for _ in range(2):  # idempotent
        result = run_installer(REPO / "install.py", home, *args)
        assert result.returncode == 0, result.stdout + result.stderr

    launcher = prefix / "etma-helper-host"
    python = prefix / "venv" / "bin" / "python"
    assert launcher.read_text() == f'#!/bin/sh\nexec "{python}" -m etma_helper.native_host "$@"\n'
    manifests = {
        "chromium": home / ".config/chromium/NativeMessagingHosts/etma_helper.json",
        "profile": profile / "NativeMessagingHosts/etma_helper.json",
        "firefox": home / ".mozilla/native-messaging-hosts/etma_helper.json",
    }
    for name, path in manifests.items():
        manifest = json.loads(path.read_text())
        assert manifest["path"] == str(launcher), name
        key = "allowed_extensions" if name == "firefox" else "allowed_origins"
        assert manifest[key] == [FIREFOX_ID if name == "firefox" else CHROMIUM_ORIGIN]
    assert not (home / ".config/google-chrome").exists()
    assert "Load unpacked" in result.stdout and "about:debugging" in result.stdout

    # The helper keeps its log under XDG_STATE_HOME: the user's data, not the installer's, so
    # it goes outside the home whose listing is compared.
    env = dict(
        os.environ,
        HOME=str(home),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_CONFIG_HOME=str(home / ".config"),
    )
    env.pop("XDG_DATA_HOME", None)
    checked = doctor(prefix, env)
    print(checked.stdout)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for label in ("Chromium hello", "Firefox hello", f"Chromium profile {profile} hello"):
        assert f"ok       {label}" in checked.stdout

    (prefix / "etma-helper-host").chmod(0o644)
    broken = doctor(prefix, env)
    print(broken.stdout)
    assert broken.returncode == 1 and "is not executable" in broken.stdout

    result = run_installer(REPO / "install.py", home, "--uninstall", "--prefix", str(prefix))
    assert result.returncode == 0, result.stdout + result.stderr
    assert listing(home) == before


def test_the_install_the_browser_tests_use_passes_the_doctor(tmp_path: Path):
    """Each browser test installs for one browser; the doctor would rightly name the other
    browsers on this machine as unregistered, so it runs with nothing on PATH here (the
    test above checks that naming)."""
    nothing = tmp_path / "empty-path"
    nothing.mkdir()
    for browser in ("chromium", "firefox"):
        install = install_helper(tmp_path / browser, browsers=(browser,))
        checked = doctor(install.prefix, {**install.env, "PATH": str(nothing)})
        print(checked.stdout)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        hello = "Chromium profile" if browser == "chromium" else "Firefox"
        assert "hello" in checked.stdout and hello in checked.stdout


def test_a_tutors_install_from_start_to_uninstall_in_a_temporary_home(tmp_path: Path):
    """The issue's "done when", on Linux: install for Chromium and Firefox with XDG_CONFIG_HOME
    set (Chromium's manifest goes under it) → the doctor is healthy → Chrome appears → the
    doctor names it, with the command that registers it, and fails → the tutor's data is made
    by the helper itself → uninstall removes the helper and its log, keeps the tutor's
    settings, ledger and downloads, and says where they are."""
    home, config = tmp_path / "home", tmp_path / "home" / "my config"
    config.mkdir(parents=True)
    (home / "notes.txt").write_text("the user's own file")
    env = dict(
        os.environ,
        HOME=str(home),
        XDG_CONFIG_HOME=str(config),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        RUSTUP_HOME=str(tmp_path / "rustup"),
    )
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "CHROME_CONFIG_HOME"):
        env.pop(name, None)
    before = listing(home)

    def installer(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(REPO / "install.py"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    done = installer("--browser", "chromium", "--browser", "firefox", "--system-site-packages")
    assert done.returncode == 0, done.stdout + done.stderr
    prefix = home / ".local/share/etma_helper"
    chromium = config / "chromium/NativeMessagingHosts/etma_helper.json"
    firefox = home / ".mozilla/native-messaging-hosts/etma_helper.json"
    for manifest in (chromium, firefox):
        assert json.loads(manifest.read_text())["path"] == str(prefix / "etma-helper-host")
    assert not (home / ".config").exists()  # Chromium's folder is the one XDG_CONFIG_HOME names

    healthy = installer("--doctor")
    print(healthy.stdout)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr

    (config / "google-chrome").mkdir()  # Chrome, installed after the helper
    sick = installer("--doctor")
    print(sick.stdout)
    assert sick.returncode == 1
    assert "PROBLEM  Google Chrome " in sick.stdout
    assert f"fix: register it: python3 {REPO / 'install.py'} --browser chrome\n" in sick.stdout

    # The tutor's data, made by the helper: settings, a ledger, downloads; and its log.
    python = str(prefix / "venv/bin/python")
    downloads = home / "Marking scripts"
    for code in (
        f"from etma_helper.cli import main; main(['config', '--download-root', '{downloads}'])",
        "from etma_helper.ledger import Ledger; Ledger().close()",
    ):
        made = subprocess.run([python, "-c", code], env=env, capture_output=True, timeout=60)
        assert made.returncode == 0, made.stderr
    (downloads / "M250").mkdir(parents=True)
    log_dir = home / ".local/state/etma_helper/log"
    assert (log_dir / "helper.log").is_file()  # the doctor started the helper, which logged

    gone = installer("--uninstall")
    print(gone.stdout)
    assert gone.returncode == 0, gone.stdout + gone.stderr
    kept = {
        "my config/etma_helper",
        "my config/etma_helper/config.json",
        "my config/google-chrome",
        ".local",
        ".local/share",
        ".local/share/etma_helper",
        ".local/share/etma_helper/ledger.sqlite3",
        ".local/state",  # the XDG state folder every program shares, empty: not the helper's
        "Marking scripts",
        "Marking scripts/M250",
    }
    after = listing(home)
    assert set(after) - set(before) == kept
    assert {k: v for k, v in after.items() if k in before} == before
    assert f"your settings: {config / 'etma_helper/config.json'}" in gone.stdout
    assert f"confirmation code): {prefix / 'ledger.sqlite3'}" in gone.stdout
    assert f"your downloaded scripts: {downloads}" in gone.stdout
    assert f"Removed the helper's log {log_dir / 'helper.log'}" in gone.stdout
