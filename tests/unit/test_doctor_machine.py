"""The doctor sees what tutors hit: browsers the helper was never registered with, sandboxed
browsers, managed-PC policies and an older manifest read before this install's.

The machine is simulated (`doctor.Machine`: a temporary home, PATH, policy folders under a
temporary root, a registry of dictionaries), so Windows and macOS are checked on Linux.
"""

from __future__ import annotations

import json
import plistlib
from pathlib import Path

import pytest

from etma_helper import doctor
from tests.unit.test_doctor import (
    REPO,
    FakeInstall,
    fake_install,
    problems,
    quiet_machine,
    receipt_only_install,
)


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeInstall:
    return fake_install(tmp_path, monkeypatch)


def diagnose(prefix: Path, machine: doctor.Machine) -> doctor.Report:
    report = doctor.diagnose(prefix, repo=REPO, machine=machine)
    print(doctor.format_report(report))
    return report


def checks(report: doctor.Report) -> dict[str, doctor.Check]:
    return {check.subject: check for check in report.checks}


def test_a_browser_installed_after_the_helper_is_named_with_the_command_that_registers_it(
    install,
):
    assert diagnose(install.prefix, quiet_machine(install.home)).healthy
    (install.home / ".config/google-chrome").mkdir(parents=True)
    report = diagnose(install.prefix, quiet_machine(install.home))
    assert not report.healthy
    chrome = problems(report)["Google Chrome"]
    assert "not registered" in chrome.detail and "Specified native messaging host" in chrome.detail
    assert chrome.fix.endswith("--browser chrome --prefix " + str(install.prefix))
    assert set(problems(report)) == {"Google Chrome"}


def test_a_browser_found_on_path_is_named_too(install):
    machine = quiet_machine(
        install.home, which=lambda name: "/usr/bin/vivaldi" if name == "vivaldi" else None
    )
    assert set(problems(diagnose(install.prefix, machine))) == {"Vivaldi"}


def test_a_snap_only_chromium_is_named_with_what_to_do_instead(install):
    machine = quiet_machine(
        install.home, which=lambda name: "/snap/bin/chromium" if name == "chromium" else None
    )
    report = diagnose(install.prefix, machine)
    check = problems(report)["Chromium (Snap)"]
    assert "could never start the helper" in check.detail
    assert ".deb/.rpm" in check.fix and "install.py" in check.fix


def test_a_flatpak_only_firefox_needs_the_proxy(install):
    (install.home / ".var/app/org.mozilla.firefox").mkdir(parents=True)
    without = diagnose(install.prefix, quiet_machine(install.home, proxy_installed=lambda: False))
    check = problems(without)["Firefox (Flatpak)"]
    assert "xdg-native-messaging-proxy" in check.detail and "systemctl --user" in check.fix
    with_proxy = diagnose(install.prefix, quiet_machine(install.home, proxy_installed=lambda: True))
    assert with_proxy.healthy
    assert checks(with_proxy)["Firefox (Flatpak)"].status == doctor.NOTE


def write_policy(root: Path, folder: str, policy: dict) -> None:
    place = root / folder.lstrip("/")
    place.mkdir(parents=True, exist_ok=True)
    (place / "university.json").write_text(json.dumps(policy))


def test_a_linux_policy_allowing_only_system_wide_helpers_is_named(install):
    root = install.home / "root"
    write_policy(root, "/etc/chromium/policies/managed", {"NativeMessagingUserLevelHosts": False})
    report = diagnose(install.prefix, quiet_machine(install.home))
    check = problems(report)["Chromium policy"]
    assert "NativeMessagingUserLevelHosts" in check.detail and "university.json" in check.detail
    assert f"sudo python3 {REPO / 'install.py'} --system" in check.fix


def test_a_linux_blocklist_is_named_unless_the_allowlist_names_the_helper(install):
    root = install.home / "root"
    write_policy(root, "/etc/chromium/policies/managed", {"NativeMessagingBlocklist": ["*"]})
    check = problems(diagnose(install.prefix, quiet_machine(install.home)))["Chromium policy"]
    assert "blocks helper programs" in check.detail and "NativeMessagingAllowlist" in check.fix
    write_policy(
        root,
        "/etc/chromium/policies/managed",
        {"NativeMessagingBlocklist": ["*"], "NativeMessagingAllowlist": ["etma_helper"]},
    )
    report = diagnose(install.prefix, quiet_machine(install.home))
    assert report.healthy and checks(report)["Chromium policy"].status == doctor.OK


