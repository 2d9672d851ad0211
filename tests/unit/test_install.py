"""Tests for install.py: manifests, registration paths, and a real install and uninstall."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterable
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
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "CHROME_CONFIG_HOME"):
        env.pop(name, None)
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
    """An empty home folder, set as HOME with no XDG_DATA_HOME, XDG_CONFIG_HOME or
    CHROME_CONFIG_HOME."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "CHROME_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
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
    targets = installer.registration_targets(
        ["chromium", "chrome", "firefox"], home, platform="linux"
    )
    assert [(t.family, t.manifest_path) for t in targets] == [
        ("chromium", home / ".config/chromium/NativeMessagingHosts/etma_helper.json"),
        ("chromium", home / ".config/google-chrome/NativeMessagingHosts/etma_helper.json"),
        ("firefox", home / ".mozilla/native-messaging-hosts/etma_helper.json"),
    ]


ALL = [browser.key for browser in installer.BROWSERS]
_MAC = "Library/Application Support"

# Each browser's own folders, in the table's order; a folder or key an earlier browser already
# registered (Chrome's, shared by its channels, Brave and Vivaldi) is written once, for it.
USER_FOLDERS = {
    "linux": {
        "chromium": [".config/chromium/NativeMessagingHosts"],
        "chrome": [".config/google-chrome/NativeMessagingHosts"],
        "chrome-beta": [".config/google-chrome-beta/NativeMessagingHosts"],
        "chrome-dev": [".config/google-chrome-unstable/NativeMessagingHosts"],
        "chrome-canary": [".config/google-chrome-canary/NativeMessagingHosts"],
        "edge": [".config/microsoft-edge/NativeMessagingHosts"],
        "edge-beta": [".config/microsoft-edge-beta/NativeMessagingHosts"],
        "edge-dev": [".config/microsoft-edge-dev/NativeMessagingHosts"],
        "brave": [".config/BraveSoftware/Brave-Browser/NativeMessagingHosts"],
        "vivaldi": [".config/vivaldi/NativeMessagingHosts"],
        "firefox": [".mozilla/native-messaging-hosts"],
        "librewolf": [".librewolf/native-messaging-hosts"],
        "floorp": [".floorp/native-messaging-hosts"],
        "waterfox": [".waterfox/native-messaging-hosts"],
    },
    "darwin": {
        "chromium": [f"{_MAC}/Chromium/NativeMessagingHosts"],
        "chrome": [f"{_MAC}/Google/Chrome/NativeMessagingHosts"],
        "chrome-beta": [f"{_MAC}/Google/Chrome Beta/NativeMessagingHosts"],
        "chrome-dev": [f"{_MAC}/Google/Chrome Dev/NativeMessagingHosts"],
        "chrome-canary": [f"{_MAC}/Google/Chrome Canary/NativeMessagingHosts"],
        "edge": [f"{_MAC}/Microsoft Edge/NativeMessagingHosts"],
        "edge-beta": [f"{_MAC}/Microsoft Edge Beta/NativeMessagingHosts"],
        "edge-dev": [f"{_MAC}/Microsoft Edge Dev/NativeMessagingHosts"],
        "edge-canary": [f"{_MAC}/Microsoft Edge Canary/NativeMessagingHosts"],
        "brave": [f"{_MAC}/BraveSoftware/Brave-Browser/NativeMessagingHosts"],
        "vivaldi": [f"{_MAC}/Vivaldi/NativeMessagingHosts"],
        "firefox": [f"{_MAC}/Mozilla/NativeMessagingHosts"],
        "librewolf": [f"{_MAC}/LibreWolf/NativeMessagingHosts"],
        "floorp": [f"{_MAC}/Floorp/NativeMessagingHosts"],
        "waterfox": [f"{_MAC}/Waterfox/NativeMessagingHosts"],
    },
}
SYSTEM_FOLDERS = {
    "linux": {
        "chromium": ["/etc/chromium/native-messaging-hosts"],
        "chrome": ["/etc/opt/chrome/native-messaging-hosts"],
        "edge": ["/etc/opt/edge/native-messaging-hosts"],
        "brave": ["/etc/opt/brave/native-messaging-hosts", "/etc/brave/native-messaging-hosts"],
        "vivaldi": [
            "/etc/opt/vivaldi/native-messaging-hosts",
            "/etc/vivaldi/native-messaging-hosts",
        ],
        "firefox": [
            "/usr/lib/mozilla/native-messaging-hosts",
            "/usr/lib64/mozilla/native-messaging-hosts",
        ],
    },
    "darwin": {
        "chromium": ["/Library/Application Support/Chromium/NativeMessagingHosts"],
        "chrome": ["/Library/Google/Chrome/NativeMessagingHosts"],
        "edge": ["/Library/Microsoft/Edge/NativeMessagingHosts"],
        "vivaldi": ["/Library/Application Support/Vivaldi/NativeMessagingHosts"],
        "firefox": ["/Library/Application Support/Mozilla/NativeMessagingHosts"],
    },
}
REGISTRY_KEYS = {
    "chromium": [r"Software\Chromium\NativeMessagingHosts\etma_helper"],
    "chrome": [r"Software\Google\Chrome\NativeMessagingHosts\etma_helper"],
    "edge": [r"Software\Microsoft\Edge\NativeMessagingHosts\etma_helper"],
    "brave": [r"Software\BraveSoftware\Brave-Browser\NativeMessagingHosts\etma_helper"],
    "firefox": [r"Software\Mozilla\NativeMessagingHosts\etma_helper"],
    "librewolf": [r"Software\LibreWolf\NativeMessagingHosts\etma_helper"],
    "floorp": [r"Software\Floorp\NativeMessagingHosts\etma_helper"],
    "waterfox": [r"Software\Waterfox\NativeMessagingHosts\etma_helper"],
}


