"""Where an install of the helper lives, and where each browser looks for it: the one source.

install.py writes an install to these places and the doctor looks for it there; both find the
browsers on a machine with `survey_browsers`, so they cannot disagree about which browsers a
tutor has. Standard library only, with no import but ``identity``: install.py imports it from the
clone before anything is installed, and the doctor runs from the clone when the helper's venv is
broken or gone.

Where each browser looks (`BROWSERS`) comes from the browsers' own documentation: Chrome's
"Native messaging" page (Linux, macOS and the Windows registry), MDN's "Native manifests" (Firefox
on all three), Microsoft's "Native messaging" page for Edge. Brave's and Vivaldi's folders come
from their own issue trackers and those of projects that register with them: Brave reads Chrome's
folder on macOS and Chrome's key on Windows, Vivaldi reads Chrome's key on Windows
(keepassxc-browser#48, ff2mpv#103). Where sources disagree (their system folders on Linux) every
candidate is listed, and every one is written.

(The helper's own settings, ledger and log are found by ``platformdirs``, in config.py and
ledger.py; `helper_data` says where platformdirs puts them, for uninstall, which runs before
anything is installed and so cannot import it.)
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath, PureWindowsPath

from .identity import HOST_NAME

RECEIPT_NAME = "install-receipt.json"
VENV_DIR_NAME = "venv"
PLATFORMS = ("linux", "darwin", "win32")
USER, SYSTEM = "user", "system"
HOST_MODULE = "etma_helper.native_host"


def current_platform(name: str = sys.platform) -> str:
    """`sys.platform` folded to one of PLATFORMS (the BSDs read the same folders as Linux)."""
    if name.startswith("win"):
        return "win32"
    return "darwin" if name == "darwin" else "linux"


def default_prefix(
    home: Path,
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    scope: str = USER,
) -> Path:
    """Where the helper lives: the user's data folder (as platformdirs' user_data_dir would say),
    or a machine-wide folder for `--system`."""
    environ = os.environ if environ is None else environ
    platform = platform or current_platform()
    if platform == "win32":
        if scope == SYSTEM:
            return Path(environ.get("ProgramFiles") or r"C:\Program Files") / HOST_NAME
        return Path(environ.get("LOCALAPPDATA") or home / "AppData" / "Local") / HOST_NAME
    if platform == "darwin":
        base = Path("/") if scope == SYSTEM else home
        return base / "Library" / "Application Support" / HOST_NAME
    if scope == SYSTEM:
        return Path("/opt") / HOST_NAME
    return _xdg(environ, "XDG_DATA_HOME", home / ".local" / "share") / HOST_NAME


def _xdg(environ: Mapping[str, str], name: str, fallback: Path) -> Path:
    """An XDG base folder: the variable when it is an absolute path (the spec ignores others)."""
    value = environ.get(name, "")
    return Path(value) if os.path.isabs(value) else fallback


def venv_python(prefix: Path, platform: str | None = None) -> Path:
    """The virtual environment's interpreter inside `prefix`."""
    if (platform or current_platform()) == "win32":
        return prefix / VENV_DIR_NAME / "Scripts" / "python.exe"
    return prefix / VENV_DIR_NAME / "bin" / "python"


def launcher_path(prefix: Path, platform: str | None = None) -> Path:
    """The executable the browsers start: a shell script, or a .cmd on Windows."""
    if (platform or current_platform()) == "win32":
        return prefix / "etma-helper-host.cmd"
    return prefix / "etma-helper-host"


