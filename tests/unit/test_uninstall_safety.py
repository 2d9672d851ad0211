"""`install.py --uninstall` removes only what belongs to its own install, whatever its receipt says.

Threat: the receipt (install-receipt.json in the prefix) is a plain file; anyone who can edit it,
or a second install into another prefix, must not be able to make uninstall delete files,
folders or registry keys that are not this install's. Uninstall deletes files inside its own
prefix, and host manifests (files, or registry keys on Windows) that still point at this
install's launcher; everything else named in the receipt is left and reported.

These tests build a real install minus the virtual environment (launcher, manifests, receipt,
through install.py's own steps) in a temporary home, so they run in milliseconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.test_install import FakeWinreg, installer, listing


def fake_install(prefix: Path, home: Path, browsers=("chromium", "firefox"), profiles=()) -> Path:
    """Install launcher, manifests and receipt into `prefix` (no venv); return the prefix."""
    prefix = prefix.resolve()
    plan = installer.plan_install(
        prefix, list(browsers), list(profiles), home=home, platform="linux", environ={}
    )
    receipt = installer.Receipt.load(prefix) if prefix.is_dir() else None
    receipt = receipt or installer.Receipt(prefix)
    receipt.make_dirs(prefix)
    installer.write_launcher(plan, receipt)
    for target in plan.targets:
        installer.write_manifest(target, plan.launcher, receipt)
    receipt.save()
    return prefix


def tamper(prefix: Path, **extra: list) -> None:
    """Add entries to the receipt's lists, as an attacker editing the file would."""
    path = prefix / installer.RECEIPT_NAME
    data = json.loads(path.read_text())
    for key, entries in extra.items():
        data[key] = data.get(key, []) + entries
    path.write_text(json.dumps(data))


def manifest_path(home: Path, browser: str = "chromium") -> Path:
    [folder] = installer.user_manifest_dirs(installer.BROWSERS_BY_KEY[browser], home, "linux", {})
    return folder / "etma_helper.json"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = (tmp_path / "home").resolve()
    (folder / "Documents").mkdir(parents=True)
    (folder / "Documents" / "marks.xlsx").write_text("the tutor's marks")
    return folder


def test_normal_round_trip_removes_everything_it_wrote(home: Path):
    before = listing(home)
    prefix = fake_install(home / "prefix", home, profiles=[home / "profile"])
    assert manifest_path(home).is_file() and (home / "profile/NativeMessagingHosts").is_dir()
    actions = installer.uninstall(prefix)
    assert listing(home) == before
    assert not any(line.startswith("Left") for line in actions), actions


@pytest.mark.parametrize(
    "victim",
    [
        "Documents/marks.xlsx",  # named directly
        "prefix/../Documents/marks.xlsx",  # inside the prefix only lexically
    ],
)
def test_tampered_receipt_naming_a_file_outside_the_prefix_leaves_it(home: Path, victim: str):
    prefix = fake_install(home / "prefix", home)
    target = home / "Documents" / "marks.xlsx"
    tamper(prefix, files=[str(home / victim)])
    dry = installer.uninstall(prefix, dry_run=True)
    assert not any("marks.xlsx" in line and line.startswith("Would remove") for line in dry)
    actions = installer.uninstall(prefix)
    assert target.read_text() == "the tutor's marks"
    assert any(
        line.startswith("Left") and "marks.xlsx" in line and "not part of this install" in line
        for line in actions
    ), actions
    assert not manifest_path(home).exists()  # its own files still went


def test_tampered_receipt_naming_an_empty_folder_or_tree_outside_the_prefix_leaves_them(
    home: Path,
):
    prefix = fake_install(home / "prefix", home)
    empty = home / "Empty project"
    empty.mkdir()
    tamper(prefix, dirs=[str(empty)], trees=[str(home / "Documents")])
    actions = installer.uninstall(prefix)
    assert empty.is_dir()
    assert (home / "Documents" / "marks.xlsx").is_file()
    assert sum("not part of this install" in line for line in actions) == 2, actions


def test_tampered_receipt_naming_another_programs_manifest_leaves_it(home: Path):
    prefix = fake_install(home / "prefix", home)
    other = manifest_path(home).with_name("keepassxc.json")
    other.write_text(json.dumps({"name": "keepassxc", "path": "/usr/bin/keepassxc-proxy"}))
    tamper(prefix, files=[str(other)])
    installer.uninstall(prefix)
    assert other.is_file()


