"""The doctor names each way an install breaks, with its fix, and passes a healthy one.

Each test builds an install the way install.py lays it out (receipt, launcher, manifests for
Chromium and Firefox) in a temporary home, with the venv's Python standing in as a small
script that runs this test environment's interpreter: the doctor then starts the launcher
exactly as the browsers do and talks to the real helper over native messaging.
"""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from etma_helper import doctor
from tests.unit.test_install import installer

REPO = Path(__file__).resolve().parents[2]


@dataclass
class FakeInstall:
    home: Path
    prefix: Path
    launcher: Path
    python: Path
    chromium_manifest: Path
    firefox_manifest: Path


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeInstall:
    return fake_install(tmp_path, monkeypatch)


def fake_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeInstall:
    """An install laid out as install.py does, for Chromium and Firefox, in tmp_path/home."""
    home = tmp_path / "home"
    home.mkdir()
    for name, folder in (
        ("HOME", home),
        ("XDG_CONFIG_HOME", home / ".config"),
        ("XDG_DATA_HOME", home / ".local/share"),
        ("XDG_STATE_HOME", home / ".state"),
    ):
        monkeypatch.setenv(name, str(folder))
    prefix = home / "prefix"
    python = prefix / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    receipt = installer.Receipt(prefix)
    plan = installer.plan_install(
        prefix,
        ["chromium", "firefox"],
        home=home,
        platform="linux",
        environ={},
        which=lambda name: None,
    )
    assert plan.venv_python == python
    launcher = installer.write_launcher(plan, receipt)
    receipt.details = {
        "launcher": str(launcher),
        "python": str(python),
        "repo": str(REPO),
        "platform": "linux",
        "scope": "user",
    }
    for target in plan.targets:
        installer.write_manifest(target, launcher, receipt)
        receipt.registrations.append(
            {
                "label": target.label,
                "browser": target.browser,
                "family": target.family,
                "manifest": str(target.manifest_path),
                "registry": None,
            }
        )
    receipt.save()
    chromium, firefox = (t.manifest_path for t in plan.targets)
    return FakeInstall(home, prefix, launcher, python, chromium, firefox)


def quiet_machine(home: Path, **more) -> doctor.Machine:
    """This computer as the doctor sees it, with no browser on PATH and no policies: only what
    a test puts in `home` (and `more` overrides)."""
    where = {
        "home": home,
        "environ": {},
        "platform": "linux",
        "which": lambda name: None,
        "root": home / "root",
    }
    return doctor.Machine(**{**where, **more})


def run_doctor(install: FakeInstall) -> tuple[doctor.Report, str]:
    report = doctor.diagnose(install.prefix, repo=REPO, machine=quiet_machine(install.home))
    text = doctor.format_report(report)
    print(text)  # shown with pytest -s: the doctor's output for each case
    return report, text


def problems(report: doctor.Report) -> dict[str, doctor.Check]:
    return {c.subject: c for c in report.checks if c.status == doctor.PROBLEM}


def test_healthy_install_passes_every_check_and_answers_hello_as_each_browser(install):
    report, text = run_doctor(install)
    assert report.healthy, text
    subjects = {c.subject: c for c in report.checks}
    assert "helper 0.1.0 answered (protocol 1" in subjects["Chromium hello"].detail
    assert "helper 0.1.0 answered (protocol 1" in subjects["Firefox hello"].detail
    assert subjects["versions"].detail.startswith("helper 0.1.0, extension 0.1.0")
    assert str(install.home / "Downloads" / "eTMA") in subjects["download folder"].detail
    assert text.endswith("Healthy: every registered browser can start the helper.")


def test_missing_launcher_is_named_with_the_reinstall_command(install):
    install.launcher.unlink()
    report, text = run_doctor(install)
    found = problems(report)
    assert not report.healthy
    assert found["launcher"].detail == f"{install.launcher} is missing"
    assert "install.py" in found["launcher"].fix
    assert "which does not exist" in found["Chromium"].detail  # the manifests name it too