def launcher_text(python: PurePath, platform: str | None = None) -> str:
    """The launcher's content: start the host module with the venv's interpreter.

    On Linux and macOS a shell script naming the absolute interpreter. On Windows a batch file
    that names it relative to its own folder (``%~dp0``), so the file is pure ASCII: cmd.exe reads
    a batch file in the console's code page, in which a user name such as "Zoë Müller" written in
    UTF-8 becomes another, missing, folder. (`python` is the venv's, inside the prefix.)
    """
    if (platform or current_platform()) == "win32":
        relative = PureWindowsPath(VENV_DIR_NAME, "Scripts", PureWindowsPath(python).name)
        return f'@echo off\r\n"%~dp0{relative}" -m {HOST_MODULE} %*\r\n'
    quoted = str(python)
    for special in ("\\", '"', "$", "`"):
        quoted = quoted.replace(special, "\\" + special)
    return f'#!/bin/sh\nexec "{quoted}" -m {HOST_MODULE} "$@"\n'


def shell_word(text: str, platform: str) -> str:
    """`text` as one word of a command typed on `platform`: POSIX sh quoting on Linux and macOS,
    double quotes for cmd.exe and PowerShell on Windows (where paths hold no double quote)."""
    if platform == "win32":
        return f'"{text}"' if not text or any(c in text for c in " &()^;,\"'%!`$") else text
    return shlex.quote(text)


def python_command(platform: str) -> str:
    """How a tutor starts Python on `platform`: the py launcher on Windows (python.org's; the
    Store's `python3` writes AppData where browsers never look), python3 elsewhere."""
    return "py" if platform == "win32" else "python3"


def installer_command(
    repo: Path | None,
    platform: str,
    scope: str = USER,
    prefix: Path | None = None,
    home: Path | None = None,
    environ: Mapping[str, str] | None = None,
    extra: tuple[str, ...] = (),
) -> str:
    """The install.py command line for `platform`, quoted for its shell: with its scope, with
    `extra` arguments, and with `--prefix` only when `prefix` is not install.py's default there.

    A system install runs with sudo on Linux and macOS; on Windows there is no sudo (the doctor
    says to use an administrator prompt instead).
    """
    script = shell_word(str(repo / "install.py"), platform) if repo else "install.py"
    command = f"{python_command(platform)} {script}"
    if scope == SYSTEM:
        command = f"{command} --system" if platform == "win32" else f"sudo {command} --system"
    command += "".join(f" {shell_word(arg, platform)}" for arg in extra)
    if prefix is not None:
        default = default_prefix(home or Path.home(), environ, platform, scope)
        if not _same_place(Path(prefix), default):
            command += f" --prefix {shell_word(str(prefix), platform)}"
    return command


def _same_place(a: Path, b: Path) -> bool:
    if a == b:
        return True
    return a.is_absolute() and b.is_absolute() and a.resolve() == b.resolve()


# --- The helper's own files (platformdirs' answers, for the stdlib-only uninstall) -----------


@dataclass(frozen=True)
class HelperData:
    """Where the running helper keeps its files for one user (config.py and ledger.py say so
    through platformdirs): the tutor's (settings, ledger, downloads) and its own (the log)."""

    settings: Path
    ledger: Path
    log_dir: Path
    downloads: Path


