#!/usr/bin/env python3
"""Install the eTMA Helper and register it with the browsers on this machine.

Usage (from the repository folder):

    python3 install.py                      # install for you, register with the browsers found
                                            # (on Windows: py install.py)
    python3 install.py --browser chromium,firefox   # or --browser chromium --browser firefox
    python3 install.py --dry-run            # print every file and registry key it would write
    python3 install.py --uninstall          # remove exactly what the install wrote
    python3 install.py --doctor             # check every registration and talk to the helper
    sudo python3 install.py --system        # for every user of this machine (Linux, macOS);
                                            # on Windows, from an administrator prompt (HKLM)

The installer creates a virtual environment in the install prefix, installs the `etma_helper`
package into it (a real copy, so the install survives the clone moving), writes a launcher that
names the venv's Python exactly (a shell script with its absolute path, or on Windows a pure-ASCII
.cmd naming it from its own folder) so the browser finds the right Python whatever its PATH,
and registers one native-messaging host manifest per browser: a file in each folder that
browser reads on Linux and macOS, a registry key naming a manifest file in the prefix on
Windows. Everything it creates - files, folders, registry keys - is listed in a receipt
in the prefix; `--uninstall` removes those and nothing else, and `--doctor` checks them. The
receipt is only a file, so uninstall trusts it only as far as it can check: it removes nothing
outside the prefix but host manifests (and registry keys) that still lead to its own launcher.

Where each browser looks, and how the browsers on a machine are found, is in
host/etma_helper/locations.py (`BROWSERS`), shared with the doctor.

Standard library only, because it runs before anything is installed. That is also why it does
not use nativemessaging-ng's `install()`: besides not being importable yet, it computes its
paths from $HOME once at import, writes only the default profile folders (Chromium started with
`--user-data-dir` never reads them), fails when `~/.config` is missing, and has no dry run,
receipt, uninstall, system-wide scope, Flatpak/Snap handling or health check. It covers no case
this installer needs that the table below does not already, so there is nothing left to reuse.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

REPO = Path(__file__).resolve().parent
# Who the helper is and where an install lives come from the helper's own modules, imported from
# this clone: standard library only (tests/unit/test_install.py checks it), and the doctor uses
# the same ones, so the installer and the doctor cannot disagree about where things are.
if str(REPO / "host") not in sys.path:
    sys.path.insert(0, str(REPO / "host"))
from etma_helper.identity import HOST_NAME  # noqa: E402
from etma_helper.locations import (  # noqa: E402
    BROWSERS,
    BROWSERS_BY_KEY,
    PLATFORMS,
    RECEIPT_NAME,
    SYSTEM,
    USER,
    VENV_DIR_NAME,
    Browser,
    current_platform,
    default_prefix,
    detect_browsers,
    helper_data,
    installer_command,
    launcher_path,
    launcher_text,
    shell_word,
    supported,
    system_manifest_dirs,
    user_manifest_dirs,
    venv_python,
)

PATH_PLACEHOLDER = "@LAUNCHER_PATH@"
MANIFEST_TEMPLATES = {
    "chromium": "chromium-host.json",
    "firefox": "firefox-host.json",
}

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


PLATFORM_NAMES = {"linux": "Linux", "darwin": "macOS", "win32": "Windows"}


class InstallError(Exception):
    """An expected failure; its message is a sentence that tells the user what to do."""


def refuse_store_python(executable: str, platform: str) -> None:
    """Refuse the Microsoft Store's Python: it runs in a package sandbox whose writes under
    AppData go to a private copy, so the registry would name a manifest no browser can find
    ("Specified native messaging host not found") while the doctor, in the same sandbox, saw it."""
    if platform != "win32":
        return
    if "windowsapps" in (part.lower() for part in PureWindowsPath(executable).parts):
        raise InstallError(
            f"This is the Microsoft Store's Python ({executable}). Browsers cannot see the files "
            "it writes in your AppData folder, so they could never start the helper. Install "
            "Python from https://www.python.org/downloads/windows/ (it comes with the py "
            "command), then run the installer with it: py install.py"
        )


def refuse_dangling_link(path: Path) -> None:
    """Refuse to create a folder where a symbolic link to something missing stands (a moved
    ~/.config, say): mkdir would fail with a bare "File exists"."""
    if path.is_symlink() and not path.exists():
        target = os.readlink(path)
        raise InstallError(
            f"{path} is a link to {target}, which does not exist, so nothing can be created in "
            f"it. Create the folder it points to (mkdir -p {shell_word(target, 'linux')}) or "
            "remove the link, then run the installer again."
        )


def check_places(plan: Plan) -> None:
    """Before writing anything: every folder the plan writes in can be made (no dangling link
    on the way to it)."""
    for place in (plan.prefix, *(t.manifest_path.parent for t in plan.targets)):
        for folder in (place, *place.parents):
            if folder.exists():
                break
            refuse_dangling_link(folder)


@dataclass(frozen=True)
class RegistryEntry:
    """A Windows registry key whose default value names a host manifest file."""

    hive: str  # "HKCU" or "HKLM"
    key: str

    def __str__(self) -> str:
        return f"{self.hive}\\{self.key}"


@dataclass(frozen=True)
class Target:
    """One host manifest to write: for which browser (or custom profile), and how it is found.

    On Linux and macOS the manifest file itself is in the browser's folder; on Windows it lives
    in the prefix and `registry` names the key that points at it.
    """

    label: str
    browser: str
    family: str
    manifest_path: Path
    registry: RegistryEntry | None = None


@dataclass
class Plan:
    """Everything an install would write, worked out without touching anything."""

    prefix: Path
    platform: str
    scope: str
    launcher: Path
    venv_python: Path
    targets: list[Target]
    skipped: list[tuple[str, str]]
    notes: list[str]


# --- Paths ---------------------------------------------------------------------------------


def windows_manifest_path(prefix: Path, family: str) -> Path:
    """On Windows the manifests live in the prefix, one per family, named by registry keys."""
    return prefix / f"{HOST_NAME}-{family}.json"


# --- Browsers and manifests ----------------------------------------------------------------


def render_host_manifest(
    browser_family: str, launcher: Path | str, templates: Path = REPO / "manifest"
) -> dict:
    """Fill the host manifest template of `browser_family` with the absolute launcher path."""
    if browser_family not in MANIFEST_TEMPLATES:
        raise ValueError(f"unknown browser family {browser_family!r}")
    if not (os.path.isabs(launcher) or PureWindowsPath(launcher).is_absolute()):
        # Chromium refuses a relative path, even one valid relative to the manifest.
        raise ValueError(f"the launcher path must be absolute, not {launcher!r}")
    manifest = json.loads((templates / MANIFEST_TEMPLATES[browser_family]).read_text("utf-8"))
    if manifest.get("path") != PATH_PLACEHOLDER:
        raise ValueError(f"template for {browser_family} has no {PATH_PLACEHOLDER} path")
    manifest["path"] = str(launcher)
    return manifest


def registration_targets(
    browsers: Iterable[str],
    home: Path,
    chromium_profiles: Iterable[Path | str] = (),
    platform: str | None = None,
    scope: str = USER,
    prefix: Path | None = None,
    is_dir: Callable[[str], bool] = os.path.isdir,
    environ: Mapping[str, str] | None = None,
) -> list[Target]:
    """Where to register the helper for each browser key and each custom Chromium profile.

    Every folder (or registry key) a browser reads is written, each once: Brave on macOS gets
    Chrome's folder as well as its own, and when Chrome is registered too the shared folder is
    Chrome's. A Chromium started with `--user-data-dir=DIR` reads host manifests only from
    `DIR/NativeMessagingHosts/`, not from the default profile's folder. On Windows, `prefix`
    says where the manifest files go.
    """
    platform = platform or current_platform()
    environ = os.environ if environ is None else environ
    targets: list[Target] = []
    seen: set[object] = set()
    filename = f"{HOST_NAME}.json"

    def add(browser: Browser, manifest: Path, registry: RegistryEntry | None, where: str) -> None:
        place = registry or manifest
        if place in seen:
            return
        first = not any(t.browser == browser.key for t in targets)
        label = browser.name if first else f"{browser.name} ({where})"
        seen.add(place)
        targets.append(Target(label, browser.key, browser.family, manifest, registry))

    for key in browsers:
        browser = BROWSERS_BY_KEY[key]
        if not supported(browser, platform):
            continue
        if platform == "win32":
            if prefix is None:
                raise ValueError("on Windows the manifests live in the prefix; pass prefix=")
            hive = "HKLM" if scope == SYSTEM else "HKCU"
            for registry_key in browser.registry_keys:
                entry = RegistryEntry(hive, f"{registry_key}\\{HOST_NAME}")
                add(browser, windows_manifest_path(prefix, browser.family), entry, str(entry))
        else:
            if scope == SYSTEM:
                folders = system_manifest_dirs(browser, platform, is_dir)
            else:
                folders = user_manifest_dirs(browser, home, platform, environ)
            for folder in folders:
                add(browser, folder / filename, None, str(folder))
    for profile in chromium_profiles:
        profile = Path(profile).expanduser().resolve()
        targets.append(
            Target(
                f"Chromium profile {profile}",
                "chromium-profile",
                "chromium",
                profile / "NativeMessagingHosts" / filename,
            )
        )
    return targets


def plan_install(
    prefix: Path,
    browsers: Sequence[str] | None = None,
    chromium_profiles: Sequence[Path | str] = (),
    home: Path | None = None,
    platform: str | None = None,
    scope: str = USER,
    environ: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] = shutil.which,
    is_dir: Callable[[str], bool] = os.path.isdir,
) -> Plan:
    """Work out what an install would write: the browsers to register and where.

    Without `browsers`, every browser found; with them, exactly those named, found or not (the
    user may install the browser later, or start it from somewhere PATH does not show), except
    one not made for this system or with no folder for the chosen scope (said, with why).
    """
    home = Path.home() if home is None else home
    platform = platform or current_platform()
    environ = os.environ if environ is None else environ
    found, skipped, notes = detect_browsers(home, which, platform, environ)
    if browsers is None:
        keys = found
    else:
        keys = list(browsers)
        skipped = [(key, reason) for key, reason in skipped if key not in keys]
        skipped += [(key, "not in --browser") for key in found if key not in keys]
    targets = registration_targets(
        keys, home, chromium_profiles, platform, scope, prefix, is_dir=is_dir, environ=environ
    )
    for key in keys:
        if any(t.browser == key for t in targets):
            continue
        browser = BROWSERS_BY_KEY[key]
        if not supported(browser, platform):
            reason = f"{browser.name} is not made for {PLATFORM_NAMES[platform]}"
        elif scope == SYSTEM:
            reason = (
                f"{browser.name} has no folder for every user of the machine; install for "
                "each user instead (without --system)"
            )
        else:  # its folders are those of a browser registered above
            continue
        skipped.append((key, reason))
    return Plan(
        prefix,
        platform,
        scope,
        launcher_path(prefix, platform),
        venv_python(prefix, platform),
        targets,
        skipped,
        notes,
    )


# --- The receipt ---------------------------------------------------------------------------


@dataclass
class Receipt:
    """What this installer created under one prefix, so uninstall removes exactly that.

    `dirs` are folders it created (removed only if empty, deepest first), `files` are files it
    wrote, `trees` are folders it owns wholesale (the virtual environment), `registry` the keys
    it set (with the value, so a key a later install re-pointed is left alone) and
    `registry_parents` the keys it had to create above them. `registrations`, `launcher`,
    `python` and `repo` are for the doctor.
    """

    prefix: Path
    files: list[str] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)
    trees: list[str] = field(default_factory=list)
    registry: list[dict] = field(default_factory=list)
    registry_parents: list[dict] = field(default_factory=list)
    registrations: list[dict] = field(default_factory=list)
    skipped: list[list[str]] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    @property
    def path(self) -> Path:
        """Where the receipt lives."""
        return self.prefix / RECEIPT_NAME

    @classmethod
    def load(cls, prefix: Path) -> Receipt | None:
        """Read the receipt in `prefix`, or return None when there is none."""
        path = prefix / RECEIPT_NAME
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                prefix,
                list(data["files"]),
                list(data["dirs"]),
                list(data["trees"]),
                list(data.get("registry", [])),
                list(data.get("registry_parents", [])),
                list(data.get("registrations", [])),
                list(data.get("skipped", [])),
                {
                    k: data[k]
                    for k in ("launcher", "python", "repo", "platform", "scope")
                    if k in data
                },
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise InstallError(
                f"The install receipt {path} is unreadable ({error}); remove the helper's files "
                "by hand or reinstall with the same --prefix."
            ) from error

    def save(self) -> None:
        """Write the receipt (the prefix exists once anything was created)."""
        data = {
            "host": HOST_NAME,
            **self.details,
            "registrations": self.registrations,
            "skipped": self.skipped,
            "files": self.files,
            "dirs": self.dirs,
            "trees": self.trees,
            "registry": self.registry,
            "registry_parents": self.registry_parents,
        }
        self.path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

    def make_dirs(self, path: Path) -> None:
        """Create `path` and any missing parents, recording each folder created."""
        missing = []
        for candidate in (path, *path.parents):
            if candidate.exists():
                break
            refuse_dangling_link(candidate)
            missing.append(candidate)
        for folder in reversed(missing):
            folder.mkdir()
            self._add(self.dirs, str(folder))

    def add_file(self, path: Path) -> None:
        """Record a file this installer wrote."""
        self._add(self.files, str(path))

    def add_tree(self, path: Path) -> None:
        """Record a folder this installer owns with everything in it."""
        self._add(self.trees, str(path))

    def owns_tree(self, path: Path) -> bool:
        """Whether `path` is a folder this installer created earlier."""
        return str(path) in self.trees

    @staticmethod
    def _add(entries: list, item) -> None:
        if item not in entries:
            entries.append(item)


# --- The Windows registry ------------------------------------------------------------------


class Registry:
    """The few registry operations the installer needs, over `winreg` or a stand-in for tests."""

    def __init__(self, winreg=None) -> None:
        if winreg is None:
            import winreg  # noqa: PLC0415 - only on Windows
        self.winreg = winreg

    def _hive(self, name: str):
        return {"HKCU": self.winreg.HKEY_CURRENT_USER, "HKLM": self.winreg.HKEY_LOCAL_MACHINE}[name]

    def exists(self, hive: str, key: str) -> bool:
        """Whether the key exists."""
        try:
            self.winreg.CloseKey(self.winreg.OpenKey(self._hive(hive), key))
            return True
        except OSError:
            return False

    def get_default(self, hive: str, key: str) -> str | None:
        """The key's default value, or None when the key or value is missing."""
        try:
            handle = self.winreg.OpenKey(self._hive(hive), key)
        except OSError:
            return None
        try:
            return self.winreg.QueryValueEx(handle, "")[0]
        except OSError:
            return None
        finally:
            self.winreg.CloseKey(handle)

    def missing_keys(self, hive: str, key: str) -> list[str]:
        """`key` and those of its parents that do not exist yet, outermost first."""
        parts = key.split("\\")
        created = []
        for depth in range(1, len(parts) + 1):
            partial = "\\".join(parts[:depth])
            if not self.exists(hive, partial):
                created.append(partial)
        return created

    def write(self, hive: str, key: str, value: str) -> None:
        """Set the key's default value (a REG_SZ), creating the key."""
        handle = self.winreg.CreateKeyEx(self._hive(hive), key, 0, self.winreg.KEY_WRITE)
        try:
            self.winreg.SetValueEx(handle, "", 0, self.winreg.REG_SZ, value)
        finally:
            self.winreg.CloseKey(handle)

    def is_empty(self, hive: str, key: str) -> bool:
        """Whether the key has no subkeys and no values."""
        try:
            handle = self.winreg.OpenKey(self._hive(hive), key)
        except OSError:
            return False
        try:
            subkeys, values, _ = self.winreg.QueryInfoKey(handle)
            return subkeys == 0 and values == 0
        finally:
            self.winreg.CloseKey(handle)

    def delete(self, hive: str, key: str) -> None:
        """Delete a key that has no subkeys."""
        self.winreg.DeleteKey(self._hive(hive), key)


