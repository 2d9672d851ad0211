#!/usr/bin/env python3
"""Install the eTMA Helper and register it with the browsers on this machine.

Usage (from the repository folder):

    python3 install.py                      # install, register for the browsers found
    python3 install.py --dry-run            # show what would be written, write nothing
    python3 install.py --uninstall          # remove exactly what the install created

The installer creates a virtual environment in the install prefix, installs the `etma_helper`
package into it (a real copy, so the install survives the clone moving), writes a launcher with
absolute paths, and writes one native-messaging host manifest per browser. Every file and folder
it creates is listed in a receipt in the prefix; `--uninstall` removes those and nothing else.

Standard library only, because it runs before anything is installed. That is also why it does
not use nativemessaging-ng's `install()`: besides not being importable yet, it computes its
paths from $HOME once at import, writes only the default profile folders (Chromium started with
`--user-data-dir` never reads them), fails when `~/.config` is missing, and has no dry run,
receipt or uninstall. The browser paths below are the same well-known ones, kept in one table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HOST_NAME = "etma_helper"
HOST_MODULE = "etma_helper.native_host"
LAUNCHER_NAME = "etma-helper-host"
RECEIPT_NAME = "install-receipt.json"
VENV_DIR_NAME = "venv"
PATH_PLACEHOLDER = "@LAUNCHER_PATH@"
REPO = Path(__file__).resolve().parent
MANIFEST_TEMPLATES = {
    "chromium": "chromium-host.json",
    "firefox": "firefox-host.json",
}

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True)
class Browser:
    """One browser the helper can be registered with, and where it looks for host manifests.

    Paths are relative to the user's home and keyed by `sys.platform`; a platform missing from
    `hosts_dir` is not supported yet (Windows registry keys and macOS folders are issue 5).
    """

    key: str
    name: str
    family: str  # which manifest template: "chromium" or "firefox"
    config_dir: dict[str, str]
    hosts_dir: dict[str, str]
    executables: tuple[str, ...]
    sandboxed_dirs: tuple[str, ...] = ()  # Flatpak / Snap installs, relative to home


BROWSERS: tuple[Browser, ...] = (
    Browser(
        key="chromium",
        name="Chromium",
        family="chromium",
        config_dir={"linux": ".config/chromium"},
        hosts_dir={"linux": ".config/chromium/NativeMessagingHosts"},
        executables=("chromium", "chromium-browser"),
        sandboxed_dirs=(".var/app/org.chromium.Chromium", "snap/chromium"),
    ),
    Browser(
        key="chrome",
        name="Google Chrome",
        family="chromium",
        config_dir={"linux": ".config/google-chrome"},
        hosts_dir={"linux": ".config/google-chrome/NativeMessagingHosts"},
        executables=("google-chrome", "google-chrome-stable"),
        sandboxed_dirs=(".var/app/com.google.Chrome",),
    ),
    Browser(
        key="brave",
        name="Brave",
        family="chromium",
        config_dir={"linux": ".config/BraveSoftware/Brave-Browser"},
        hosts_dir={"linux": ".config/BraveSoftware/Brave-Browser/NativeMessagingHosts"},
        executables=("brave-browser", "brave"),
        sandboxed_dirs=(".var/app/com.brave.Browser", "snap/brave"),
    ),
    Browser(
        key="vivaldi",
        name="Vivaldi",
        family="chromium",
        config_dir={"linux": ".config/vivaldi"},
        hosts_dir={"linux": ".config/vivaldi/NativeMessagingHosts"},
        executables=("vivaldi", "vivaldi-stable"),
    ),
    Browser(
        key="edge",
        name="Microsoft Edge",
        family="chromium",
        config_dir={"linux": ".config/microsoft-edge"},
        hosts_dir={"linux": ".config/microsoft-edge/NativeMessagingHosts"},
        executables=("microsoft-edge", "microsoft-edge-stable"),
    ),
    Browser(
        key="firefox",
        name="Firefox",
        family="firefox",
        config_dir={"linux": ".mozilla"},
        hosts_dir={"linux": ".mozilla/native-messaging-hosts"},
        executables=("firefox", "firefox-esr"),
        sandboxed_dirs=(".var/app/org.mozilla.firefox", "snap/firefox"),
    ),
)
BROWSERS_BY_KEY = {browser.key: browser for browser in BROWSERS}


class InstallError(Exception):
    """An expected failure; its message is a sentence that tells the user what to do."""


@dataclass(frozen=True)
class Target:
    """One host manifest to write: for which browser (or custom profile) and where."""

    label: str
    family: str
    manifest_path: Path


@dataclass
class Receipt:
    """What this installer created under one prefix, so uninstall removes exactly that.

    `dirs` are folders it created (removed only if empty, deepest first), `files` are files it
    wrote, `trees` are folders it owns wholesale (the virtual environment).
    """

    prefix: Path
    files: list[str] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)
    trees: list[str] = field(default_factory=list)

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
            return cls(prefix, list(data["files"]), list(data["dirs"]), list(data["trees"]))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise InstallError(
                f"The install receipt {path} is unreadable ({error}); remove the helper's files "
                "by hand or reinstall with the same --prefix."
            ) from error

    def save(self) -> None:
        """Write the receipt (the prefix exists once anything was created)."""
        data = {"host": HOST_NAME, "files": self.files, "dirs": self.dirs, "trees": self.trees}
        self.path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

    def make_dirs(self, path: Path) -> None:
        """Create `path` and any missing parents, recording each folder created."""
        missing = []
        for candidate in (path, *path.parents):
            if candidate.exists():
                break
            missing.append(candidate)
        for folder in reversed(missing):
            folder.mkdir()
            self._add(self.dirs, folder)

    def add_file(self, path: Path) -> None:
        """Record a file this installer wrote."""
        self._add(self.files, path)

    def add_tree(self, path: Path) -> None:
        """Record a folder this installer owns with everything in it."""
        self._add(self.trees, path)

    def owns_tree(self, path: Path) -> bool:
        """Whether `path` is a folder this installer created earlier."""
        return str(path) in self.trees

    @staticmethod
    def _add(entries: list[str], path: Path) -> None:
        if str(path) not in entries:
            entries.append(str(path))


# --- Paths ---------------------------------------------------------------------------------


def default_prefix(home: Path, environ: dict[str, str] | None = None) -> Path:
    """The per-user data folder for the helper (as platformdirs' user_data_dir would say)."""
    environ = os.environ if environ is None else environ
    if sys.platform == "win32":
        base = Path(environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        xdg = environ.get("XDG_DATA_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else home / ".local" / "share"
    return base / HOST_NAME


def venv_python(prefix: Path) -> Path:
    """The virtual environment's interpreter inside `prefix`."""
    if sys.platform == "win32":
        return prefix / VENV_DIR_NAME / "Scripts" / "python.exe"
    return prefix / VENV_DIR_NAME / "bin" / "python"


def launcher_path(prefix: Path) -> Path:
    """The executable the browsers start."""
    return prefix / LAUNCHER_NAME


# --- Browsers and manifests ----------------------------------------------------------------


def render_host_manifest(
    browser_family: str, launcher: Path | str, templates: Path = REPO / "manifest"
) -> dict:
    """Fill the host manifest template of `browser_family` with the absolute launcher path."""
    if browser_family not in MANIFEST_TEMPLATES:
        raise ValueError(f"unknown browser family {browser_family!r}")
    if not os.path.isabs(launcher):
        # Chromium refuses a relative path, even one valid relative to the manifest.
        raise ValueError(f"the launcher path must be absolute, not {launcher!r}")
    manifest = json.loads((templates / MANIFEST_TEMPLATES[browser_family]).read_text("utf-8"))
    if manifest.get("path") != PATH_PLACEHOLDER:
        raise ValueError(f"template for {browser_family} has no {PATH_PLACEHOLDER} path")
    manifest["path"] = str(launcher)
    return manifest


def detect_browsers(
    home: Path, which: Callable[[str], str | None] = shutil.which
) -> tuple[list[str], list[tuple[str, str]]]:
    """Browsers found on this machine, and the others with the reason each is skipped.

    A browser is found when its config folder exists or one of its executables is on PATH.
    """
    found, skipped = [], []
    for browser in BROWSERS:
        if sys.platform not in browser.hosts_dir:
            skipped.append((browser.key, f"{browser.name} on {sys.platform} is not supported yet"))
        elif (home / browser.config_dir[sys.platform]).is_dir() or any(
            which(name) for name in browser.executables
        ):
            found.append(browser.key)
        elif any((home / sandbox).is_dir() for sandbox in browser.sandboxed_dirs):
            skipped.append(
                (
                    browser.key,
                    f"{browser.name} is a Flatpak/Snap install, whose sandbox usually cannot start "
                    "native helpers; install the distribution's package to use the helper",
                )
            )
        else:
            skipped.append((browser.key, f"{browser.name} was not found"))
    return found, skipped


def registration_targets(
    browsers: Iterable[str], home: Path, chromium_profiles: Iterable[Path | str] = ()
) -> list[Target]:
    """Where to write the host manifest for each browser key and each custom Chromium profile.

    A Chromium started with `--user-data-dir=DIR` reads host manifests only from
    `DIR/NativeMessagingHosts/`, not from the default profile's folder.
    """
    targets = []
    for key in browsers:
        browser = BROWSERS_BY_KEY[key]
        hosts_dir = browser.hosts_dir.get(sys.platform)
        if hosts_dir is None:
            raise InstallError(
                f"Registering with {browser.name} on {sys.platform} is not "
                "supported yet; see issue 5."
            )
        targets.append(Target(browser.name, browser.family, home / hosts_dir / f"{HOST_NAME}.json"))
    for profile in chromium_profiles:
        profile = Path(profile).expanduser().resolve()
        targets.append(
            Target(
                f"Chromium profile {profile}",
                "chromium",
                profile / "NativeMessagingHosts" / f"{HOST_NAME}.json",
            )
        )
    return targets


def choose_browsers(
    requested: Sequence[str] | None, home: Path
) -> tuple[list[str], list[tuple[str, str]]]:
    """The browser keys to register and the skipped ones with reasons.

    Without a request, every browser found; with one, exactly those named, found or not (the
    user may install the browser later, or start it from somewhere PATH does not show).
    """
    found, skipped = detect_browsers(home)
    if requested is None:
        return found, skipped
    skipped = [(key, reason) for key, reason in skipped if key not in requested]
    skipped += [(key, "not in --browser") for key in found if key not in requested]
    return list(requested), skipped


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


def venv_matches(prefix: Path, system_site_packages: bool) -> bool:
    """Whether the existing virtual environment works and has the requested site setting."""
    config = prefix / VENV_DIR_NAME / "pyvenv.cfg"
    if not config.is_file() or not venv_python(prefix).exists():
        return False
    wanted = f"include-system-site-packages = {str(system_site_packages).lower()}"
    if wanted not in config.read_text(encoding="utf-8"):
        return False
    probe = subprocess.run([str(venv_python(prefix)), "-c", "import pip"], capture_output=True)
    return probe.returncode == 0


def create_venv(prefix: Path, system_site_packages: bool, receipt: Receipt) -> None:
    """Create (or reuse, when it is ours and fits) the virtual environment in the prefix."""
    venv_dir = prefix / VENV_DIR_NAME
    if venv_dir.exists() and not receipt.owns_tree(venv_dir):
        raise InstallError(
            f"{venv_dir} already exists and was not created by this installer; "
            "choose another --prefix or remove it."
        )
    if receipt.owns_tree(venv_dir) and venv_matches(prefix, system_site_packages):
        return
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


def write_launcher(prefix: Path, receipt: Receipt) -> Path:
    """Write the shell launcher that starts the native host with the venv's absolute python."""
    launcher = launcher_path(prefix)
    python = str(venv_python(prefix))
    for special in ("\\", '"', "$", "`"):
        python = python.replace(special, "\\" + special)
    launcher.write_text(f'#!/bin/sh\nexec "{python}" -m {HOST_MODULE} "$@"\n', encoding="utf-8")
    launcher.chmod(0o755)
    receipt.add_file(launcher)
    return launcher


def write_manifest(target: Target, launcher: Path, receipt: Receipt) -> None:
    """Write one host manifest, creating (and recording) any missing folders."""
    receipt.make_dirs(target.manifest_path.parent)
    manifest = render_host_manifest(target.family, launcher)
    target.manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    receipt.add_file(target.manifest_path)


# --- Install and uninstall -----------------------------------------------------------------


@dataclass
class InstallSummary:
    """What an install did (or, in a dry run, would do)."""

    prefix: Path
    launcher: Path
    registered: list[Target]
    skipped: list[tuple[str, str]]
    package_install: str = ""
    dry_run: bool = False


def install(
    prefix: Path,
    browsers: Sequence[str] | None = None,
    chromium_profiles: Sequence[Path | str] = (),
    system_site_packages: bool = False,
    dry_run: bool = False,
    home: Path | None = None,
    repo: Path = REPO,
) -> InstallSummary:
    """Install the helper into `prefix` and register it; safe to run again.

    `browsers` are keys of BROWSERS (None: every browser found). Raises InstallError.
    """
    home = Path.home() if home is None else home
    prefix = Path(prefix).expanduser().resolve()
    keys, skipped = choose_browsers(browsers, home)
    targets = registration_targets(keys, home, chromium_profiles)
    summary = InstallSummary(prefix, launcher_path(prefix), targets, skipped, dry_run=dry_run)
    if dry_run:
        return summary
    receipt = Receipt.load(prefix) or Receipt(prefix)
    try:
        receipt.make_dirs(prefix)
        print(f"Creating the virtual environment in {prefix / VENV_DIR_NAME} ...", flush=True)
        create_venv(prefix, system_site_packages, receipt)
        receipt.save()
        print("Installing the helper into it (this can take a minute) ...", flush=True)
        summary.package_install = install_package(repo, prefix, system_site_packages)
        write_launcher(prefix, receipt)
        for target in targets:
            write_manifest(target, summary.launcher, receipt)
    except OSError as error:
        raise InstallError(
            f"Could not write {error.filename}: {error.strerror}. Check that "
            "you may write there, or choose another --prefix."
        ) from error
    finally:
        if prefix.is_dir():
            receipt.save()
    return summary


def uninstall(prefix: Path, dry_run: bool = False) -> list[str]:
    """Remove exactly what the install into `prefix` created; return one line per action.

    Files it wrote and the folder trees it owns go; folders it created go only when empty; the
    prefix goes last, when empty. Raises InstallError when there is no receipt.
    """
    prefix = Path(prefix).expanduser().resolve()
    receipt = Receipt.load(prefix)
    if receipt is None:
        raise InstallError(
            f"No eTMA Helper installation was found in {prefix} (no "
            f"{RECEIPT_NAME}); pass the --prefix you installed with."
        )
    verb = "Would remove" if dry_run else "Removed"
    actions = []
    for tree in map(Path, receipt.trees):
        # A damaged receipt must never make uninstall delete a folder outside the prefix.
        if tree.is_dir() and tree.is_relative_to(prefix) and tree != prefix:
            if not dry_run:
                shutil.rmtree(tree)
            actions.append(f"{verb} {tree}")
    for file in map(Path, receipt.files):
        if file.is_file() or file.is_symlink():
            if not dry_run:
                file.unlink()
            actions.append(f"{verb} {file}")
    if not dry_run:
        receipt.path.unlink()
    actions.append(f"{verb} {receipt.path}")
    folders = sorted({Path(d) for d in receipt.dirs} | {prefix}, key=lambda p: len(p.parts))
    for folder in reversed(folders):
        if dry_run:
            actions.append(f"Would remove {folder} if empty")
        elif folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            actions.append(f"Removed empty folder {folder}")
        elif folder.is_dir():
            actions.append(f"Kept {folder} (it holds other files)")
    return actions


# --- Command line --------------------------------------------------------------------------


def format_summary(summary: InstallSummary, repo: Path = REPO) -> str:
    """The message shown after an install: where things are and what to do next."""
    would = "would be " if summary.dry_run else ""
    lines = ["Dry run: nothing was written." if summary.dry_run else "eTMA Helper is installed."]
    lines.append(f"  Helper {would}in:      {summary.prefix}")
    lines.append(f"  Launcher {would}at:    {summary.launcher}")
    if summary.package_install:
        lines.append(f"  Package installed {summary.package_install}.")
    if summary.dry_run:
        lines.append(
            f"  It would create a virtual environment in {summary.prefix / VENV_DIR_NAME}"
            f" and pip install {repo} into it."
        )
    lines.append("Registered with:" if not summary.dry_run else "Would register with:")
    for target in summary.registered:
        lines.append(f"  {target.label}: {target.manifest_path}")
    if not summary.registered:
        lines.append("  no browser (none found; name one with --browser)")
    if summary.skipped:
        lines.append("Not registered:")
    for key, reason in summary.skipped:
        lines.append(f"  {key}: {reason}")
    lines += [
        "Next step: load the extension.",
        f"  Chromium/Chrome: open chrome://extensions, turn on Developer mode, click Load "
        f"unpacked and choose {repo / 'extension'}",
        f"  Firefox: open about:debugging, click This Firefox, Load Temporary Add-on and choose "
        f"{repo / 'extension' / 'manifest.json'}",
        f"Scripts are downloaded to {Path('~/Downloads/eTMA').expanduser()} unless you choose "
        "another folder in the extension's options.",
        f"To uninstall: python3 {repo / 'install.py'} --uninstall --prefix {summary.prefix}",
    ]
    return "\n".join(lines)


def browser_list(text: str) -> list[str]:
    """Parse `--browser chromium,firefox` into known browser keys."""
    keys = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [key for key in keys if key not in BROWSERS_BY_KEY]
    if unknown or not keys:
        raise argparse.ArgumentTypeError(
            f"unknown browser {', '.join(unknown) or text!r}; choose from "
            f"{', '.join(BROWSERS_BY_KEY)}"
        )
    return keys


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="python3 install.py",
        description="Install the eTMA Helper and register it with your browsers.",
    )
    parser.add_argument(
        "--prefix",
        type=Path,
        default=None,
        metavar="DIR",
        help="install folder (default: your user data folder, on Linux "
        "$XDG_DATA_HOME/etma_helper or ~/.local/share/etma_helper)",
    )
    parser.add_argument(
        "--browser",
        type=browser_list,
        default=None,
        metavar="LIST",
        help="comma-separated browsers to register, found or not: "
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
        "--dry-run", action="store_true", help="print what would be written and write nothing"
    )
    parser.add_argument(
        "--uninstall",
        action="store_true",
        help="remove exactly what the install into --prefix created",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the installer; return the exit code (0 ok, 1 failure, 2 bad usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.uninstall and (args.browser or args.chromium_profile or args.system_site_packages):
        parser.error("--uninstall takes only --prefix and --dry-run")
    prefix = args.prefix or default_prefix(Path.home())
    try:
        if args.uninstall:
            print("\n".join(uninstall(prefix, dry_run=args.dry_run)))
            print(
                "Dry run: nothing was removed." if args.dry_run else "eTMA Helper is uninstalled."
            )
        else:
            summary = install(
                prefix, args.browser, args.chromium_profile, args.system_site_packages, args.dry_run
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