def helper_data(
    home: Path, environ: Mapping[str, str] | None = None, platform: str | None = None
) -> HelperData:
    """platformdirs' user_config_dir, user_data_dir and user_log_dir for the helper (appauthor
    unset, so Windows repeats the name), and the download root the settings name."""
    environ = os.environ if environ is None else environ
    platform = platform or current_platform()
    if platform == "win32":
        data = Path(environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
        data = data / HOST_NAME / HOST_NAME
        config, log = data, data / "Logs"
        default_downloads = home / "Downloads"
    elif platform == "darwin":
        data = config = home / "Library" / "Application Support" / HOST_NAME
        log = home / "Library" / "Logs" / HOST_NAME
        default_downloads = home / "Downloads"
    else:
        data = _xdg(environ, "XDG_DATA_HOME", home / ".local" / "share") / HOST_NAME
        config = _xdg(environ, "XDG_CONFIG_HOME", home / ".config") / HOST_NAME
        log = _xdg(environ, "XDG_STATE_HOME", home / ".local" / "state") / HOST_NAME / "log"
        default_downloads = _xdg_user_dir(home, environ, "DOWNLOAD") or home / "Downloads"
    settings = config / "config.json"
    downloads = default_downloads / "eTMA"
    try:
        chosen = json.loads(settings.read_text(encoding="utf-8")).get("download_root")
        if isinstance(chosen, str) and chosen:
            downloads = Path(os.path.expanduser(chosen))
    except (OSError, ValueError, AttributeError):
        pass
    return HelperData(settings, data / "ledger.sqlite3", log, downloads)


def _xdg_user_dir(home: Path, environ: Mapping[str, str], name: str) -> Path | None:
    """XDG_<name>_DIR from user-dirs.dirs, as platformdirs reads it on Linux."""
    dirs = _xdg(environ, "XDG_CONFIG_HOME", home / ".config") / "user-dirs.dirs"
    try:
        lines = dirs.read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError):
        return None
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() == f"XDG_{name}_DIR":
            value = value.strip().strip('"').replace("$HOME", str(home))
            return Path(value) if os.path.isabs(value) else None
    return None


# --- Browsers ------------------------------------------------------------------------------

#: In a Linux folder template: the folder Chromium-family browsers keep their user data in.
CONFIG = "$CONFIG"


@dataclass(frozen=True)
class Browser:
    """One browser the helper can be registered with, and where it looks for host manifests.

    `user_dirs` are relative to the home folder, or on Linux to the Chromium config folder
    (``$CONFIG/...``: $CHROME_CONFIG_HOME, else $XDG_CONFIG_HOME, else ~/.config); every folder
    listed is written. `system_dirs` are absolute. On Windows the browser reads registry keys
    under HKCU (per user) or HKLM (system-wide) whose default value is the manifest file's path:
    `registry_keys`. `config_dirs` tell it is installed (relative as `user_dirs`, or to
    %LOCALAPPDATA% / %APPDATA% on Windows), as do `executables` on PATH and macOS bundles.
    `policy_*` say where a managed PC's policies for it live (Chromium family only).
    """

    key: str
    name: str
    family: str  # which manifest template: "chromium" or "firefox"
    user_dirs: Mapping[str, tuple[str, ...]]
    system_dirs: Mapping[str, tuple[str, ...]]
    registry_keys: tuple[str, ...]
    config_dirs: Mapping[str, tuple[str, ...]]
    executables: tuple[str, ...] = ()
    mac_apps: tuple[str, ...] = ()
    flatpak_ids: tuple[str, ...] = ()
    snap_names: tuple[str, ...] = ()
    policy_dirs: tuple[str, ...] = ()  # Linux: folders of managed-policy JSON files
    policy_key: str = ""  # Windows: the policy key under HKLM and HKCU
    policy_domain: str = ""  # macOS: the managed preferences' domain


_MAC = "Library/Application Support"
_CHROME_KEY = r"Software\Google\Chrome\NativeMessagingHosts"
_EDGE_KEY = r"Software\Microsoft\Edge\NativeMessagingHosts"
_MOZILLA_KEY = r"Software\Mozilla\NativeMessagingHosts"
_CHROME_SYSTEM = {
    "linux": ("/etc/opt/chrome/native-messaging-hosts",),
    "darwin": ("/Library/Google/Chrome/NativeMessagingHosts",),
}
_EDGE_SYSTEM = {
    "linux": ("/etc/opt/edge/native-messaging-hosts",),
    "darwin": ("/Library/Microsoft/Edge/NativeMessagingHosts",),
}
_CHROME_POLICY = {
    "policy_dirs": ("/etc/opt/chrome/policies/managed",),
    "policy_key": r"Software\Policies\Google\Chrome",
    "policy_domain": "com.google.Chrome",
}
_EDGE_POLICY = {
    "policy_dirs": ("/etc/opt/edge/policies/managed",),
    "policy_key": r"Software\Policies\Microsoft\Edge",
    "policy_domain": "com.microsoft.Edge",
}
_CHROME_VENDOR = {
    "mac_prefix": "Google/",
    "app_prefix": "Google ",
    "windows_prefix": "Google\\",
    "system_dirs": _CHROME_SYSTEM,
    "registry_key": _CHROME_KEY,
    "policy": _CHROME_POLICY,
}
_EDGE_VENDOR = {
    "mac_prefix": "",
    "app_prefix": "",
    "windows_prefix": "Microsoft\\",
    "system_dirs": _EDGE_SYSTEM,
    "registry_key": _EDGE_KEY,
    "policy": _EDGE_POLICY,
}


