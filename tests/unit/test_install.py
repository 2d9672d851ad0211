"""Tests for install.py: manifests, registration paths, and a real install and uninstall."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_ORIGIN = "chrome-extension://cfflekeodohgccooffokbilcglejnhfj/"
FIREFOX_ID = "etma-helper@etma-helper"


def load_installer():
    """Import install.py from the repository root as a module."""
    spec = importlib.util.spec_from_file_location("etma_install", REPO / "install.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


installer = load_installer()


def listing(root: Path) -> dict[str, str]:
    """Every path under `root` with its kind and, for files, content, for before/after checks."""
    result = {}
    for path in sorted(root.rglob("*")):
        relative = str(path.relative_to(root))
        result[relative] = "dir" if path.is_dir() else path.read_bytes().decode("latin-1")
    return result


def run_installer(script: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    """Run install.py as a user would, with HOME pointing at a temporary home."""
    env = dict(os.environ, HOME=str(home))
    env.pop("XDG_DATA_HOME", None)
    # Tools the installer runs keep caches of their own (pip asks `rustc --version`, whose
    # rustup proxy writes ~/.rustup); those are not the installer's files, so keep them out.
    env["RUSTUP_HOME"] = str(home.parent / "rustup")
    env["XDG_CACHE_HOME"] = str(home.parent / "cache")
    return subprocess.run(
        [sys.executable, str(script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home folder, set as HOME with no XDG_DATA_HOME."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    return folder


def test_chromium_manifest_points_at_absolute_launcher_and_allows_the_extension_origin():
    manifest = installer.render_host_manifest("chromium", "/opt/etma/etma-helper-host")
    assert manifest == {
        "name": "etma_helper",
        "description": manifest["description"],
        "path": "/opt/etma/etma-helper-host",
        "type": "stdio",
        "allowed_origins": [CHROMIUM_ORIGIN],
    }
    assert manifest["description"]


def test_firefox_manifest_points_at_absolute_launcher_and_allows_the_addon_id():
    manifest = installer.render_host_manifest("firefox", Path("/opt/etma/etma-helper-host"))
    assert manifest["name"] == "etma_helper"
    assert manifest["path"] == "/opt/etma/etma-helper-host"
    assert manifest["type"] == "stdio"
    assert manifest["allowed_extensions"] == [FIREFOX_ID]
    assert "allowed_origins" not in manifest


def test_relative_launcher_path_is_refused():
    with pytest.raises(ValueError, match="absolute"):
        installer.render_host_manifest("chromium", "etma-helper-host")


def test_registration_targets_use_each_browsers_user_folder(home: Path):
    targets = installer.registration_targets(["chromium", "chrome", "firefox"], home)
    assert [(t.family, t.manifest_path) for t in targets] == [
        ("chromium", home / ".config/chromium/NativeMessagingHosts/etma_helper.json"),
        ("chromium", home / ".config/google-chrome/NativeMessagingHosts/etma_helper.json"),
        ("firefox", home / ".mozilla/native-messaging-hosts/etma_helper.json"),
    ]


def test_custom_chromium_profile_gets_its_own_manifest(home: Path):
    profile = home / "profile"
    [target] = installer.registration_targets([], home, [profile])
    assert target.family == "chromium"
    assert target.manifest_path == profile / "NativeMessagingHosts" / "etma_helper.json"


def test_default_prefix_follows_xdg_data_home(home: Path):
    assert installer.default_prefix(home, {}) == home / ".local/share/etma_helper"
    assert installer.default_prefix(home, {"XDG_DATA_HOME": "/data"}) == Path("/data/etma_helper")
    assert installer.default_prefix(home, {"XDG_DATA_HOME": "relative"}) == (
        home / ".local/share/etma_helper"
    )


def test_browser_is_found_by_its_config_folder_and_flatpak_is_explained(home: Path):
    (home / ".mozilla").mkdir()
    (home / ".var/app/com.google.Chrome").mkdir(parents=True)
    found, skipped = installer.detect_browsers(home, which=lambda name: None)
    assert found == ["firefox"]
    reasons = dict(skipped)
    assert "Flatpak" in reasons["chrome"]
    assert reasons["chromium"] == "Chromium was not found"


def test_browser_is_found_by_its_executable_on_path(home: Path):
    found, _ = installer.detect_browsers(
        home, which=lambda name: f"/usr/bin/{name}" if name == "chromium" else None
    )
    assert found == ["chromium"]


def test_dry_run_writes_nothing_and_says_where_it_would_write(home: Path):
    before = listing(home)
    result = run_installer(
        REPO / "install.py",
        home,
        "--dry-run",
        "--browser",
        "chromium,firefox",
        "--chromium-profile",
        str(home / "profile"),
    )
    assert result.returncode == 0, result.stderr
    assert listing(home) == before
    assert str(home / ".local/share/etma_helper/etma-helper-host") in result.stdout
    assert str(home / "profile/NativeMessagingHosts/etma_helper.json") in result.stdout
    assert str(home / ".mozilla/native-messaging-hosts/etma_helper.json") in result.stdout


def test_unknown_browser_is_a_usage_error(home: Path):
    result = run_installer(REPO / "install.py", home, "--browser", "netscape")
    assert result.returncode == 2
    assert "unknown browser" in result.stderr


def test_uninstall_without_an_install_fails_with_a_clear_sentence(home: Path):
    result = run_installer(
        REPO / "install.py", home, "--uninstall", "--prefix", str(home / "nowhere")
    )
    assert result.returncode == 1
    assert "No eTMA Helper installation was found" in result.stderr
    assert "Traceback" not in result.stderr


def make_throwaway_repo(destination: Path) -> Path:
    """A copy of the installer and project metadata with a minimal package that the real
    host/ is not needed for: its native_host echoes its arguments, to prove the launcher."""
    destination.mkdir()
    shutil.copy2(REPO / "install.py", destination)
    shutil.copy2(REPO / "pyproject.toml", destination)
    shutil.copytree(REPO / "manifest", destination / "manifest")
    package = destination / "host" / "etma_helper"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""Throwaway package for the installer test."""\n')
    (package / "native_host.py").write_text("import sys\nprint('host', *sys.argv[1:])\n")
    return destination


def test_slow_real_install_registers_launcher_and_uninstall_restores_home(tmp_path: Path):
    """SLOW (about 10 s): a real venv and pip install, run twice, then uninstall."""
    repo = make_throwaway_repo(tmp_path / "repo")
    home = tmp_path / "home"
    other_hosts = home / ".config/chromium/NativeMessagingHosts"
    other_hosts.mkdir(parents=True)
    (other_hosts / "other_host.json").write_text("{}")
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

    for _ in range(2):  # installing twice is fine
        result = run_installer(repo / "install.py", home, *args)
        assert result.returncode == 0, result.stdout + result.stderr

    launcher = prefix / "etma-helper-host"
    assert os.access(launcher, os.X_OK)
    python = prefix / "venv" / "bin" / "python"
    assert launcher.read_text() == (f'#!/bin/sh\nexec "{python}" -m etma_helper.native_host "$@"\n')
    started = subprocess.run(
        [str(launcher), CHROMIUM_ORIGIN], capture_output=True, text=True, cwd=tmp_path, timeout=30
    )
    assert started.stdout == f"host {CHROMIUM_ORIGIN}\n"
    manifests = {
        "chromium": other_hosts / "etma_helper.json",
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

    result = run_installer(repo / "install.py", home, "--uninstall", "--prefix", str(prefix))
    assert result.returncode == 0, result.stdout + result.stderr
    assert listing(home) == before