def grouped(targets, place) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for target in targets:
        found.setdefault(target.browser, []).append(place(target))
    return found


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_each_browser_is_registered_in_the_user_folder_it_reads(home: Path, platform: str):
    targets = installer.registration_targets(ALL, home, platform=platform)
    assert grouped(targets, lambda t: t.manifest_path) == {
        key: [home / folder / "etma_helper.json" for folder in folders]
        for key, folders in USER_FOLDERS[platform].items()
    }
    assert all(t.registry is None for t in targets)


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_system_install_writes_the_folders_every_user_s_browser_reads(home: Path, platform: str):
    targets = installer.registration_targets(
        ALL, home, platform=platform, scope="system", is_dir=lambda path: path == "/usr/lib64"
    )
    assert all(target.manifest_path.name == "etma_helper.json" for target in targets)
    assert grouped(targets, lambda t: str(t.manifest_path.parent)) == SYSTEM_FOLDERS[platform]


def test_brave_alone_is_registered_in_chromes_places_as_well_as_its_own(home: Path):
    """Brave reads Chrome's folder on macOS and Chrome's key on Windows; on Linux its system
    folder is disputed, so every candidate is written."""
    mac = installer.registration_targets(["brave"], home, platform="darwin")
    assert [t.manifest_path.parent for t in mac] == [
        home / _MAC / "BraveSoftware/Brave-Browser/NativeMessagingHosts",
        home / _MAC / "Google/Chrome/NativeMessagingHosts",
    ]
    assert len({t.label for t in mac}) == 2  # the doctor tells them apart
    windows = installer.registration_targets(["brave"], home, platform="win32", prefix=Path("C:/p"))
    assert [t.registry.key for t in windows] == [
        r"Software\BraveSoftware\Brave-Browser\NativeMessagingHosts\etma_helper",
        r"Software\Google\Chrome\NativeMessagingHosts\etma_helper",
    ]
    linux = installer.registration_targets(
        ["brave", "vivaldi"], home, platform="linux", scope="system"
    )
    assert grouped(linux, lambda t: str(t.manifest_path.parent)) == {
        "brave": [
            "/etc/opt/chrome/native-messaging-hosts",
            "/etc/opt/brave/native-messaging-hosts",
            "/etc/brave/native-messaging-hosts",
        ],
        "vivaldi": [
            "/etc/chromium/native-messaging-hosts",
            "/etc/opt/vivaldi/native-messaging-hosts",
            "/etc/vivaldi/native-messaging-hosts",
        ],
    }


def test_browsers_not_made_for_the_system_or_scope_are_skipped_with_why(home: Path):
    plan = installer.plan_install(
        home / "prefix",
        ["edge-canary", "chrome", "librewolf"],
        home=home,
        platform="linux",
        scope="system",
        environ={},
        which=lambda name: None,
    )
    assert [t.browser for t in plan.targets] == ["chrome"]
    reasons = dict(plan.skipped)
    assert reasons["edge-canary"] == "Microsoft Edge Canary is not made for Linux"
    assert "install for each user instead" in reasons["librewolf"]