def test_uninstalling_one_prefix_leaves_the_manifest_now_pointing_at_the_other_install(
    home: Path,
):
    before = listing(home)
    first = fake_install(home / "first", home, browsers=["chromium"])
    second = fake_install(home / "second", home, browsers=["chromium"])
    manifest = manifest_path(home)
    second_launcher = str(installer.launcher_path(second, "linux"))
    assert json.loads(manifest.read_text())["path"] == second_launcher

    actions = installer.uninstall(first)
    assert not first.exists()
    assert json.loads(manifest.read_text())["path"] == second_launcher
    assert any(
        line.startswith(f"Left {manifest}") and "not part of this install" in line
        for line in actions
    ), actions

    installer.uninstall(second)
    assert not manifest.exists() and not second.exists()
    # The first install created the manifest's folders and kept them while they held the
    # second's manifest; the second did not create them, so they stay (empty).
    assert set(listing(home)) - set(before) == {
        ".config",
        ".config/chromium",
        ".config/chromium/NativeMessagingHosts",
    }


def test_a_symlink_in_the_prefix_is_unlinked_never_its_target(home: Path):
    prefix = fake_install(home / "prefix", home)
    secret = home / "Documents" / "marks.xlsx"
    link = prefix / "notes.txt"
    link.symlink_to(secret)
    tamper(prefix, files=[str(link)])
    installer.uninstall(prefix)
    assert secret.read_text() == "the tutor's marks"
    assert not link.is_symlink()


def test_a_symlinked_folder_in_the_prefix_does_not_lead_uninstall_outside(home: Path):
    prefix = fake_install(home / "prefix", home)
    outside = home / "Documents"
    (outside / "project").mkdir()
    (outside / "project" / "essay.txt").write_text("keep me")
    (prefix / "cache").symlink_to(outside)
    tamper(
        prefix,
        files=[str(prefix / "cache" / "marks.xlsx")],
        trees=[str(prefix / "cache" / "project")],
    )
    actions = installer.uninstall(prefix)
    assert (outside / "marks.xlsx").read_text() == "the tutor's marks"
    assert (outside / "project" / "essay.txt").read_text() == "keep me"
    assert sum("not part of this install" in line for line in actions) == 2, actions


def test_a_venv_replaced_by_a_symlink_is_unlinked_not_emptied(home: Path):
    prefix = fake_install(home / "prefix", home)
    outside = home / "Documents"
    (prefix / "venv").symlink_to(outside, target_is_directory=True)
    tamper(prefix, trees=[str(prefix / "venv")])
    installer.uninstall(prefix)
    assert (outside / "marks.xlsx").read_text() == "the tutor's marks"
    assert not (prefix / "venv").is_symlink()


# --- Windows: the registry key is the manifest ----------------------------------------------


def windows_install(prefix: Path, registry, browsers=("chrome",)) -> None:
    prefix.mkdir(parents=True, exist_ok=True)
    receipt = installer.Receipt.load(prefix) or installer.Receipt(prefix)
    targets = installer.registration_targets(
        list(browsers), prefix.parent, platform="win32", prefix=prefix
    )
    for target in targets:
        target.manifest_path.write_text("{}")
        receipt.add_file(target.manifest_path)
        installer.write_registry(target, registry, receipt)
    receipt.save()


def test_tampered_receipt_naming_another_hosts_registry_key_leaves_it(tmp_path: Path):
    winreg = FakeWinreg()
    registry = installer.Registry(winreg)
    other = r"Software\Google\Chrome\NativeMessagingHosts\other_host"
    registry.write("HKCU", other, r"C:\other\host.json")
    prefix = tmp_path / "prefix"
    windows_install(prefix, registry)
    tamper(
        prefix,
        registry=[{"hive": "HKCU", "key": other, "value": r"C:\other\host.json"}],
        registry_parents=[{"hive": "HKCU", "key": r"Software\Google"}],
    )
    actions = installer.uninstall(prefix, registry=registry)
    assert registry.get_default("HKCU", other) == r"C:\other\host.json"
    assert not registry.exists("HKCU", r"Software\Google\Chrome\NativeMessagingHosts\etma_helper")
    assert any(other in line and "not part of this install" in line for line in actions), actions


def test_windows_uninstall_leaves_the_key_another_prefix_registered(tmp_path: Path):
    """Two prefixes register the same browser; the key now names the second one's manifest.

    A receipt whose recorded value was edited to match cannot make the first remove it.
    """
    winreg = FakeWinreg()
    registry = installer.Registry(winreg)
    first, second = tmp_path / "first", tmp_path / "second"
    windows_install(first, registry)
    windows_install(second, registry)
    key = r"Software\Google\Chrome\NativeMessagingHosts\etma_helper"
    theirs = str(second / "etma_helper-chromium.json")
    data = json.loads((first / installer.RECEIPT_NAME).read_text())
    data["registry"] = [{"hive": "HKCU", "key": key, "value": theirs}]
    (first / installer.RECEIPT_NAME).write_text(json.dumps(data))
    actions = installer.uninstall(first, registry=registry)
    assert registry.get_default("HKCU", key) == theirs
    assert any(key in line and "not part of this install" in line for line in actions), actions
    installer.uninstall(second, registry=registry)
    assert not registry.exists("HKCU", key)