def _channel(
    key: str,
    name: str,
    linux: str,
    mac: str,
    windows: str,
    *,
    vendor: dict,
    executables: tuple[str, ...] = (),
    flatpak_ids: tuple[str, ...] = (),
) -> Browser:
    """A Chrome or Edge channel: its own user folder; its vendor's system folders, registry key
    and policies (``_CHROME_VENDOR`` or ``_EDGE_VENDOR``)."""
    mac_folder = f"{_MAC}/{vendor['mac_prefix']}{mac}"
    return Browser(
        key=key,
        name=name,
        family="chromium",
        user_dirs={
            "linux": (f"{CONFIG}/{linux}/NativeMessagingHosts",) if linux else (),
            "darwin": (f"{mac_folder}/NativeMessagingHosts",),
        },
        system_dirs=vendor["system_dirs"],
        registry_keys=(vendor["registry_key"],),
        config_dirs={
            "linux": (f"{CONFIG}/{linux}",) if linux else (),
            "darwin": (mac_folder,),
            "win32": (rf"%LOCALAPPDATA%\{vendor['windows_prefix']}{windows}\User Data",),
        },
        executables=executables or ((linux,) if linux else ()),
        mac_apps=(f"{vendor['app_prefix']}{mac}.app",),
        flatpak_ids=flatpak_ids,
        **vendor["policy"],
    )


def _chrome_channel(key: str, name: str, linux: str, mac: str, windows: str, **more) -> Browser:
    return _channel(key, name, linux, mac, windows, vendor=_CHROME_VENDOR, **more)


def _edge_channel(key: str, name: str, linux: str, mac: str, windows: str, **more) -> Browser:
    return _channel(key, name, linux, mac, windows, vendor=_EDGE_VENDOR, **more)


def _firefox_fork(key: str, name: str, dot: str, mac: str, windows_key: str, **more) -> Browser:
    """A Firefox fork: its own folders and key, as Firefox's with the vendor's name (and
    Mozilla's key as well on Windows, which a fork that kept Firefox's vendor name reads)."""
    return Browser(
        key=key,
        name=name,
        family="firefox",
        user_dirs={
            "linux": (f".{dot}/native-messaging-hosts",),
            "darwin": (f"{_MAC}/{mac}/NativeMessagingHosts",),
        },
        system_dirs={},
        registry_keys=(windows_key, _MOZILLA_KEY),
        config_dirs={
            "linux": (f".{dot}",),
            "darwin": (f"{_MAC}/{mac}",),
            "win32": (rf"%APPDATA%\{mac}",),
        },
        executables=(dot,),
        mac_apps=(f"{mac}.app",),
        **more,
    )