def test_non_executable_launcher_is_named_with_chmod(install):
    install.launcher.chmod(0o644)
    report, text = run_doctor(install)
    found = problems(report)
    assert "is not executable" in found["launcher"].detail
    assert found["launcher"].fix.startswith(f"chmod +x {shlex.quote(str(install.launcher))},")
    assert "Permission denied" in found["Chromium hello"].detail


def test_wrong_launcher_path_in_a_manifest_is_named(install):
    manifest = json.loads(install.firefox_manifest.read_text())
    manifest["path"] = "/opt/old-helper/etma-helper-host"
    install.firefox_manifest.write_text(json.dumps(manifest))
    report, text = run_doctor(install)
    found = problems(report)
    assert set(found) == {"Firefox"}
    assert "names launcher /opt/old-helper/etma-helper-host, which does not exist" in (
        found["Firefox"].detail
    )
    assert "run the installer again" in found["Firefox"].fix


def test_wrong_extension_id_in_a_manifest_is_named_with_both_ids(install):
    manifest = json.loads(install.chromium_manifest.read_text())
    manifest["allowed_origins"] = ["chrome-extension://abcdefghijklmnopabcdefghijklmnop/"]
    install.chromium_manifest.write_text(json.dumps(manifest))
    report, text = run_doctor(install)
    found = problems(report)
    assert set(found) == {"Chromium"}
    assert (
        "names extension id abcdefghijklmnopabcdefghijklmnop; this extension is "
        "cfflekeodohgccooffokbilcglejnhfj" in found["Chromium"].detail
    )
    assert "run the installer again" in found["Chromium"].fix


def test_python_gone_from_the_venv_is_named(install):
    install.python.unlink()
    report, text = run_doctor(install)
    found = problems(report)
    assert found["venv Python"].detail == (
        f"the Python in the helper's venv is gone ({install.python})"
    )
    assert "it rebuilds the venv" in found["venv Python"].fix
    assert "without answering" in found["Chromium hello"].detail


def test_download_folder_that_is_a_file_is_named(install):
    root = install.home / "Downloads" / "eTMA"
    root.parent.mkdir(parents=True)
    root.write_text("not a folder")
    report, _ = run_doctor(install)
    check = problems(report)["download folder"]
    assert "is not a folder" in check.detail and "--download-root" in check.fix


def test_no_install_at_all_says_to_run_the_installer(tmp_path: Path):
    report = doctor.diagnose(tmp_path / "nowhere", repo=REPO)
    assert not report.healthy
    [check] = report.checks
    assert check.fix.startswith(f"install it: python3 {REPO / 'install.py'}")


def test_windows_registry_key_pointing_elsewhere_is_named(install):
    receipt = json.loads((install.prefix / "install-receipt.json").read_text())
    receipt["registrations"][0]["registry"] = (
        r"HKCU\Software\Chromium\NativeMessagingHosts\etma_helper"
    )
    (install.prefix / "install-receipt.json").write_text(json.dumps(receipt))
    report = doctor.diagnose(
        install.prefix, repo=REPO, registry_reader=lambda hive, key: r"C:\old\etma_helper.json"
    )
    check = problems(report)["Chromium registry"]
    assert "names C:\\old\\etma_helper.json" in check.detail


def test_extension_id_is_computed_from_the_manifest_key():
    assert doctor.read_extension(REPO).chromium_id == "cfflekeodohgccooffokbilcglejnhfj"


def test_install_py_doctor_exit_code_follows_health(install, capsys, monkeypatch, tmp_path):
    # install.py --doctor looks at this computer: with no browser on PATH it sees only the
    # temporary home's (the other tests name the machine's browsers themselves).
    (tmp_path / "empty-path").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))
    assert installer.main(["--doctor", "--prefix", str(install.prefix)]) == 0
    install.launcher.chmod(0o644)
    assert installer.main(["--doctor", "--prefix", str(install.prefix)]) == 1
    assert "PROBLEM" in capsys.readouterr().out


def fix_commands(report: doctor.Report) -> list[str]:
    return [check.fix for check in report.checks if check.fix]