def test_windows_registry_policies_are_read_from_hklm_and_hkcu(tmp_path: Path):
    prefix = tmp_path / "etma_helper"
    receipt_only_install(prefix, "win32", "user")
    local = tmp_path / "Local"
    (local / "Google/Chrome/User Data").mkdir(parents=True)
    registry = {
        ("HKLM", r"Software\Policies\Google\Chrome\NativeMessagingBlocklist"): {"1": "*"},
        ("HKCU", r"Software\Policies\Google\Chrome"): {"NativeMessagingUserLevelHosts": 0},
    }
    machine = doctor.Machine(
        home=tmp_path,
        environ={"LOCALAPPDATA": str(local)},
        platform="win32",
        which=lambda name: None,
        registry_values=lambda hive, key: registry.get((hive, key), {}),
    )
    found = problems(diagnose(prefix, machine))
    policy = found["Google Chrome policy"]
    assert r"HKLM\Software\Policies\Google\Chrome" in policy.detail
    assert "blocks helper programs" in policy.detail
    assert "--browser chrome" in found["Google Chrome"].fix
    assert found["Google Chrome"].fix.startswith("register it: py ")

    del registry[("HKLM", r"Software\Policies\Google\Chrome\NativeMessagingBlocklist")]
    policy = problems(diagnose(prefix, machine))["Google Chrome policy"]
    assert "NativeMessagingUserLevelHosts is off" in policy.detail
    assert "administrator prompt" in policy.fix and "--system" in policy.fix


def test_macos_managed_preferences_are_read(tmp_path: Path):
    prefix = tmp_path / "etma_helper"
    receipt_only_install(prefix, "darwin", "user")
    managed = tmp_path / "root/Library/Managed Preferences/tutor"
    managed.mkdir(parents=True)
    (managed / "com.microsoft.Edge.plist").write_bytes(
        plistlib.dumps({"NativeMessagingUserLevelHosts": False})
    )
    machine = doctor.Machine(
        home=tmp_path / "home",
        environ={},
        platform="darwin",
        which=lambda name: None,
        app_exists=lambda app: app == "Microsoft Edge.app",
        root=tmp_path / "root",
        user="tutor",
    )
    policy = problems(diagnose(prefix, machine))["Microsoft Edge policy"]
    assert "com.microsoft.Edge.plist" in policy.detail
    assert "sudo python3" in policy.fix


def test_an_older_user_manifest_read_before_a_system_install_is_named(tmp_path: Path):
    prefix = tmp_path / "opt" / "etma_helper"
    receipt_only_install(prefix, "linux", "system")
    receipt = json.loads((prefix / "install-receipt.json").read_text())
    receipt["registrations"] = [
        {
            "label": "Chromium",
            "browser": "chromium",
            "family": "chromium",
            "manifest": "/etc/chromium/native-messaging-hosts/etma_helper.json",
            "registry": None,
        }
    ]
    (prefix / "install-receipt.json").write_text(json.dumps(receipt))
    home = tmp_path / "home"
    old = home / ".config/chromium/NativeMessagingHosts/etma_helper.json"
    old.parent.mkdir(parents=True)
    old.write_text(json.dumps({"name": "etma_helper", "path": "/home/t/old/etma-helper-host"}))
    report = diagnose(prefix, quiet_machine(home))
    check = problems(report)["Chromium older manifest"]
    assert "/home/t/old/etma-helper-host" in check.detail and "reads it before" in check.detail
    assert check.fix.startswith(f"remove it: rm {old}")


def test_an_older_hkcu_key_read_before_a_system_install_is_named(tmp_path: Path):
    prefix = tmp_path / "Program Files" / "etma_helper"
    receipt_only_install(prefix, "win32", "system")
    receipt = json.loads((prefix / "install-receipt.json").read_text())
    key = r"Software\Mozilla\NativeMessagingHosts\etma_helper"
    receipt["registrations"] = [
        {
            "label": "Firefox",
            "browser": "firefox",
            "family": "firefox",
            "manifest": str(prefix / "etma_helper-firefox.json"),
            "registry": f"HKLM\\{key}",
        }
    ]
    (prefix / "install-receipt.json").write_text(json.dumps(receipt))
    registry = {
        ("HKLM", key): {"": str(prefix / "etma_helper-firefox.json")},
        ("HKCU", key): {"": r"C:\Users\t\old\etma_helper-firefox.json"},
    }
    machine = doctor.Machine(
        home=tmp_path,
        environ={},
        platform="win32",
        which=lambda name: None,
        registry_values=lambda hive, k: registry.get((hive, k), {}),
    )
    check = problems(diagnose(prefix, machine))["Firefox older key"]
    assert r"C:\Users\t\old" in check.detail
    assert check.fix == f'remove it: reg delete "HKCU\\{key}" /f'


def test_an_install_made_with_the_store_python_is_named(tmp_path: Path):
    prefix = tmp_path / "etma_helper"
    receipt_only_install(prefix, "win32", "user")
    (prefix / "venv").mkdir()
    (prefix / "venv/pyvenv.cfg").write_text(
        "home = C:\\Users\\t\\AppData\\Local\\Microsoft\\WindowsApps\\PythonSoftwareFoundation"
        ".Python.3.12_qbz5n2kfra8p0\nversion = 3.12.1\n"
    )
    machine = doctor.Machine(home=tmp_path, environ={}, platform="win32", which=lambda n: None)
    report = diagnose(prefix, machine)
    [store] = [c for c in report.checks if "Microsoft Store" in c.detail]
    assert store.status == doctor.PROBLEM
    assert "python.org" in store.fix and f"py {REPO / 'install.py'}" in store.fix
