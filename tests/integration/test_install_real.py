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
    for browser in ("chromium", "firefox"):
        install = install_helper(tmp_path / browser, browsers=(browser,))
        checked = doctor(install.prefix, install.env)
        print(checked.stdout)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        hello = "Chromium profile" if browser == "chromium" else "Firefox"
        assert "hello" in checked.stdout and hello in checked.stdout