def receipt_only_install(prefix: Path, platform: str, scope: str) -> None:
    """A receipt as install.py writes it, with nothing else: every check has a fix to show."""
    prefix.mkdir(parents=True)
    receipt = {"repo": str(REPO), "platform": platform, "scope": scope, "registrations": []}
    (prefix / "install-receipt.json").write_text(json.dumps(receipt))


@pytest.mark.parametrize(
    "platform, environ, where",
    [
        # Linux with XDG_DATA_HOME set: install.py's default is under it, not ~/.local/share
        ("linux", {"XDG_DATA_HOME": "{tmp}/data"}, "{tmp}/data/etma_helper"),
        ("linux", {}, "{home}/.local/share/etma_helper"),
        ("darwin", {}, "{home}/Library/Application Support/etma_helper"),
        ("win32", {"LOCALAPPDATA": "{tmp}/AppData"}, "{tmp}/AppData/etma_helper"),
    ],
)
def test_fix_commands_name_no_prefix_for_the_installers_default_on_each_platform(
    tmp_path, monkeypatch, platform, environ, where
):
    """The doctor's default prefix is install.py's, for the platform the receipt names."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    prefix = Path(where.format(tmp=tmp_path, home=home))
    assert prefix == installer.default_prefix(home, platform=platform)
    receipt_only_install(prefix, platform, "user")
    report = doctor.diagnose(prefix, repo=REPO)
    assert fix_commands(report), doctor.format_report(report)
    python = "py" if platform == "win32" else "python3"
    for fix in fix_commands(report):
        assert f"{python} {REPO / 'install.py'}" in fix and "--prefix" not in fix, fix


def test_fix_commands_name_a_prefix_that_is_not_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    prefix = tmp_path / "elsewhere" / "etma_helper"
    receipt_only_install(prefix, "linux", "user")
    for fix in fix_commands(doctor.diagnose(prefix, repo=REPO)):
        assert f"--prefix {prefix}" in fix, fix


@pytest.mark.parametrize(
    "platform, prefix, command",
    [
        ("linux", "/opt/etma_helper", "sudo python3 {repo} --system"),
        ("linux", "/srv/etma", "sudo python3 {repo} --system --prefix /srv/etma"),
        ("darwin", "/Library/Application Support/etma_helper", "sudo python3 {repo} --system"),
        # no sudo on Windows: the report says to use an administrator prompt; py, not the
        # Store's python3
        ("win32", "C:/Program Files/etma_helper", "py {repo} --system"),
        (
            "win32",
            "D:/Tools/etma helper",
            'py {repo} --system --prefix "D:/Tools/etma helper"',
        ),
    ],
)
def test_system_installs_are_repaired_with_the_installers_own_command(
    monkeypatch, platform, prefix, command
):
    monkeypatch.setenv("ProgramFiles", "C:/Program Files")
    receipt = {"platform": platform, "scope": "system"}
    assert doctor.installer_command(Path(prefix), receipt, REPO) == command.format(
        repo=REPO / "install.py"
    )


def test_a_windows_system_install_is_fixed_from_an_administrator_prompt(tmp_path, monkeypatch):
    monkeypatch.setenv("ProgramFiles", str(tmp_path / "Program Files"))
    prefix = tmp_path / "Program Files" / "etma_helper"
    receipt_only_install(prefix, "win32", "system")
    report = doctor.diagnose(prefix, repo=REPO)
    assert "administrator" in report.checks[0].detail
    for fix in fix_commands(report):
        assert "sudo" not in fix and "--prefix" not in fix and "--system" in fix, fix


def test_the_doctors_defaults_for_a_receipt_without_paths_follow_its_platform(tmp_path):
    """A receipt naming no python or launcher: the doctor looks where install.py puts them."""
    prefix = tmp_path / "etma_helper"
    receipt_only_install(prefix, "win32", "user")
    report = doctor.diagnose(prefix, repo=REPO)
    details = {check.subject: check.detail for check in report.checks}
    assert str(prefix / "venv" / "Scripts" / "python.exe") in details["venv Python"]
    assert str(prefix / "etma-helper-host.cmd") in details["launcher"]
