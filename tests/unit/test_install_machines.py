"""install.py on the machines tutors really have: Store Python, non-ASCII names, Brave, XDG and
CHROME_CONFIG_HOME, Snap-only Chromium, Firefox forks and browser channels, repeated --browser,
printed commands with spaces, a dangling ~/.config, a second run with another Python, and an
uninstall that keeps the tutor's data.

Windows and macOS are simulated (platform=, environ=, folders under a temporary home) as in
test_install.py; nothing here touches the real home folder.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from tests.unit.test_install import REPO, installer, run_installer


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home folder set as HOME, with no XDG or Chrome config variables."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "CHROME_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    return folder


def nothing_on_path(name: str) -> None:
    return None


# --- Windows: the Store's Python ----------------------------------------------------------


@pytest.mark.parametrize(
    "executable",
    [
        r"C:\Users\t\AppData\Local\Microsoft\WindowsApps\python3.exe",
        r"C:\Program Files\WindowsApps\PythonSoftwareFoundation.Python.3.12_3.12.1_x64__qbz5n2"
        r"kfra8p0\python.exe",
    ],
)
def test_the_microsoft_store_python_is_refused_with_the_fix(executable: str):
    with pytest.raises(installer.InstallError) as refused:
        installer.refuse_store_python(executable, "win32")
    assert "Microsoft Store" in str(refused.value)
    assert "py install.py" in str(refused.value) and "python.org" in str(refused.value)


def test_python_org_python_and_other_systems_are_accepted():
    installer.refuse_store_python(
        r"C:\Users\t\AppData\Local\Programs\Python\Python312\python.exe", "win32"
    )
    installer.refuse_store_python("/home/t/WindowsApps/bin/python3", "linux")


def test_install_and_doctor_refuse_the_store_python(home: Path, monkeypatch):
    monkeypatch.setattr(installer.sys, "platform", "win32")
    monkeypatch.setattr(
        installer.sys, "executable", r"C:\Users\t\AppData\Local\Microsoft\WindowsApps\python.exe"
    )
    for args in (["--dry-run"], ["--doctor"]):
        assert installer.main([*args, "--prefix", str(home / "p")]) == installer.EXIT_FAILURE
    assert not (home / "p").exists()


def test_readme_tells_windows_users_to_run_py_install_py():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "py install.py" in readme


# --- Where Chromium-family browsers keep their folders on Linux ------------------------------


def test_xdg_config_home_moves_chromium_family_folders_not_firefoxs(home: Path, tmp_path: Path):
    config = tmp_path / "elsewhere"
    (config / "google-chrome").mkdir(parents=True)
    environ = {"XDG_CONFIG_HOME": str(config)}
    found, _, _ = installer.detect_browsers(home, nothing_on_path, "linux", environ)
    assert found == ["chrome"]
    targets = installer.registration_targets(
        ["chrome", "brave", "firefox"], home, platform="linux", environ=environ
    )
    assert [t.manifest_path.parent for t in targets] == [
        config / "google-chrome/NativeMessagingHosts",
        config / "BraveSoftware/Brave-Browser/NativeMessagingHosts",
        home / ".mozilla/native-messaging-hosts",
    ]


def test_chrome_config_home_wins_over_xdg_config_home_and_relative_values_are_ignored(
    home: Path, tmp_path: Path
):
    chrome = tmp_path / "chrome-config"
    environ = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "CHROME_CONFIG_HOME": str(chrome)}
    [target] = installer.registration_targets(["chromium"], home, platform="linux", environ=environ)
    assert target.manifest_path == chrome / "chromium/NativeMessagingHosts/etma_helper.json"
    environ = {"XDG_CONFIG_HOME": "relative/config", "CHROME_CONFIG_HOME": "also/relative"}
    [target] = installer.registration_targets(["chromium"], home, platform="linux", environ=environ)
    assert target.manifest_path.parent == home / ".config/chromium/NativeMessagingHosts"


def test_an_install_writes_under_xdg_config_home(home: Path, tmp_path: Path):
    config = tmp_path / "config"
    result = run_installer(
        REPO / "install.py",
        home,
        "--dry-run",
        "--browser",
        "chromium",
    )
    assert str(home / ".config/chromium/NativeMessagingHosts") in result.stdout
    plan = installer.plan_install(
        home / "prefix",
        ["chromium"],
        home=home,
        platform="linux",
        environ={"XDG_CONFIG_HOME": str(config)},
        which=nothing_on_path,
    )
    assert plan.targets[0].manifest_path.is_relative_to(config)


# --- Snap-only Chromium -------------------------------------------------------------------


def test_a_chromium_on_path_that_is_a_snap_is_explained_not_registered(home: Path):
    found, skipped, _ = installer.detect_browsers(
        home,
        which=lambda name: "/snap/bin/chromium" if name == "chromium" else None,
        platform="linux",
        environ={},
    )
    assert "chromium" not in found
    reason = dict(skipped)["chromium"]
    assert "Snap" in reason and "could never start the helper" in reason


def test_ubuntus_chromium_browser_wrapper_script_is_recognised_as_the_snap(tmp_path: Path):
    wrapper = tmp_path / "chromium-browser"
    wrapper.write_text('#!/bin/sh\n# transitional package\nexec /snap/bin/chromium "$@"\n')
    real = tmp_path / "chromium"
    real.write_bytes(b"\x7fELF" + b"\0" * 64)
    assert installer_locations().is_snap_executable(str(wrapper))
    assert not installer_locations().is_snap_executable(str(real))
    found, skipped, _ = installer.detect_browsers(
        tmp_path,
        which=lambda name: str(wrapper) if name == "chromium-browser" else None,
        platform="linux",
        environ={},
    )
    assert "chromium" not in found and "Snap" in dict(skipped)["chromium"]


def installer_locations():
    from etma_helper import locations

    return locations


# --- Firefox forks and browser channels ----------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "folder", "key"),
    [
        ("linux", ".librewolf", "librewolf"),
        ("linux", ".floorp", "floorp"),
        ("linux", ".waterfox", "waterfox"),
        ("linux", ".config/google-chrome-beta", "chrome-beta"),
        ("linux", ".config/google-chrome-unstable", "chrome-dev"),
        ("linux", ".config/microsoft-edge-dev", "edge-dev"),
        ("darwin", "Library/Application Support/Google/Chrome Canary", "chrome-canary"),
        ("darwin", "Library/Application Support/Microsoft Edge Beta", "edge-beta"),
        ("darwin", "Library/Application Support/LibreWolf", "librewolf"),
    ],
)
def test_forks_and_channels_are_found_and_registered_where_they_read(
    home: Path, platform: str, folder: str, key: str
):
    (home / folder).mkdir(parents=True)
    plan = installer.plan_install(
        home / "prefix", None, home=home, platform=platform, environ={}, which=nothing_on_path
    )
    [target] = plan.targets
    assert target.browser == key
    assert target.manifest_path.parent.parent == home / folder or (
        # Firefox forks on Linux read <dot folder>/native-messaging-hosts
        target.manifest_path.parent == home / folder / "native-messaging-hosts"
    )
    family = installer.BROWSERS_BY_KEY[key].family
    manifest = installer.render_host_manifest(family, "/p/etma-helper-host")
    assert ("allowed_extensions" in manifest) == (family == "firefox")


def test_a_fork_on_windows_gets_its_own_key_and_mozillas(home: Path):
    targets = installer.registration_targets(
        ["librewolf"], home, platform="win32", prefix=Path("C:/p")
    )
    assert [t.registry.key for t in targets] == [
        r"Software\LibreWolf\NativeMessagingHosts\etma_helper",
        r"Software\Mozilla\NativeMessagingHosts\etma_helper",
    ]
    assert {t.manifest_path.name for t in targets} == {"etma_helper-firefox.json"}


# --- The command line -----------------------------------------------------------------------


def test_repeated_browser_options_are_all_kept(home: Path):
    result = run_installer(
        REPO / "install.py",
        home,
        "--dry-run",
        "--browser",
        "chromium",
        "--browser",
        "firefox,chromium",
    )
    assert result.returncode == 0, result.stderr
    assert str(home / ".config/chromium/NativeMessagingHosts/etma_helper.json") in result.stdout
    assert str(home / ".mozilla/native-messaging-hosts/etma_helper.json") in result.stdout
    assert result.stdout.count("/etma_helper.json") == 2


def test_printed_commands_survive_a_path_with_spaces_in_sh(home: Path):
    prefix = home / "OneDrive - The Open University" / "etma helper"
    plan = installer.plan_install(prefix, ["firefox"], home=home, platform="linux", environ={})
    text = installer.format_summary(installer.InstallSummary(plan, dry_run=True))
    [uninstall] = [line for line in text.splitlines() if line.startswith("To uninstall:")]
    words = shlex.split(uninstall.removeprefix("To uninstall: "))
    assert words == ["python3", str(REPO / "install.py"), "--uninstall", "--prefix", str(prefix)]


def test_printed_commands_on_windows_use_py_and_double_quotes(tmp_path: Path):
    prefix = Path(r"C:\Users\Zoë Müller\OneDrive - OU\etma helper")
    plan = installer.plan_install(prefix, ["chrome"], home=tmp_path, platform="win32", environ={})
    text = installer.format_summary(installer.InstallSummary(plan, dry_run=True))
    [doctor] = [line for line in text.splitlines() if line.startswith("Check it any time:")]
    assert doctor.endswith(f'--doctor --prefix "{prefix}"')
    assert doctor.startswith("Check it any time: py ")
    assert "'" not in doctor  # cmd.exe does not know single quotes


# --- Folders that are not what they seem, and a second run ---------------------------------


def test_a_dangling_config_link_gives_a_clear_error_and_writes_nothing(home: Path, tmp_path):
    (home / ".config").symlink_to(tmp_path / "moved-away" / ".config")
    before = sorted(home.rglob("*"))
    result = run_installer(
        REPO / "install.py", home, "--browser", "chromium", "--system-site-packages"
    )
    assert result.returncode == 1
    assert "is a link to" in result.stderr and "which does not exist" in result.stderr
    assert "mkdir -p" in result.stderr and "Traceback" not in result.stderr
    assert sorted(home.rglob("*")) == before


def fake_venv(prefix: Path, version: str, home_dir: str, site: bool = False) -> installer.Receipt:
    venv = prefix / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (venv / "bin" / "python").chmod(0o755)
    (venv / "pyvenv.cfg").write_text(
        f"home = {home_dir}\ninclude-system-site-packages = {str(site).lower()}\n"
        f"version = {version}\n"
    )
    receipt = installer.Receipt(prefix)
    receipt.add_tree(venv)
    return receipt


def test_a_venv_made_by_another_python_is_recreated_and_says_so(tmp_path: Path):
    receipt = fake_venv(tmp_path, "3.9.2", "/usr/bin")
    decision, why = installer.venv_plan(
        tmp_path, False, receipt, python=("3.12", Path("/usr/local/bin")), works=lambda p: True
    )
    assert decision == "recreate"
    assert "Python 3.9 in /usr/bin" in why and "Python 3.12 in /usr/local/bin" in why


def test_a_venv_made_by_this_python_is_reused_and_says_so(tmp_path: Path):
    receipt = fake_venv(tmp_path, "3.12.1", "/usr/bin")
    assert installer.venv_plan(
        tmp_path, False, receipt, python=("3.12", Path("/usr/bin")), works=lambda p: True
    ) == ("reuse", "made by Python 3.12 in /usr/bin, as this run")
    decision, why = installer.venv_plan(
        tmp_path, True, receipt, python=("3.12", Path("/usr/bin")), works=lambda p: True
    )
    assert decision == "recreate" and "system's site packages" in why
    decision, _ = installer.venv_plan(
        tmp_path, False, receipt, python=("3.12", Path("/usr/bin")), works=lambda p: False
    )
    assert decision == "recreate"


def test_the_running_python_is_described_as_a_venv_records_it():
    version, folder = installer.this_python()
    assert version == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert (folder / Path(sys._base_executable).name).exists()


# --- Uninstall keeps the tutor's data and removes the helper's own -------------------------


def helper_files(home: Path, environ: dict[str, str]) -> dict[str, Path]:
    data = installer.helper_data(home, environ, "linux")
    data.settings.parent.mkdir(parents=True)
    data.settings.write_text(json.dumps({"download_root": str(home / "Marking")}))
    data.ledger.parent.mkdir(parents=True)
    data.ledger.write_text("ledger")
    data.log_dir.mkdir(parents=True)
    for name in ("helper.log", "helper.log.1"):
        (data.log_dir / name).write_text("log")
    (home / "Marking" / "M250").mkdir(parents=True)
    return {"settings": data.settings, "ledger": data.ledger, "log": data.log_dir}


def test_uninstall_removes_the_helpers_log_and_keeps_and_names_the_tutors_data(home: Path):
    files = helper_files(home, {})
    assert files["log"] == home / ".local/state/etma_helper/log"
    dry = installer.remove_helper_files(home, {}, "linux", dry_run=True)
    assert (files["log"] / "helper.log").exists() and any("Would remove" in x for x in dry)
    actions = installer.remove_helper_files(home, {}, "linux")
    assert not (home / ".local/state/etma_helper").exists()
    assert files["settings"].is_file() and files["ledger"].is_file()
    assert (home / "Marking" / "M250").is_dir()
    text = "\n".join(actions)
    assert f"your settings: {files['settings']}" in text
    assert f"confirmation code): {files['ledger']}" in text
    assert f"your downloaded scripts: {home / 'Marking'}" in text


def test_uninstall_leaves_anything_else_in_the_log_folder(home: Path):
    files = helper_files(home, {})
    (files["log"] / "notes.txt").write_text("mine")
    installer.remove_helper_files(home, {}, "linux")
    assert (files["log"] / "notes.txt").read_text() == "mine"
    assert not (files["log"] / "helper.log").exists()


def test_helper_data_matches_platformdirs_where_the_helper_really_writes(home: Path, monkeypatch):
    """The stdlib copy of platformdirs' answers agrees with platformdirs on Linux and macOS."""
    platformdirs = pytest.importorskip("platformdirs")
    from platformdirs.macos import MacOS
    from platformdirs.unix import Unix

    for platform, dirs in (("linux", Unix("etma_helper")), ("darwin", MacOS("etma_helper"))):
        data = installer.helper_data(home, {}, platform)
        assert data.settings.parent == Path(dirs.user_config_dir), platform
        assert data.ledger.parent == Path(dirs.user_data_dir), platform
        assert data.log_dir == Path(dirs.user_log_dir), platform
    assert platformdirs.user_downloads_dir() == str(home / "Downloads")