def test_firefox_system_folder_is_lib_only_without_lib64(home: Path):
    [target] = installer.registration_targets(
        ["firefox"], home, platform="linux", scope="system", is_dir=lambda path: False
    )
    assert target.manifest_path == Path("/usr/lib/mozilla/native-messaging-hosts/etma_helper.json")


@pytest.mark.parametrize(("scope", "hive"), [("user", "HKCU"), ("system", "HKLM")])
def test_windows_registers_a_registry_key_naming_a_manifest_in_the_prefix(
    home: Path, scope: str, hive: str
):
    prefix = Path("C:/Users/t/AppData/Local/etma_helper")
    targets = installer.registration_targets(
        ALL, home, platform="win32", scope=scope, prefix=prefix
    )
    assert grouped(targets, lambda t: str(t.registry)) == {
        key: [f"{hive}\\{value}" for value in values] for key, values in REGISTRY_KEYS.items()
    }
    for target in targets:
        assert target.manifest_path == prefix / f"etma_helper-{target.family}.json"


def test_default_prefix_per_platform_and_scope(home: Path):
    env = {"LOCALAPPDATA": r"C:\Users\t\AppData\Local", "ProgramFiles": r"C:\Program Files"}
    assert installer.default_prefix(home, env, "win32") == Path(env["LOCALAPPDATA"]) / "etma_helper"
    assert installer.default_prefix(home, env, "win32", "system") == (
        Path(env["ProgramFiles"]) / "etma_helper"
    )
    assert installer.default_prefix(home, {}, "darwin") == (
        home / "Library/Application Support/etma_helper"
    )
    assert installer.default_prefix(home, {}, "linux", "system") == Path("/opt/etma_helper")


def test_launcher_is_a_shell_script_with_the_absolute_interpreter_or_an_ascii_cmd():
    assert installer.launcher_text(Path("/p/venv/bin/python"), "linux") == (
        '#!/bin/sh\nexec "/p/venv/bin/python" -m etma_helper.native_host "$@"\n'
    )
    # cmd.exe reads a batch file in the console's code page: a user name such as "Zoë Müller"
    # written into it would name a missing folder, so the .cmd names the venv from its own.
    windows = installer.PureWindowsPath(
        r"C:\Users\Zoë Müller 100%\AppData\Local\etma_helper\venv\Scripts\python.exe"
    )
    text = installer.launcher_text(windows, "win32")
    assert text == '@echo off\r\n"%~dp0venv\\Scripts\\python.exe" -m etma_helper.native_host %*\r\n'
    assert text.isascii()
    assert installer.launcher_path(Path("/p"), "win32").name == "etma-helper-host.cmd"


def test_windows_launcher_is_written_as_ascii_for_a_non_ascii_user_name(tmp_path: Path):
    prefix = tmp_path / "Zoë Müller" / "etma_helper"
    prefix.mkdir(parents=True)
    plan = installer.plan_install(prefix, [], home=tmp_path, platform="win32", environ={})
    launcher = installer.write_launcher(plan, installer.Receipt(prefix))
    assert launcher.name == "etma-helper-host.cmd"
    launcher.read_bytes().decode("ascii")  # no byte a console code page could misread


def test_windows_manifest_may_name_a_drive_letter_launcher():
    manifest = installer.render_host_manifest("chromium", r"C:\etma\etma-helper-host.cmd")
    assert manifest["path"] == r"C:\etma\etma-helper-host.cmd"