# --- Steps ---------------------------------------------------------------------------------


def run_quietly(command: Sequence[str | Path], failure: str) -> str:
    """Run a command, returning its output; on failure raise `failure` with the output's tail."""
    try:
        result = subprocess.run(
            [str(part) for part in command],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
    except OSError as error:
        raise InstallError(f"{failure} ({error}).") from error
    if result.returncode != 0:
        tail = "\n".join(result.stdout.strip().splitlines()[-15:])
        raise InstallError(f"{failure}\n--- the last lines it printed ---\n{tail}")
    return result.stdout


def read_venv_config(prefix: Path) -> dict[str, str]:
    """The `key = value` lines of the venv's pyvenv.cfg (empty when there is none)."""
    try:
        text = (prefix / VENV_DIR_NAME / "pyvenv.cfg").read_text(encoding="utf-8")
    except (OSError, ValueError):
        return {}
    pairs = (line.partition("=") for line in text.splitlines())
    return {key.strip(): value.strip() for key, sep, value in pairs if sep}


def this_python() -> tuple[str, Path]:
    """The version (major.minor) and folder of the Python running the installer, as a venv it
    makes records them (`version`, `home`): the base interpreter's, even when run from a venv."""
    base = Path(getattr(sys, "_base_executable", "") or sys.executable)
    return f"{sys.version_info[0]}.{sys.version_info[1]}", base.parent


def venv_plan(
    prefix: Path,
    system_site_packages: bool,
    receipt: Receipt,
    python: tuple[str, Path] | None = None,
    works: Callable[[Path], bool] | None = None,
) -> tuple[str, str]:
    """Whether to "create", "reuse" or "recreate" the venv in `prefix`, and why, in words.

    An existing venv of this installer's is reused only when it works, has the requested site
    setting and was made by the same Python (version and folder) as the one running now: a venv
    keeps using the interpreter that made it, so a second run with another Python recreates it.
    """
    version, home = python or this_python()
    venv_dir = prefix / VENV_DIR_NAME
    if not receipt.owns_tree(venv_dir) or not venv_dir.exists():
        return "create", ""
    config = read_venv_config(prefix)
    made = config.get("version_info") or config.get("version", "")
    made_version = ".".join(made.split(".")[:2])
    made_home = config.get("home", "")
    made_by = f"Python {made_version or 'unknown'} in {made_home or 'an unknown folder'}"
    now = f"Python {version} in {home}"
    if made_version != version or not made_home or not _same_folder(Path(made_home), home):
        return "recreate", f"it was made by {made_by}; this installer runs {now}"
    wanted = str(system_site_packages).lower()
    if config.get("include-system-site-packages") != wanted:
        with_or_without = "with" if system_site_packages else "without"
        return "recreate", f"it is to be {with_or_without} the system's site packages now"
    works = works or _venv_has_pip
    if not venv_python(prefix).exists() or not works(prefix):
        return "recreate", "it is broken (its Python or pip does not start)"
    return "reuse", f"made by {now}, as this run"


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a == b or a.resolve() == b.resolve()
    except OSError:
        return False


def _venv_has_pip(prefix: Path) -> bool:
    probe = subprocess.run(
        [str(venv_python(prefix)), "-c", "import pip"], capture_output=True, timeout=120
    )
    return probe.returncode == 0


def create_venv(prefix: Path, system_site_packages: bool, receipt: Receipt) -> None:
    """Create, reuse or recreate the virtual environment in the prefix (see venv_plan), saying
    truthfully which."""
    venv_dir = prefix / VENV_DIR_NAME
    if venv_dir.exists() and not receipt.owns_tree(venv_dir):
        raise InstallError(
            f"{venv_dir} already exists and was not created by this installer; "
            "choose another --prefix or remove it."
        )
    decision, why = venv_plan(prefix, system_site_packages, receipt)
    if decision == "reuse":
        print(f"Reusing the virtual environment in {venv_dir} ({why}) ...", flush=True)
        return
    if decision == "recreate":
        print(f"Recreating the virtual environment in {venv_dir}: {why} ...", flush=True)
    else:
        print(f"Creating the virtual environment in {venv_dir} ...", flush=True)
    command = [sys.executable, "-m", "venv", "--clear"]
    if system_site_packages:
        command.append("--system-site-packages")
    receipt.add_tree(venv_dir)
    run_quietly(
        [*command, venv_dir],
        f"Could not create a virtual environment in {venv_dir}. On Debian or Ubuntu, install "
        f"the venv module with `sudo apt install python3-venv` (or python3.{sys.version_info[1]}"
        "-venv) and run the installer again.",
    )


def copy_project_source(repo: Path, destination: Path) -> Path:
    """Copy what the package build needs, so building never writes into the user's clone."""
    source = destination / "source"
    source.mkdir()
    for entry in repo.iterdir():
        if entry.is_file():
            shutil.copy2(entry, source / entry.name)
    shutil.copytree(
        repo / "host",
        source / "host",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build"),
    )
    return source


def install_package(repo: Path, prefix: Path, system_site_packages: bool) -> str:
    """Install the project into the virtual environment; return how it was installed.

    With system site packages, first try an offline install with no build isolation: pip then
    checks the dependencies against what is already installed and downloads nothing. When that
    is not possible (a dependency or the build backend is missing), fall back to a normal
    install, which fetches only what is missing.
    """
    if not (repo / "pyproject.toml").is_file() or not (repo / "host").is_dir():
        raise InstallError(
            f"{repo} is not the eTMA Helper repository (no pyproject.toml and "
            "host/); run install.py from a complete clone."
        )
    pip = [venv_python(prefix), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    failure = (
        f"pip could not install the helper into {prefix / VENV_DIR_NAME}. Check the "
        "network connection (or your pip index settings) and that the clone is complete, "
        "then run the installer again."
    )
    with tempfile.TemporaryDirectory(prefix="etma-helper-build-") as scratch:
        source = copy_project_source(repo, Path(scratch))
        if system_site_packages:
            try:
                run_quietly([*pip, "--no-index", "--no-build-isolation", source], failure)
                return "offline, using the packages already installed on this system"
            except InstallError:
                pass
        run_quietly([*pip, source], failure)
    return "with pip"


def write_launcher(plan: Plan, receipt: Receipt) -> Path:
    """Write the launcher that starts the native host with the venv's python (see
    locations.launcher_text: the Windows one is pure ASCII whatever the user's name)."""
    text = launcher_text(plan.venv_python, plan.platform)
    plan.launcher.write_bytes(text.encode("ascii" if plan.platform == "win32" else "utf-8"))
    plan.launcher.chmod(0o755)
    receipt.add_file(plan.launcher)
    return plan.launcher


def write_manifest(target: Target, launcher: Path, receipt: Receipt) -> None:
    """Write one host manifest file, creating (and recording) any missing folders."""
    receipt.make_dirs(target.manifest_path.parent)
    manifest = render_host_manifest(target.family, launcher)
    # The manifest is readable by everyone: a system-wide one is read by every user's browser.
    target.manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    target.manifest_path.chmod(0o644)
    receipt.add_file(target.manifest_path)


def write_registry(target: Target, registry: Registry, receipt: Receipt) -> None:
    """Point the browser's registry key at the manifest file in the prefix."""
    entry = target.registry
    assert entry is not None
    for created in registry.missing_keys(entry.hive, entry.key)[:-1]:
        receipt._add(receipt.registry_parents, {"hive": entry.hive, "key": created})
    registry.write(entry.hive, entry.key, str(target.manifest_path))
    receipt._add(
        receipt.registry,
        {"hive": entry.hive, "key": entry.key, "value": str(target.manifest_path)},
    )


# --- Install and uninstall -----------------------------------------------------------------


@dataclass
class InstallSummary:
    """What an install did (or, in a dry run, would do)."""

    plan: Plan
    package_install: str = ""
    dry_run: bool = False

    @property
    def prefix(self) -> Path:
        return self.plan.prefix

    @property
    def launcher(self) -> Path:
        return self.plan.launcher

    @property
    def registered(self) -> list[Target]:
        return self.plan.targets

    @property
    def skipped(self) -> list[tuple[str, str]]:
        return self.plan.skipped


def install(
    prefix: Path,
    browsers: Sequence[str] | None = None,
    chromium_profiles: Sequence[Path | str] = (),
    system_site_packages: bool = False,
    dry_run: bool = False,
    home: Path | None = None,
    repo: Path = REPO,
    scope: str = USER,
    registry: Registry | None = None,
) -> InstallSummary:
    """Install the helper into `prefix` and register it; safe to run again.

    `browsers` are keys of BROWSERS (None: every browser found). Raises InstallError.
    """
    prefix = Path(prefix).expanduser().resolve()
    plan = plan_install(prefix, browsers, chromium_profiles, home=home, scope=scope)
    summary = InstallSummary(plan, dry_run=dry_run)
    refuse_store_python(sys.executable, plan.platform)
    if plan.platform != "win32":
        check_places(plan)
    if dry_run:
        return summary
    if scope == SYSTEM and plan.platform != "win32" and os.geteuid() != 0:
        raise InstallError(
            "A system-wide install writes to folders only the administrator may change; run it "
            "with sudo (sudo python3 install.py --system), or drop --system to install for you."
        )
    if plan.platform == "win32" and registry is None:
        registry = Registry()
    receipt = Receipt.load(prefix) or Receipt(prefix)
    receipt.details = {
        "launcher": str(plan.launcher),
        "python": str(plan.venv_python),
        "repo": str(repo),
        "platform": plan.platform,
        "scope": scope,
    }
    try:
        receipt.make_dirs(prefix)
        create_venv(prefix, system_site_packages, receipt)
        receipt.save()
        print("Installing the helper into it (this can take a minute) ...", flush=True)
        summary.package_install = install_package(repo, prefix, system_site_packages)
        write_launcher(plan, receipt)
        for target in plan.targets:
            write_manifest(target, plan.launcher, receipt)
            if target.registry is not None:
                write_registry(target, registry, receipt)
            registration = {
                "label": target.label,
                "browser": target.browser,
                "family": target.family,
                "manifest": str(target.manifest_path),
                "registry": str(target.registry) if target.registry else None,
            }
            receipt._add(receipt.registrations, registration)
        receipt.skipped = [list(pair) for pair in plan.skipped]
    except PermissionError as error:
        raise InstallError(
            f"Not allowed to write {error.filename or 'the registry'}. "
            + (
                "Run the installer from an administrator prompt for --system."
                if plan.platform == "win32"
                else "Check that you may write there, or choose another --prefix."
            )
        ) from error
    except OSError as error:
        raise InstallError(
            f"Could not write {error.filename}: {error.strerror}. Check that "
            "you may write there, or choose another --prefix."
        ) from error
    finally:
        if prefix.is_dir():
            receipt.save()
    return summary


NOT_OURS = "not part of this install"
# Every host manifest this installer writes outside the prefix is called etma_helper.json and
# lies in one of these folders (see BROWSERS and registration_targets).
MANIFEST_FOLDER_NAMES = ("NativeMessagingHosts", "native-messaging-hosts")
HOST_REGISTRY_KEYS = frozenset(
    f"{key}\\{HOST_NAME}" for browser in BROWSERS for key in browser.registry_keys
)
MAX_MANIFEST_BYTES = 64 * 1024


def _real(path: Path) -> Path:
    """`path` with its folders resolved (symbolic links, `..`) but not its last part, so a link
    stays the link: removing it removes the link, never what it points at."""
    return path.parent.resolve() / path.name


def _receipt_path(entry: object) -> Path | None:
    """A path named in a receipt, its folders resolved; None when it is no absolute path."""
    if not isinstance(entry, str) or not entry:
        return None
    path = Path(entry)
    if not path.is_absolute() or path.name in ("", ".", ".."):
        return None
    return _real(path)


def _manifest_launcher(path: Path) -> str | None:
    """The launcher a host manifest of this helper at `path` names; None when `path` is not one
    (missing, a link, too big, not JSON, or another host's)."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_MANIFEST_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("name") != HOST_NAME:
        return None
    launcher = data.get("path")
    return launcher if isinstance(launcher, str) else None


@dataclass
class _Owned:
    """What uninstalling `prefix` may remove, whatever its receipt says: files inside the
    prefix, and host manifests (files or registry keys) that still lead to its own launcher."""

    prefix: Path  # resolved

    def inside(self, path: Path) -> bool:
        """Whether `path` (folders resolved) is in the prefix, the prefix itself excluded."""
        return path != self.prefix and path.is_relative_to(self.prefix)

    def is_own_launcher(self, launcher: str) -> bool:
        own = {launcher_path(self.prefix, platform) for platform in PLATFORMS}
        path = _receipt_path(launcher)
        return path is not None and path in own

    def file(self, entry: object) -> tuple[Path | None, str | None]:
        """(path, None) when the receipt's file entry is this install's to remove, else
        (path or None, why it is left)."""
        path = _receipt_path(entry)
        if path is None:
            return None, "not an absolute path"
        if self.inside(path):
            return path, None
        launcher = _manifest_launcher(path)
        if launcher is not None and self.is_own_launcher(launcher):
            return path, None
        if launcher is not None:
            return path, f"it now names {launcher}"
        return path, f"outside {self.prefix} and not a host manifest naming its launcher"

    def registry_value(self, value: object) -> bool:
        """Whether a registry key's value names a manifest file in the prefix."""
        path = _receipt_path(value)
        return path is not None and self.inside(path)


def _registry_entry(entry: object, keys: Callable[[str], bool]) -> tuple[str, str] | None:
    """(hive, key) of a receipt's registry entry, when it is a key `keys` accepts."""
    if not isinstance(entry, dict):
        return None
    hive, key = entry.get("hive"), entry.get("key")
    if hive not in ("HKCU", "HKLM") or not isinstance(key, str) or not keys(key):
        return None
    return hive, key


def _left(what: object, why: str | None = None) -> str:
    return f"Left {what}: {NOT_OURS}" + (f" ({why})" if why else "")


def _registry_label(entry: object) -> str:
    if isinstance(entry, dict) and isinstance(entry.get("key"), str):
        return f"registry key {entry.get('hive')}\\{entry['key']}"
    return f"registry entry {entry!r}"


def uninstall(prefix: Path, dry_run: bool = False, registry: Registry | None = None) -> list[str]:
    """Remove what the install into `prefix` created; return one line per action.

    The receipt says what the install created, but it is only a file anyone with access to the
    prefix can edit, so every entry is checked against what this install can own: files and
    folder trees inside the prefix (folders resolved, so a symbolic link in the prefix is
    removed as a link and never leads outside), host manifest files elsewhere only while they
    still name this prefix's launcher (so uninstalling one prefix leaves a manifest a second
    install re-pointed), and on Windows the helper's own registry keys only while they name a
    manifest in the prefix. Anything else in the receipt is left and reported ("Left ...: not
    part of this install"). Folders it created go only when empty, and only inside the prefix,
    above it, or above a host manifest's place; the prefix goes last, when empty. Raises
    InstallError when there is no receipt.
    """
    prefix = Path(prefix).expanduser().resolve()
    receipt = Receipt.load(prefix)
    if receipt is None:
        raise InstallError(
            f"No eTMA Helper installation was found in {prefix} (no "
            f"{RECEIPT_NAME}); pass the --prefix you installed with."
        )
    owned = _Owned(prefix)
    verb = "Would remove" if dry_run else "Removed"
    actions = []

    def host_key(key: str) -> bool:
        return key in HOST_REGISTRY_KEYS

    def above_host_key(key: str) -> bool:
        return any(own.startswith(key + "\\") for own in HOST_REGISTRY_KEYS)

    if (receipt.registry or receipt.registry_parents) and registry is None:
        try:
            registry = Registry()
        except ImportError:  # a receipt naming registry keys, read on Linux or macOS
            registry = None
    for entry in receipt.registry:
        found = _registry_entry(entry, host_key)
        if found is None or registry is None:
            actions.append(_left(_registry_label(entry)))
            continue
        hive, key = found
        current = registry.get_default(hive, key)
        if current is not None and owned.registry_value(current):
            if not dry_run:
                registry.delete(hive, key)
            actions.append(f"{verb} registry key {hive}\\{key}")
        elif current is not None:
            actions.append(_left(f"registry key {hive}\\{key}", f"it now names {current}"))
    parents = []
    for entry in receipt.registry_parents:
        found = _registry_entry(entry, above_host_key)
        if found is None or registry is None:
            actions.append(_left(_registry_label(entry)))
        else:
            parents.append(found)
    for hive, key in sorted(set(parents), key=lambda found: -found[1].count("\\")):
        if dry_run:
            actions.append(f"Would remove registry key {hive}\\{key} if empty")
        elif registry.is_empty(hive, key):
            registry.delete(hive, key)
            actions.append(f"Removed empty registry key {hive}\\{key}")

    for entry in receipt.trees:
        tree = _receipt_path(entry)
        if tree is None or not owned.inside(tree):
            actions.append(_left(tree or repr(entry)))
        elif tree.is_symlink():
            if not dry_run:
                tree.unlink()
            actions.append(f"{verb} {tree} (a link; what it points at is left)")
        elif tree.is_dir():
            if not dry_run:
                shutil.rmtree(tree)
            actions.append(f"{verb} {tree}")
    manifest_places = []
    for entry in receipt.files:
        file, why = owned.file(entry)
        if file is not None and file.name == f"{HOST_NAME}.json":
            if file.parent.name in MANIFEST_FOLDER_NAMES:
                manifest_places.append(file)
        if file is None or why is not None:
            if file is None or file.exists() or file.is_symlink():
                actions.append(_left(file or repr(entry), why))
        elif file.is_symlink() or file.is_file():
            if not dry_run:
                file.unlink()
            actions.append(f"{verb} {file}")
    if not dry_run:
        receipt.path.unlink(missing_ok=True)
    actions.append(f"{verb} {receipt.path}")

    # Folders the install created: inside the prefix, above it, or above a manifest's place.
    allowed = {prefix, *prefix.parents}
    for place in manifest_places:
        allowed.update(place.parents)
    folders = {prefix}
    for entry in receipt.dirs:
        folder = _receipt_path(entry)
        if folder is not None and (owned.inside(folder) or folder in allowed):
            folders.add(folder)
        else:
            actions.append(_left(folder or repr(entry)))
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        if dry_run:
            actions.append(f"Would remove {folder} if empty")
        elif folder.is_symlink():
            actions.append(_left(folder, "a link"))
        elif folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            actions.append(f"Removed empty folder {folder}")
        elif folder.is_dir():
            actions.append(f"Kept {folder} (it holds other files)")
    return actions


def remove_helper_files(
    home: Path,
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    dry_run: bool = False,
) -> list[str]:
    """Remove what the helper wrote for itself for this user (its log), keep the tutor's data
    (settings, ledger, downloads) and say what was kept and where; one line per action.

    Only the helper's own log files go (helper.log and its rotated copies), then their folders
    when empty: anything else found there is the user's and stays.
    """
    data = helper_data(home, environ, platform)
    verb = "Would remove" if dry_run else "Removed"
    actions = []
    if data.log_dir.is_dir() and not data.log_dir.is_symlink():
        for log in sorted(data.log_dir.glob("helper.log*")):
            if log.is_file() and not log.is_symlink():
                if not dry_run:
                    log.unlink()
                actions.append(f"{verb} the helper's log {log}")
        for folder in (data.log_dir, data.log_dir.parent):
            if folder.name not in ("log", "Logs", HOST_NAME) or dry_run:
                break
            if folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
                folder.rmdir()
                actions.append(f"Removed empty folder {folder}")
    kept = [
        ("your settings", data.settings),
        ("your ledger (what was downloaded, and each confirmation code)", data.ledger),
        ("your downloaded scripts", data.downloads),
    ]
    lines = [f"  {what}: {path}" for what, path in kept if path.exists()]
    if lines:
        actions.append("Kept your data (remove it yourself if you no longer need it):")
        actions += lines
    return actions


# --- The doctor ----------------------------------------------------------------------------


def load_doctor():
    """The doctor (host/etma_helper/doctor.py), imported from this clone: it and what it imports
    need only the standard library, so it runs even when the helper's venv is broken."""
    try:
        from etma_helper import doctor
    except ImportError as error:
        raise InstallError(
            f"the helper's doctor cannot be loaded from {REPO / 'host'} ({error}); run "
            "install.py from a complete clone."
        ) from error
    return doctor


# --- Command line --------------------------------------------------------------------------


def format_summary(summary: InstallSummary, repo: Path = REPO) -> str:
    """The message shown after an install: every path and key, and what to do next."""
    plan = summary.plan
    would = "would be " if summary.dry_run else ""
    lines = ["Dry run: nothing was written." if summary.dry_run else "eTMA Helper is installed."]
    lines.append(f"  Helper {would}in:      {plan.prefix}")
    lines.append(f"  Launcher {would}at:    {plan.launcher}")
    if summary.package_install:
        lines.append(f"  Package installed {summary.package_install}.")
    if summary.dry_run:
        lines.append(
            f"  It would create a virtual environment in {plan.prefix / VENV_DIR_NAME}"
            f" and pip install {repo} into it,"
        )
        lines.append(f"  and record what it writes in {plan.prefix / RECEIPT_NAME}.")
    lines.append("Registered with:" if not summary.dry_run else "Would register with:")
    for target in plan.targets:
        if target.registry:
            lines.append(f"  {target.label}: registry key {target.registry}")
            lines.append(f"    (default value) = {target.manifest_path}")
        else:
            lines.append(f"  {target.label}: {target.manifest_path}")
    if not plan.targets:
        lines.append("  no browser (none found; name one with --browser)")
    missing = [key for key, reason in plan.skipped if reason.endswith(" was not found")]
    explained = [(key, reason) for key, reason in plan.skipped if key not in missing]
    if explained:
        lines.append("Not registered:")
    for key, reason in explained:
        lines.append(f"  {key}: {reason}")
    if missing:  # one line, not one per browser the tutor does not have
        names = ", ".join(BROWSERS_BY_KEY[key].name for key in missing)
        lines.append(f"Not found on this computer (so not registered): {names}")
    for note in plan.notes:
        lines.append(f"Note: {note}.")
    lines += [
        "Next step: load the extension.",
        f"  Chromium/Chrome/Edge/Brave/Vivaldi: open chrome://extensions, turn on Developer mode, "
        f"click Load unpacked and choose {repo / 'extension'}",
        f"  Firefox: open about:debugging, click This Firefox, Load Temporary Add-on and choose "
        f"{repo / 'extension' / 'manifest.json'}",
        f"  To keep it installed (Firefox forgets a temporary add-on): build it with "
        f"{shell_word(str(repo / 'scripts' / 'build'), plan.platform)} and follow README.md, "
        "'Install the extension for good'",
        f"Check it any time: {command(plan, repo, '--doctor')}",
        f"To uninstall: {command(plan, repo, '--uninstall')}",
    ]
    return "\n".join(lines)


def command(plan: Plan, repo: Path, *extra: str) -> str:
    """An install.py command for this install, quoted for the shell of its platform."""
    return installer_command(
        repo, plan.platform, plan.scope, plan.prefix, extra=extra, home=Path.home()
    )


def browser_list(text: str) -> list[str]:
    """Parse `--browser chromium,firefox` into known browser keys."""
    keys = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [key for key in keys if key not in BROWSERS_BY_KEY]
    if unknown or not keys:
        raise argparse.ArgumentTypeError(
            f"unknown browser {', '.join(unknown) or text!r}; choose from "
            f"{', '.join(BROWSERS_BY_KEY)}"
        )
    return list(dict.fromkeys(keys))


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="python3 install.py",
        description="Install the eTMA Helper and register it with your browsers "
        f"({', '.join(b.name for b in BROWSERS)}) on Linux, macOS or Windows.",
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--uninstall",
        action="store_true",
        help="remove exactly what the install into --prefix created",
    )
    action.add_argument(
        "--doctor",
        action="store_true",
        help="check every registration, start the helper as each browser would and say how to "
        "fix each problem (exit 0 when healthy)",
    )
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument(
        "--user", dest="scope", action="store_const", const=USER, help="for you only (default)"
    )
    scope.add_argument(
        "--system",
        dest="scope",
        action="store_const",
        const=SYSTEM,
        help="for every user: system folders on Linux and macOS (run with sudo), HKLM on "
        "Windows (run as administrator)",
    )
    parser.set_defaults(scope=USER)
    parser.add_argument(
        "--prefix",
        type=Path,
        default=None,
        metavar="DIR",
        help="install folder (default: your user data folder, on Linux "
        "$XDG_DATA_HOME/etma_helper or ~/.local/share/etma_helper; with --system /opt/etma_helper)",
    )
    parser.add_argument(
        "--browser",
        type=browser_list,
        action="append",
        default=None,
        metavar="LIST",
        help="comma-separated browsers to register, found or not (repeatable; all are kept): "
        f"{','.join(BROWSERS_BY_KEY)} (default: every browser found)",
    )
    parser.add_argument(
        "--chromium-profile",
        action="append",
        default=[],
        metavar="DIR",
        help="also register for a Chromium started with --user-data-dir=DIR (repeatable)",
    )
    parser.add_argument(
        "--system-site-packages",
        action="store_true",
        help="let the helper use packages already installed for this python, "
        "and download nothing when they suffice",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print every file and key it would write; write nothing",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the installer; return the exit code (0 ok, 1 failure or unhealthy, 2 bad usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.browser is not None:  # --browser a,b --browser c: every one named, each once
        args.browser = list(dict.fromkeys(key for keys in args.browser for key in keys))
    extras = args.browser or args.chromium_profile or args.system_site_packages
    if (args.uninstall or args.doctor) and extras:
        parser.error("--uninstall and --doctor take only --prefix (and --user/--system)")
    prefix = args.prefix or default_prefix(Path.home(), scope=args.scope)
    try:
        refuse_store_python(sys.executable, current_platform(sys.platform))
        if args.doctor:
            doctor = load_doctor()
            report = doctor.diagnose(Path(prefix).expanduser().resolve(), repo=REPO)
            print(doctor.format_report(report))
            return EXIT_OK if report.healthy else EXIT_FAILURE
        if args.uninstall:
            print("\n".join(uninstall(prefix, dry_run=args.dry_run)))
            if args.scope == USER:
                print("\n".join(remove_helper_files(Path.home(), dry_run=args.dry_run)))
            print(
                "Dry run: nothing was removed." if args.dry_run else "eTMA Helper is uninstalled."
            )
        else:
            summary = install(
                prefix,
                args.browser,
                args.chromium_profile,
                args.system_site_packages,
                args.dry_run,
                scope=args.scope,
            )
            print(format_summary(summary))
    except InstallError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


if __name__ == "__main__":
    # Checked at run time on purpose: the installer may be started by an older python3.
    if sys.version_info < (3, 10):  # noqa: UP036
        sys.exit("error: the eTMA Helper needs Python 3.10 or newer; run it with python3.10+.")
    sys.exit(main())