def test_browsers_not_on_the_computer_are_summed_up_in_one_line(home: Path):
    plan = installer.plan_install(
        home / "prefix", None, home=home, platform="linux", environ={}, which=nothing_on_path
    )
    text = installer.format_summary(installer.InstallSummary(plan, dry_run=True))
    [line] = [line for line in text.splitlines() if "not found" in line.lower()]
    assert line.startswith("Not found on this computer (so not registered): Chromium, ")
    assert "LibreWolf" in line and "Microsoft Edge Canary" not in line  # not made for Linux


def test_helper_data_on_windows_matches_platformdirs(tmp_path: Path, monkeypatch):
    """platformdirs on Windows puts the helper's files in %LOCALAPPDATA%\\etma_helper\\etma_helper
    (no app author given, so the name twice): inside the default prefix."""
    windows = pytest.importorskip("platformdirs.windows")
    local = str(tmp_path / "Local")
    monkeypatch.setattr(windows, "get_win_folder", lambda name: local)
    dirs = windows.Windows("etma_helper")
    data = installer.helper_data(tmp_path, {"LOCALAPPDATA": local}, "win32")
    assert data.settings.parent == Path(dirs.user_config_dir)
    assert data.ledger.parent == Path(dirs.user_data_dir)
    assert data.log_dir == Path(dirs.user_log_dir)