class FakeWinreg:
    """Records registry keys and default values the way winreg would store them."""

    HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE = "HKCU", "HKLM"
    KEY_WRITE, REG_SZ = 0x20006, 1

    def __init__(self, existing: Iterable[str] = ()):
        self.keys: dict[tuple[str, str], str | None] = {}
        for key in existing:
            self.keys[tuple(key.split("\\", 1))] = None

    def _known(self, hive, key):
        if (hive, key) not in self.keys:
            raise FileNotFoundError(key)
        return (hive, key)

    def OpenKey(self, hive, key):
        return self._known(hive, key)

    def CloseKey(self, handle):
        pass

    def CreateKeyEx(self, hive, key, reserved, access):
        parts = key.split("\\")
        for depth in range(1, len(parts) + 1):
            self.keys.setdefault((hive, "\\".join(parts[:depth])), None)
        return (hive, key)

    def SetValueEx(self, handle, name, reserved, kind, value):
        assert name == "" and kind == self.REG_SZ
        self.keys[handle] = value

    def QueryValueEx(self, handle, name):
        value = self.keys[self._known(*handle)]
        if value is None:
            raise FileNotFoundError(name)
        return value, self.REG_SZ

    def QueryInfoKey(self, handle):
        hive, key = handle
        subkeys = [k for h, k in self.keys if h == hive and k.startswith(key + "\\")]
        return len(subkeys), int(self.keys[handle] is not None), 0

    def DeleteKey(self, hive, key):
        assert self.QueryInfoKey((hive, key))[0] == 0, "winreg cannot delete a key with subkeys"
        del self.keys[self._known(hive, key)]

    def listing(self) -> dict[str, str | None]:
        return {f"{hive}\\{key}": value for (hive, key), value in sorted(self.keys.items())}


def test_windows_registry_keys_are_written_and_uninstall_removes_exactly_them(tmp_path: Path):
    winreg = FakeWinreg(
        existing=[r"HKCU\Software", r"HKCU\Software\Google", r"HKCU\Software\Mozilla"]
    )
    winreg.keys[("HKCU", r"Software\Google\Chrome")] = None
    winreg.keys[("HKCU", r"Software\Google\Chrome\NativeMessagingHosts")] = None
    winreg.keys[("HKCU", r"Software\Google\Chrome\NativeMessagingHosts\other_host")] = "x.json"
    before = winreg.listing()
    registry = installer.Registry(winreg)
    prefix = tmp_path / "prefix"
    prefix.mkdir()
    receipt = installer.Receipt(prefix)
    targets = installer.registration_targets(
        ["chrome", "vivaldi", "edge", "firefox"], tmp_path, platform="win32", prefix=prefix
    )
    for target in targets:
        installer.write_registry(target, registry, receipt)
    receipt.save()
    after = winreg.listing()
    assert after[r"HKCU\Software\Google\Chrome\NativeMessagingHosts\etma_helper"] == str(
        prefix / "etma_helper-chromium.json"
    )
    assert after[r"HKCU\Software\Microsoft\Edge\NativeMessagingHosts\etma_helper"] == str(
        prefix / "etma_helper-chromium.json"
    )
    assert after[r"HKCU\Software\Mozilla\NativeMessagingHosts\etma_helper"] == str(
        prefix / "etma_helper-firefox.json"
    )

    dry = installer.uninstall(prefix, dry_run=True, registry=registry)
    assert winreg.listing() == after
    assert any(
        "HKCU\\Software\\Microsoft\\Edge\\NativeMessagingHosts\\etma_helper" in line for line in dry
    )
    installer.uninstall(prefix, registry=registry)
    assert winreg.listing() == before
    assert not prefix.exists()


def test_uninstall_leaves_a_registry_key_that_now_names_another_install(tmp_path: Path):
    winreg = FakeWinreg()
    registry = installer.Registry(winreg)
    prefix = tmp_path / "prefix"
    prefix.mkdir()
    receipt = installer.Receipt(prefix)
    [target] = installer.registration_targets(["chrome"], tmp_path, platform="win32", prefix=prefix)
    installer.write_registry(target, registry, receipt)
    receipt.save()
    registry.write("HKCU", target.registry.key, r"D:\elsewhere\etma_helper-chromium.json")
    actions = installer.uninstall(prefix, registry=registry)
    assert (
        registry.get_default("HKCU", target.registry.key)
        == r"D:\elsewhere\etma_helper-chromium.json"
    )
    assert any(
        line.startswith("Left registry key") and "not part of this install" in line
        for line in actions
    )


def test_windows_dry_run_lists_every_key_and_file(tmp_path: Path):
    prefix = Path(r"C:\Users\t\AppData\Local\etma_helper")
    plan = installer.plan_install(
        prefix, ["chrome", "firefox"], home=tmp_path, platform="win32", environ={}
    )
    text = installer.format_summary(installer.InstallSummary(plan, dry_run=True))
    assert r"registry key HKCU\Software\Google\Chrome\NativeMessagingHosts\etma_helper" in text
    assert r"registry key HKCU\Software\Mozilla\NativeMessagingHosts\etma_helper" in text
    assert str(prefix / "etma_helper-chromium.json") in text
    assert str(prefix / "etma-helper-host.cmd") in text
    assert str(prefix / "install-receipt.json") in text