BROWSERS: tuple[Browser, ...] = (
    Browser(
        key="chromium",
        name="Chromium",
        family="chromium",
        user_dirs={
            "linux": (f"{CONFIG}/chromium/NativeMessagingHosts",),
            "darwin": (f"{_MAC}/Chromium/NativeMessagingHosts",),
        },
        system_dirs={
            "linux": ("/etc/chromium/native-messaging-hosts",),
            "darwin": (f"/{_MAC}/Chromium/NativeMessagingHosts",),
        },
        registry_keys=(r"Software\Chromium\NativeMessagingHosts",),
        config_dirs={
            "linux": (f"{CONFIG}/chromium",),
            "darwin": (f"{_MAC}/Chromium",),
            "win32": (r"%LOCALAPPDATA%\Chromium\User Data",),
        },
        executables=("chromium", "chromium-browser"),
        mac_apps=("Chromium.app",),
        flatpak_ids=("org.chromium.Chromium", "io.github.ungoogled_software.ungoogled_chromium"),
        snap_names=("chromium",),
        policy_dirs=("/etc/chromium/policies/managed", "/etc/chromium-browser/policies/managed"),
        policy_key=r"Software\Policies\Chromium",
        policy_domain="org.chromium.Chromium",
    ),
    _chrome_channel(
        "chrome",
        "Google Chrome",
        "google-chrome",
        "Chrome",
        "Chrome",
        executables=("google-chrome", "google-chrome-stable"),
        flatpak_ids=("com.google.Chrome",),
    ),
    _chrome_channel(
        "chrome-beta", "Google Chrome Beta", "google-chrome-beta", "Chrome Beta", "Chrome Beta"
    ),
    _chrome_channel(
        "chrome-dev", "Google Chrome Dev", "google-chrome-unstable", "Chrome Dev", "Chrome Dev"
    ),
    _chrome_channel(
        "chrome-canary",
        "Google Chrome Canary",
        "google-chrome-canary",
        "Chrome Canary",
        "Chrome SxS",
    ),
    _edge_channel(
        "edge",
        "Microsoft Edge",
        "microsoft-edge",
        "Microsoft Edge",
        "Edge",
        executables=("microsoft-edge", "microsoft-edge-stable"),
        flatpak_ids=("com.microsoft.Edge",),
    ),
    _edge_channel(
        "edge-beta",
        "Microsoft Edge Beta",
        "microsoft-edge-beta",
        "Microsoft Edge Beta",
        "Edge Beta",
    ),
    _edge_channel(
        "edge-dev", "Microsoft Edge Dev", "microsoft-edge-dev", "Microsoft Edge Dev", "Edge Dev"
    ),
    _edge_channel("edge-canary", "Microsoft Edge Canary", "", "Microsoft Edge Canary", "Edge SxS"),
    Browser(
        key="brave",
        name="Brave",
        family="chromium",
        # Brave reads Chrome's folder on macOS as well as its own (said by Brave's developers).
        user_dirs={
            "linux": (f"{CONFIG}/BraveSoftware/Brave-Browser/NativeMessagingHosts",),
            "darwin": (
                f"{_MAC}/BraveSoftware/Brave-Browser/NativeMessagingHosts",
                f"{_MAC}/Google/Chrome/NativeMessagingHosts",
            ),
        },
        # Brave documents no system folder; projects that register with it use Chrome's
        # (browserpass-legacy#295) or a folder of Brave's own: all are written.
        system_dirs={
            "linux": (
                "/etc/opt/chrome/native-messaging-hosts",
                "/etc/opt/brave/native-messaging-hosts",
                "/etc/brave/native-messaging-hosts",
            ),
            "darwin": ("/Library/Google/Chrome/NativeMessagingHosts",),
        },
        # On Windows Brave reads Google Chrome's key as well as its own.
        registry_keys=(r"Software\BraveSoftware\Brave-Browser\NativeMessagingHosts", _CHROME_KEY),
        config_dirs={
            "linux": (f"{CONFIG}/BraveSoftware/Brave-Browser",),
            "darwin": (f"{_MAC}/BraveSoftware/Brave-Browser",),
            "win32": (r"%LOCALAPPDATA%\BraveSoftware\Brave-Browser\User Data",),
        },
        executables=("brave-browser", "brave"),
        mac_apps=("Brave Browser.app",),
        flatpak_ids=("com.brave.Browser",),
        snap_names=("brave",),
        policy_dirs=("/etc/brave/policies/managed",),
        policy_key=r"Software\Policies\BraveSoftware\Brave",
        policy_domain="com.brave.Browser",
    ),
    Browser(
        key="vivaldi",
        name="Vivaldi",
        family="chromium",
        user_dirs={
            "linux": (f"{CONFIG}/vivaldi/NativeMessagingHosts",),
            "darwin": (f"{_MAC}/Vivaldi/NativeMessagingHosts",),
        },
        # Vivaldi reads Chromium's system folder on Linux (browserpass's installer writes there);
        # others name folders of Vivaldi's own: all are written.
        system_dirs={
            "linux": (
                "/etc/chromium/native-messaging-hosts",
                "/etc/opt/vivaldi/native-messaging-hosts",
                "/etc/vivaldi/native-messaging-hosts",
            ),
            "darwin": (f"/{_MAC}/Vivaldi/NativeMessagingHosts",),
        },
        # On Windows Vivaldi reads Google Chrome's key, not one of its own (keepassxc-browser#48).
        registry_keys=(_CHROME_KEY,),
        config_dirs={
            "linux": (f"{CONFIG}/vivaldi",),
            "darwin": (f"{_MAC}/Vivaldi",),
            "win32": (r"%LOCALAPPDATA%\Vivaldi\User Data",),
        },
        executables=("vivaldi", "vivaldi-stable"),
        mac_apps=("Vivaldi.app",),
        flatpak_ids=("com.vivaldi.Vivaldi",),
    ),
    Browser(
        key="firefox",
        name="Firefox",
        family="firefox",
        user_dirs={
            "linux": (".mozilla/native-messaging-hosts",),
            "darwin": (f"{_MAC}/Mozilla/NativeMessagingHosts",),
        },
        # MDN: /usr/lib/mozilla/... or /usr/lib64/mozilla/... (which one depends on the build;
        # both are written where /usr/lib64 exists, see system_manifest_dirs).
        system_dirs={
            "linux": ("/usr/lib/mozilla/native-messaging-hosts",),
            "darwin": (f"/{_MAC}/Mozilla/NativeMessagingHosts",),
        },
        registry_keys=(_MOZILLA_KEY,),
        config_dirs={
            "linux": (".mozilla/firefox",),
            "darwin": (f"{_MAC}/Firefox",),
            "win32": (r"%APPDATA%\Mozilla\Firefox",),
        },
        executables=("firefox", "firefox-esr"),
        mac_apps=("Firefox.app",),
        flatpak_ids=("org.mozilla.firefox",),
        snap_names=("firefox",),
    ),
    _firefox_fork(
        "librewolf",
        "LibreWolf",
        "librewolf",
        "LibreWolf",
        r"Software\LibreWolf\NativeMessagingHosts",
        flatpak_ids=("io.gitlab.librewolf-community",),
    ),
    _firefox_fork(
        "floorp",
        "Floorp",
        "floorp",
        "Floorp",
        r"Software\Floorp\NativeMessagingHosts",
        flatpak_ids=("one.ablaze.floorp",),
    ),
    _firefox_fork(
        "waterfox",
        "Waterfox",
        "waterfox",
        "Waterfox",
        r"Software\Waterfox\NativeMessagingHosts",
        flatpak_ids=("net.waterfox.waterfox",),
    ),
)
BROWSERS_BY_KEY = {browser.key: browser for browser in BROWSERS}


def chromium_config_home(home: Path, environ: Mapping[str, str]) -> Path:
    """Where Chromium-family browsers on Linux keep their user folders: $CHROME_CONFIG_HOME,
    else $XDG_CONFIG_HOME, else ~/.config (Chromium's chrome_paths_linux.cc)."""
    return _xdg(environ, "CHROME_CONFIG_HOME", _xdg(environ, "XDG_CONFIG_HOME", home / ".config"))


def expand(template: str, home: Path, environ: Mapping[str, str]) -> Path:
    """A folder template made a path: $CONFIG, %LOCALAPPDATA% or %APPDATA% filled in, anything
    else relative to the home folder."""
    if template.startswith(CONFIG + "/"):
        return chromium_config_home(home, environ) / template[len(CONFIG) + 1 :]
    defaults = {"LOCALAPPDATA": home / "AppData" / "Local", "APPDATA": home / "AppData" / "Roaming"}
    for name, fallback in defaults.items():
        if template.startswith(f"%{name}%"):
            base = Path(environ.get(name) or fallback)
            return base.joinpath(*PureWindowsPath(template[len(name) + 2 :].lstrip("\\")).parts)
    return home / template


def user_manifest_dirs(
    browser: Browser, home: Path, platform: str, environ: Mapping[str, str] | None = None
) -> list[Path]:
    """The per-user folders `browser` reads host manifests from on Linux or macOS."""
    environ = os.environ if environ is None else environ
    return [expand(d, home, environ) for d in browser.user_dirs.get(platform, ())]