def test_windows_and_macos_browsers_are_found_by_their_profile_folders(tmp_path: Path):
    local = tmp_path / "Local"
    (local / "Microsoft/Edge/User Data").mkdir(parents=True)
    (tmp_path / "Roaming/Mozilla/Firefox").mkdir(parents=True)
    env = {"LOCALAPPDATA": str(local), "APPDATA": str(tmp_path / "Roaming")}
    found, _, _ = installer.detect_browsers(
        tmp_path, which=lambda name: "/x", platform="win32", environ=env
    )
    assert found == ["edge", "firefox"]
    found, _, _ = installer.detect_browsers(
        tmp_path,
        which=lambda name: None,
        platform="darwin",
        environ={},
        app_exists=lambda app: app == "Brave Browser.app",
    )
    assert found == ["brave"]


def test_custom_chromium_profile_gets_its_own_manifest(home: Path):
    profile = home / "profile"
    [target] = installer.registration_targets([], home, [profile])
    assert target.family == "chromium"
    assert target.manifest_path == profile / "NativeMessagingHosts" / "etma_helper.json"


def test_default_prefix_follows_xdg_data_home(home: Path):
    assert installer.default_prefix(home, {}, "linux") == home / ".local/share/etma_helper"
    assert installer.default_prefix(home, {"XDG_DATA_HOME": "/data"}, "linux") == Path(
        "/data/etma_helper"
    )
    assert installer.default_prefix(home, {"XDG_DATA_HOME": "relative"}, "linux") == (
        home / ".local/share/etma_helper"
    )


def test_browser_is_found_by_its_config_folder_and_flatpak_chromium_is_explained(home: Path):
    (home / ".mozilla/firefox").mkdir(parents=True)
    (home / ".var/app/com.google.Chrome").mkdir(parents=True)
    found, skipped, notes = installer.detect_browsers(
        home, which=lambda name: None, platform="linux"
    )
    assert found == ["firefox"]
    reasons = dict(skipped)
    assert (
        "Flatpak" in reasons["chrome"] and "cannot start programs outside it" in reasons["chrome"]
    )
    assert ".deb/.rpm" in reasons["chrome"]
    assert reasons["chromium"] == "Chromium was not found"
    assert notes == []


def test_snap_firefox_is_registered_through_the_portal_and_snap_chromium_is_explained(home: Path):
    (home / "snap/firefox").mkdir(parents=True)
    (home / "snap/chromium").mkdir(parents=True)
    found, skipped, notes = installer.detect_browsers(
        home, which=lambda name: None, platform="linux"
    )
    assert found == ["firefox"]
    assert "Snap" in dict(skipped)["chromium"]
    assert len(notes) == 1 and "WebExtensions portal" in notes[0]


def test_flatpak_firefox_is_registered_with_what_it_needs_explained(home: Path):
    (home / ".var/app/org.mozilla.firefox").mkdir(parents=True)
    found, _, notes = installer.detect_browsers(home, which=lambda name: None, platform="linux")
    assert found == ["firefox"]
    assert "xdg-native-messaging-proxy" in notes[0] and "157" in notes[0]


def test_browser_is_found_by_its_executable_on_path(home: Path):
    found, _, _ = installer.detect_browsers(
        home,
        which=lambda name: f"/usr/bin/{name}" if name == "chromium" else None,
        platform="linux",
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


def test_install_py_and_its_doctor_need_only_the_standard_library():
    """install.py runs before any venv exists: with no site-packages at all (-S), it still
    imports, and so does the doctor it runs, which shares install.py's idea of where things are
    and which browsers a machine has (the helper's own standard-library-only modules, imported
    from the clone)."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import install; "
        "doctor = install.load_doctor(); "
        "assert doctor.survey_browsers.__module__ == install.detect_browsers.__module__; "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('etma_helper'))))"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, str(REPO)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "etma_helper",
        "etma_helper.doctor",
        "etma_helper.framing",
        "etma_helper.identity",
        "etma_helper.locations",
    ]