def system_manifest_dirs(
    browser: Browser, platform: str, is_dir: Callable[[str], bool] = os.path.isdir
) -> list[Path]:
    """The system-wide folders `browser` reads on `platform` (Linux Firefox: lib and lib64)."""
    dirs = [Path(d) for d in browser.system_dirs.get(platform, ())]
    if browser.key == "firefox" and platform == "linux" and is_dir("/usr/lib64"):
        dirs.append(Path("/usr/lib64/mozilla/native-messaging-hosts"))
    return dirs


def supported(browser: Browser, platform: str) -> bool:
    """Whether `browser` is made for `platform` (Edge Canary is not made for Linux)."""
    if platform == "win32":
        return bool(browser.config_dirs.get("win32"))
    return bool(browser.user_dirs.get(platform))


# Sandboxed browsers: what each can and cannot do, checked against the projects' trackers
# (keepassxc#8756, keepassxc#10906, xdg-desktop-portal#655 and #705, GSConnect#1972).
SNAP_FIREFOX_NOTE = (
    "Firefox is a Snap: it starts the helper through the desktop's WebExtensions portal "
    "(Ubuntu 22.04 and later), which reads the same ~/.mozilla/native-messaging-hosts manifest; "
    "Firefox asks once whether to allow eTMA Helper - answer Allow"
)
FLATPAK_FIREFOX_NOTE = (
    "Firefox is a Flatpak: its sandbox can start the helper only with Firefox 157 or later and "
    "the xdg-native-messaging-proxy service running (systemctl --user enable --now "
    "xdg-native-messaging-proxy.service); otherwise use your distribution's firefox package"
)
SANDBOXED_REASON = (
    "{name} is installed as a {kind}, whose sandbox cannot start programs outside it, so it "
    "could never start the helper ({kind} browsers other than Firefox have no native-messaging "
    "portal). Install {name} from your distribution's or the vendor's .deb/.rpm package "
    "instead, or use Firefox, then run the installer again"
)
SNAP_DIRS = ("/snap/", "/var/lib/snapd/snap/")


def is_snap_executable(path: str) -> bool:
    """Whether the executable at `path` is a Snap: under /snap/bin, or a small wrapper script
    that runs one (Ubuntu's chromium-browser package installs such a script)."""
    real = os.path.realpath(path)
    if any(p.startswith(SNAP_DIRS) for p in (path, real)):
        return True
    try:
        with open(real, "rb") as handle:
            head = handle.read(8192)
    except OSError:
        return False
    return head.startswith(b"#!") and (b"/snap/bin/" in head or b"snap run" in head)


def _in_use(folder: Path) -> bool:
    """Whether a browser's config folder shows the browser: it exists and holds more than the
    host-manifest folder an install of the helper may have made in it."""
    try:
        names = {entry.name for entry in folder.iterdir()}
    except OSError:
        return False
    return not names or bool(names - {"NativeMessagingHosts", "native-messaging-hosts"})


@dataclass(frozen=True)
class Found:
    """How one browser is present on this machine: natively, and/or in a sandbox."""

    browser: Browser
    native: bool
    snap: bool
    flatpak: bool

    @property
    def present(self) -> bool:
        return self.native or self.snap or self.flatpak

    @property
    def reachable(self) -> bool:
        """Whether some copy of it can start the helper (Firefox's sandboxes through a portal)."""
        return self.native or (self.browser.key == "firefox" and (self.snap or self.flatpak))

    def sandbox(self) -> str:
        return "Snap" if self.snap else "Flatpak"


def survey_browsers(
    home: Path,
    which: Callable[[str], str | None] = shutil.which,
    platform: str | None = None,
    environ: Mapping[str, str] | None = None,
    app_exists: Callable[[str], bool] | None = None,
    snap_executable: Callable[[str], bool] = is_snap_executable,
) -> list[Found]:
    """Every browser of BROWSERS on this machine and how it is installed.

    A browser is there natively when its config folder exists, one of its executables is on
    PATH (and is not a Snap), or (on macOS) its application bundle is installed. On Linux it is
    there as a Flatpak or Snap when the sandbox's folder for it is in the home folder, or its
    executable on PATH is a Snap.
    """
    platform = platform or current_platform()
    environ = os.environ if environ is None else environ
    if app_exists is None:

        def app_exists(name: str) -> bool:
            return any(
                (base / name).is_dir() for base in (Path("/Applications"), home / "Applications")
            )

    survey = []
    for browser in BROWSERS:
        if not supported(browser, platform):
            continue
        native = any(
            _in_use(expand(d, home, environ)) for d in browser.config_dirs.get(platform, ())
        )
        snap = platform == "linux" and any(
            (home / "snap" / name).is_dir() for name in browser.snap_names
        )
        if platform != "win32":
            for name in browser.executables:
                path = which(name)
                if path and platform == "linux" and snap_executable(path):
                    snap = True
                elif path:
                    native = True
        native = native or (platform == "darwin" and any(map(app_exists, browser.mac_apps)))
        flatpak = platform == "linux" and any(
            (home / ".var" / "app" / app_id).is_dir() for app_id in browser.flatpak_ids
        )
        survey.append(Found(browser, native, snap, flatpak))
    return survey


def detect_browsers(
    home: Path,
    which: Callable[[str], str | None] = shutil.which,
    platform: str | None = None,
    environ: Mapping[str, str] | None = None,
    app_exists: Callable[[str], bool] | None = None,
    snap_executable: Callable[[str], bool] = is_snap_executable,
) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """Browsers to register, the others with the reason each is skipped, and notes.

    A browser found only as a Flatpak or Snap is registered where its sandbox can reach the
    helper (Firefox, through the desktop's portal), or skipped with the reason.
    """
    found, skipped, notes = [], [], []
    for item in survey_browsers(home, which, platform, environ, app_exists, snap_executable):
        browser = item.browser
        if browser.key == "firefox" and (item.snap or item.flatpak):
            notes.append(SNAP_FIREFOX_NOTE if item.snap else FLATPAK_FIREFOX_NOTE)
            found.append(browser.key)
        elif item.native:
            found.append(browser.key)
        elif item.snap or item.flatpak:
            reason = SANDBOXED_REASON.format(name=browser.name, kind=item.sandbox())
            skipped.append((browser.key, reason))
        else:
            skipped.append((browser.key, f"{browser.name} was not found"))
        if item.native and browser.key != "firefox" and (item.snap or item.flatpak):
            notes.append(
                f"{browser.name} is also installed as a {item.sandbox()}: that copy cannot "
                "start the helper; use the one from your distribution's package"
            )
    return found, skipped, notes
