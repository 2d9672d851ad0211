"""The doctor: is the helper installed, registered and answering, and if not, what to do.

It reads the install receipt (what install.py wrote), checks the virtual environment's Python,
the launcher and every browser registration (manifest file, and registry key on Windows), then
starts the launcher exactly as each browser would - Chromium passes the extension's origin,
Firefox the manifest's path and the add-on id - and sends a real framed ``hello`` and
``settings`` request. Then it looks at the machine as the installer does: every browser on it
that cannot reach the helper (installed after it, or in a Snap or Flatpak sandbox), what a
managed PC's policies allow (NativeMessagingUserLevelHosts, NativeMessagingBlocklist and
Allowlist, from the Linux policy folders, the Windows registry or macOS managed preferences),
and an older manifest in a place a browser reads before this install's. Each problem comes with
the command that fixes it, in words a tutor can follow.

Standard library only, and of the package it imports only modules that are too (identity,
locations, framing): ``install.py --doctor`` imports it from the clone, so it works when the
helper's venv is broken or gone. ``etma-helper doctor`` runs the same code from the venv. Where an
install lives is install.py's own answer (``locations``), for the platform its receipt names.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import plistlib
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import PROTOCOL_VERSION
from .framing import FrameTooLarge, TruncatedFrame, frame, read_frames
from .identity import CHROMIUM_EXTENSION_ID, FIREFOX_EXTENSION_ID, HOST_NAME
from .locations import (
    BROWSERS_BY_KEY,
    FLATPAK_FIREFOX_NOTE,
    RECEIPT_NAME,
    SANDBOXED_REASON,
    SNAP_FIREFOX_NOTE,
    SYSTEM,
    USER,
    Browser,
    Found,
    current_platform,
    launcher_path,
    launcher_text,
    shell_word,
    survey_browsers,
    system_manifest_dirs,
    user_manifest_dirs,
    venv_python,
)
from .locations import installer_command as _installer_command

HELLO_TIMEOUT = 10.0

OK, PROBLEM, NOTE = "ok", "PROBLEM", "note"


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, what was found, and how to fix it."""

    subject: str
    status: str
    detail: str
    fix: str = ""


@dataclass
class Report:
    """Every check the doctor made for one install."""

    prefix: Path
    checks: list[Check] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """No problem found."""
        return all(check.status != PROBLEM for check in self.checks)

    def add(self, subject: str, status: str, detail: str, fix: str = "") -> None:
        self.checks.append(Check(subject, status, detail, fix))


@dataclass(frozen=True)
class Extension:
    """The extension next to install.py: its ids and version (or the built-in ids)."""

    chromium_id: str
    firefox_id: str
    version: str | None
    manifest: Path | None


def chromium_id_from_key(key: str) -> str:
    """Chromium's extension id for a manifest `key`: sha256 of the DER key, hex mapped to a-p."""
    digest = hashlib.sha256(base64.b64decode(key)).hexdigest()[:32]
    return "".join(chr(ord("a") + int(digit, 16)) for digit in digest)


def read_extension(repo: Path | None) -> Extension:
    """The ids and version of the extension in `repo/extension`, when there is one."""
    manifest = repo / "extension" / "manifest.json" if repo else None
    try:
        data = json.loads(manifest.read_text(encoding="utf-8")) if manifest else None
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict):
        return Extension(CHROMIUM_EXTENSION_ID, FIREFOX_EXTENSION_ID, None, None)
    chromium_id = CHROMIUM_EXTENSION_ID
    if isinstance(data.get("key"), str):
        try:
            chromium_id = chromium_id_from_key(data["key"])
        except ValueError:
            pass
    gecko = data.get("browser_specific_settings", {}).get("gecko", {})
    firefox_id = gecko.get("id") if isinstance(gecko.get("id"), str) else FIREFOX_EXTENSION_ID
    return Extension(chromium_id, firefox_id, data.get("version"), manifest)


def caller_args(family: str, manifest: Path, extension: Extension) -> list[str]:
    """The arguments a browser passes the host: an origin (Chromium) or manifest + id (Firefox)."""
    if family == "firefox":
        return [str(manifest), extension.firefox_id]
    return [f"chrome-extension://{extension.chromium_id}/"]


def parse_frames(data: bytes) -> list[dict]:
    """The messages in a host's output; raises ValueError on anything that is not a frame."""
    try:
        payloads = read_frames(data)
    except (TruncatedFrame, FrameTooLarge) as error:
        raise ValueError(f"{error} (is something printing to standard output?)") from error
    return [json.loads(payload.decode("utf-8")) for payload in payloads]


def installer_command(
    prefix: Path,
    receipt: Mapping,
    repo: Path | None,
    home: Path | None = None,
    environ: Mapping[str, str] | None = None,
    extra: tuple[str, ...] = (),
) -> str:
    """The install.py command that repairs the install in `prefix`, quoted for the shell of the
    receipt's platform: with its scope, `extra` arguments, and `--prefix` only when `prefix` is
    not where install.py would put it there (see locations.installer_command)."""
    platform = receipt.get("platform") or current_platform()
    scope = SYSTEM if receipt.get("scope") == SYSTEM else USER
    return _installer_command(repo, platform, scope, prefix, home, environ, extra)


@dataclass(frozen=True)
class Conversation:
    """What the host said to a hello and a settings request, or why it said nothing."""

    replies: dict[str, dict]
    error: str = ""
    seconds: float = 0.0


def talk_to_host(command: list[str], timeout: float = HELLO_TIMEOUT) -> Conversation:
    """Start the host as a browser would, send hello and settings, and read the replies."""
    requests = [
        {
            "id": "doctor",
            "action": "hello",
            "protocol": PROTOCOL_VERSION,
            "extension_version": "doctor",
        },
        {"id": "doctor-settings", "action": "settings"},
    ]
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=str(Path(command[0]).parent),  # browsers start the host in its own folder
        )
    except OSError as error:
        return Conversation({}, f"cannot start it: {error.strerror or error}")
    try:
        out, err = process.communicate(b"".join(map(frame, requests)), timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return Conversation({}, f"no answer within {timeout:g} s")
    seconds = time.monotonic() - started
    try:
        messages = parse_frames(out)
    except ValueError as error:
        return Conversation({}, f"its output is not native messaging: {error}", seconds)
    replies = {m.get("id"): m for m in messages if isinstance(m, dict)}
    if "doctor" not in replies:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        error = f"it exited with status {process.returncode} without answering"
        if messages and messages[0].get("status") == "error":
            error = f"it refused: {messages[0].get('message')}"
        elif tail[0]:
            error += f" ({tail[0][-240:]})"
        return Conversation(replies, error, seconds)
    return Conversation(replies, "", seconds)


def read_registry_default(hive: str, key: str) -> str | None:
    """The default value of a registry key on Windows, or None when it is missing."""
    return read_registry_values(hive, key).get("")


def read_registry_values(hive: str, key: str) -> dict[str, object]:
    """Every value of a registry key on Windows by name ("" is the default); {} when missing."""
    try:
        import winreg
    except ImportError:  # not Windows
        return {}
    root = {"HKCU": winreg.HKEY_CURRENT_USER, "HKLM": winreg.HKEY_LOCAL_MACHINE}[hive]
    values: dict[str, object] = {}
    try:
        with winreg.OpenKey(root, key) as handle:
            index = 0
            while True:
                try:
                    name, value, _ = winreg.EnumValue(handle, index)
                except OSError:
                    break
                values[name] = value
                index += 1
    except OSError:
        return {}
    return values


# --- The checks ----------------------------------------------------------------------------


def _check_python(report: Report, python: Path, install: str) -> bool:
    if not python.exists():
        report.add(
            "venv Python",
            PROBLEM,
            f"the Python in the helper's venv is gone ({python})",
            f"reinstall: {install} (it rebuilds the venv)",
        )
        return False
    probe = subprocess.run(
        [
            str(python),
            "-c",
            "import sys, etma_helper; print(sys.version.split()[0], etma_helper.__version__)",
        ],
        capture_output=True,
        text=True,
        timeout=HELLO_TIMEOUT,
    )
    if probe.returncode != 0:
        report.add(
            "venv Python",
            PROBLEM,
            f"{python} cannot import the helper: {probe.stderr.strip().splitlines()[-1:]}",
            f"reinstall: {install}",
        )
        return False
    python_version, helper_version = probe.stdout.split()
    report.add("venv Python", OK, f"{python} (Python {python_version}, helper {helper_version})")
    return True


def _check_store_python(report: Report, prefix: Path, platform: str, repo: Path | None) -> None:
    """An install made with the Microsoft Store's Python: its files under AppData went to the
    Store's private copy, which browsers never see, however healthy it looks from here."""
    if platform != "win32":
        return
    try:
        config = (prefix / "venv" / "pyvenv.cfg").read_text(encoding="utf-8")
    except OSError:
        return
    made_by = next(
        (
            line.partition("=")[2].strip()
            for line in config.splitlines()
            if "=" in line and line.partition("=")[0].strip() == "home"
        ),
        "",
    )
    if "windowsapps" in made_by.lower():
        report.add(
            "venv Python",
            PROBLEM,
            f"the helper was installed with the Microsoft Store's Python ({made_by}): browsers "
            "cannot see the files it wrote in your AppData folder",
            "install Python from https://www.python.org/downloads/windows/, then: "
            + _installer_command(repo, platform),
        )


def _check_launcher(
    report: Report, launcher: Path, python: Path, install: str, platform: str
) -> bool:
    if not launcher.is_file():
        report.add("launcher", PROBLEM, f"{launcher} is missing", f"reinstall: {install}")
        return False
    if os.name != "nt" and not os.access(launcher, os.X_OK):
        report.add(
            "launcher",
            PROBLEM,
            f"{launcher} is not executable (browsers report 'Native host has exited')",
            f"chmod +x {shell_word(str(launcher), platform)}, or reinstall: {install}",
        )
        return False
    if launcher.read_bytes() != launcher_text(python, platform).encode("utf-8"):
        report.add(
            "launcher",
            PROBLEM,
            f"{launcher} does not start the venv's Python {python}",
            f"reinstall: {install}",
        )
        return False
    report.add("launcher", OK, f"{launcher} (executable, starts {python})")
    return True


def _check_manifest(
    report: Report,
    label: str,
    family: str,
    manifest_path: Path,
    launcher: Path,
    extension: Extension,
    install: str,
) -> str | None:
    """Check one host manifest; return the launcher path it names when it is usable."""
    if not manifest_path.is_file():
        report.add(
            label,
            PROBLEM,
            f"no host manifest at {manifest_path} (browsers report 'Specified native messaging "
            "host not found' / 'No such native application')",
            f"register again: {install}",
        )
        return None
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        path = manifest["path"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        report.add(
            label,
            PROBLEM,
            f"{manifest_path} is not a host manifest ({error})",
            f"register again: {install}",
        )
        return None
    problems = []
    if manifest.get("name") != HOST_NAME:
        problems.append(f"names host {manifest.get('name')!r}, not {HOST_NAME!r}")
    if not os.path.isabs(path):
        problems.append(f"names a relative launcher path {path!r} (browsers refuse it)")
    elif not Path(path).exists():
        problems.append(f"names launcher {path}, which does not exist")
    elif Path(path) != launcher:
        problems.append(f"names launcher {path}, not the installed {launcher}")
    if family == "firefox":
        allowed, wanted = manifest.get("allowed_extensions") or [], extension.firefox_id
        if wanted not in allowed:
            problems.append(
                f"names add-on id {', '.join(allowed) or 'none'}; this extension is {wanted}"
            )
    else:
        allowed = manifest.get("allowed_origins") or []
        wanted = f"chrome-extension://{extension.chromium_id}/"
        if wanted not in allowed:
            named = ", ".join(o.removeprefix("chrome-extension://").rstrip("/") for o in allowed)
            problems.append(
                f"names extension id {named or 'none'}; this extension is "
                f"{extension.chromium_id} (browsers report 'Access to the specified native "
                "messaging host is forbidden')"
            )
    if problems:
        report.add(
            label,
            PROBLEM,
            f"{manifest_path} " + "; ".join(problems),
            f"run the installer again: {install}",
        )
        return None
    report.add(label, OK, f"{manifest_path}")
    return path


def _check_download_root(report: Report, settings: dict) -> None:
    root = Path(settings.get("download_root", ""))
    where = f"(from {settings.get('settings_file', 'the defaults')})"
    change = "choose another with: etma-helper config --download-root DIR"
    existing = root
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    writable = os.access(existing, os.W_OK | os.X_OK)
    if existing == root and not root.is_dir():
        report.add(
            "download folder",
            PROBLEM,
            f"{root} {where} is not a folder",
            f"remove or rename the file {root}, or {change}",
        )
    elif not writable:
        report.add(
            "download folder",
            PROBLEM,
            f"{root} {where} is not writable"
            + ("" if existing == root else f" ({existing} is not)"),
            f"chmod u+rwx '{existing}', or {change}",
        )
    elif existing == root:
        report.add("download folder", OK, f"{root} {where} exists and is writable")
    else:
        report.add("download folder", OK, f"{root} {where} will be created in {existing}")


def diagnose(
    prefix: Path,
    repo: Path | None = None,
    registry_reader: Callable[[str, str], str | None] | None = None,
    timeout: float = HELLO_TIMEOUT,
    machine: Machine | None = None,
) -> Report:
    """Check the install in `prefix` and return the report (see the module docstring).

    `machine` is where to look for browsers, policies and older manifests (this computer by
    default); `registry_reader` reads a key's default value on Windows."""
    report = Report(prefix)
    receipt_path = prefix / RECEIPT_NAME
    installer = _installer_command(repo, current_platform(sys.platform))
    try:
        receipt = json.loads(receipt_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        report.add(
            "install",
            PROBLEM,
            f"no eTMA Helper installation in {prefix}",
            f"install it: {installer} (or pass the --prefix you installed with)",
        )
        return report
    except (OSError, ValueError) as error:
        report.add(
            "install", PROBLEM, f"{receipt_path} is unreadable ({error})", f"reinstall: {installer}"
        )
        return report
    repo = repo or (Path(receipt["repo"]) if receipt.get("repo") else None)
    install = installer_command(prefix, receipt, repo)
    platform = receipt.get("platform") or current_platform()
    python = Path(receipt.get("python", venv_python(prefix, platform)))
    launcher = Path(receipt.get("launcher", launcher_path(prefix, platform)))
    extension = read_extension(repo)
    scope = receipt.get("scope", USER)
    where = f"{prefix} ({scope} install)"
    if scope == SYSTEM and platform == "win32":
        where += "; run the commands below from an administrator prompt"
    report.add("install", OK, where)
    _check_store_python(report, prefix, platform, repo)
    _check_python(report, python, install)
    _check_launcher(report, launcher, python, install, platform)

    registrations = receipt.get("registrations", [])
    if not registrations:
        report.add(
            "browsers",
            PROBLEM,
            "the helper is registered with no browser",
            f"name one: {install} --browser chromium (or firefox, chrome, edge, ...)",
        )
    settings: dict | None = None
    helper_version = None
    for entry in registrations:
        label, family = entry["label"], entry["family"]
        manifest_path = Path(entry["manifest"])
        if entry.get("registry"):
            hive, key = entry["registry"].split("\\", 1)
            reader = registry_reader or read_registry_default
            value = reader(hive, key)
            if value is None:
                report.add(
                    f"{label} registry",
                    PROBLEM,
                    f"registry key {entry['registry']} is missing",
                    f"register again: {install}",
                )
                continue
            if Path(value) != manifest_path:
                report.add(
                    f"{label} registry",
                    PROBLEM,
                    f"{entry['registry']} names {value}, not {manifest_path}",
                    f"register again: {install}",
                )
                continue
            report.add(f"{label} registry", OK, f"{entry['registry']} = {value}")
        path = _check_manifest(report, label, family, manifest_path, launcher, extension, install)
        if path is None:
            continue
        conversation = talk_to_host([path, *caller_args(family, manifest_path, extension)], timeout)
        hello = conversation.replies.get("doctor", {})
        if conversation.error or hello.get("status") != "ok":
            detail = conversation.error or f"it answered {hello.get('message', hello)}"
            report.add(
                f"{label} hello",
                PROBLEM,
                f"started as {label} would, the helper failed: {detail}",
                f"see the checks above; then reinstall: {install}",
            )
            continue
        helper_version = hello.get("version")
        protocol = hello.get("data", {}).get("protocol")
        report.add(
            f"{label} hello",
            OK,
            f"helper {helper_version} answered (protocol {protocol}, {conversation.seconds:.2f} s)",
        )
        reply = conversation.replies.get("doctor-settings", {})
        if settings is None and reply.get("status") == "ok":
            settings = reply.get("data", {})

    if extension.version is None:
        report.add(
            "versions",
            NOTE,
            f"helper {helper_version or 'unknown'}; no extension/"
            "manifest.json next to install.py to compare with",
        )
    elif helper_version and helper_version != extension.version:
        report.add(
            "versions",
            NOTE,
            f"helper {helper_version}, extension {extension.version}: they differ",
            f"install both from the same clone: {install}, then reload the extension",
        )
    else:
        report.add(
            "versions",
            OK,
            f"helper {helper_version or 'unknown'}, extension "
            f"{extension.version} ({extension.manifest})",
        )
    if settings is not None:
        _check_download_root(report, settings)
    machine = machine or Machine()
    if registry_reader is not None and machine.registry_values is read_registry_values:
        machine = Machine(**{**machine.__dict__, "registry_values": _values_of(registry_reader)})
    if platform == current_platform(machine.platform):
        _check_machine(report, receipt, prefix, repo, machine)
    return report


# --- The machine: browsers, policies, older manifests --------------------------------------


def _proxy_installed() -> bool:
    """Whether xdg-native-messaging-proxy, through which a Flatpak Firefox reaches helpers, is
    installed (Debian, Fedora and Arch put it in one of these folders)."""
    folders = ("/usr/libexec", "/usr/lib", "/usr/lib/xdg-native-messaging-proxy", "/usr/bin")
    return shutil.which("xdg-native-messaging-proxy") is not None or any(
        Path(folder, "xdg-native-messaging-proxy").is_file() for folder in folders
    )


@dataclass(frozen=True)
class Machine:
    """Where the doctor looks, beyond the install: this computer unless a test says otherwise.

    `root` is where the Linux policy folders and macOS managed preferences are found."""

    home: Path = field(default_factory=Path.home)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    platform: str = sys.platform
    which: Callable[[str], str | None] = shutil.which
    app_exists: Callable[[str], bool] | None = None
    root: Path = Path("/")
    registry_values: Callable[[str, str], dict[str, object]] = read_registry_values
    proxy_installed: Callable[[], bool] = _proxy_installed
    user: str = field(default_factory=lambda: os.environ.get("USER", ""))

    def survey(self) -> list[Found]:
        return survey_browsers(
            self.home,
            self.which,
            current_platform(self.platform),
            self.environ,
            self.app_exists,
        )


def _values_of(default_reader: Callable[[str, str], str | None]):
    def values(hive: str, key: str) -> dict[str, object]:
        value = default_reader(hive, key)
        return {} if value is None else {"": value}

    return values


def _places(browser: Browser, scope: str, platform: str, machine: Machine) -> list[str]:
    """Where the installer registers `browser` for `scope`: manifest paths, or registry keys."""
    if platform == "win32":
        hive = "HKLM" if scope == SYSTEM else "HKCU"
        return [f"{hive}\\{key}\\{HOST_NAME}" for key in browser.registry_keys]
    if scope == SYSTEM:
        folders = system_manifest_dirs(browser, platform)
    else:
        folders = user_manifest_dirs(browser, machine.home, platform, machine.environ)
    return [str(folder / f"{HOST_NAME}.json") for folder in folders]


def _check_machine(
    report: Report, receipt: Mapping, prefix: Path, repo: Path | None, machine: Machine
) -> None:
    """Every browser on the machine that cannot reach the helper, the policies of a managed
    PC, and older manifests read before this install's."""
    platform = receipt.get("platform") or current_platform()
    scope = SYSTEM if receipt.get("scope") == SYSTEM else USER
    registrations = receipt.get("registrations", [])
    registered = {e.get("registry") or e.get("manifest") for e in registrations}
    present = []
    for found in machine.survey():
        browser = found.browser
        if not found.present:
            continue
        present.append(browser)
        if not found.reachable:
            kind = found.sandbox()
            report.add(
                f"{browser.name} ({kind})",
                PROBLEM,
                SANDBOXED_REASON.format(name=browser.name, kind=kind).split(". Install")[0],
                f"install {browser.name} from your distribution's or the vendor's .deb/.rpm "
                "package (or use Firefox for eTMA), then run: "
                + installer_command(prefix, receipt, repo, extra=("--browser", browser.key)),
            )
            continue
        if not registered.intersection(_places(browser, scope, platform, machine)):
            fix = installer_command(prefix, receipt, repo, extra=("--browser", browser.key))
            if scope == SYSTEM and not _places(browser, scope, platform, machine):
                fix = _installer_command(repo, platform, USER, extra=("--browser", browser.key))
                fix += " (it has no folder for every user; install it for yourself)"
            report.add(
                browser.name,
                PROBLEM,
                f"{browser.name} is on this computer but the helper is not registered with it "
                "(installed after the helper?): there the extension would say the helper is "
                "missing ('Specified native messaging host not found')",
                f"register it: {fix}",
            )
            continue
        if browser.key == "firefox" and not found.native:
            if found.snap:
                report.add("Firefox (Snap)", NOTE, SNAP_FIREFOX_NOTE)
            elif machine.proxy_installed():
                report.add("Firefox (Flatpak)", NOTE, FLATPAK_FIREFOX_NOTE)
            else:
                report.add(
                    "Firefox (Flatpak)",
                    PROBLEM,
                    "Firefox is a Flatpak, and this computer lacks xdg-native-messaging-proxy, "
                    "the service through which a Flatpak Firefox (157 or later) starts helpers",
                    "install your distribution's xdg-native-messaging-proxy package, then run "
                    "systemctl --user enable --now xdg-native-messaging-proxy.service and "
                    "restart Firefox; or install Firefox from your distribution's package",
                )
    registered_keys = [e.get("browser") for e in registrations]
    checked = {b.key: b for b in present}
    checked.update({k: BROWSERS_BY_KEY[k] for k in registered_keys if k in BROWSERS_BY_KEY})
    for browser in checked.values():
        _check_policies(report, browser, scope, platform, prefix, receipt, repo, machine)
    if scope == SYSTEM:
        for key in dict.fromkeys(registered_keys):
            if key in BROWSERS_BY_KEY:
                _check_read_first(report, BROWSERS_BY_KEY[key], platform, prefix, machine)


@dataclass(frozen=True)
class Policies:
    """The native-messaging policies a managed PC sets for one browser, and where they are."""

    user_level: bool | None = None  # NativeMessagingUserLevelHosts
    blocklist: tuple[str, ...] = ()
    allowlist: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()


def _policy_list(value: object) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(str(item) for item in value)
    if isinstance(value, dict):  # the Windows registry: values named 1, 2, ...
        return tuple(str(item) for item in value.values())
    return ()


def _merge(found: list[tuple[str, Mapping]]) -> Policies:
    """Policies from several sources, the first that sets each one winning (machine-wide
    before per-user, as Chromium ranks them)."""
    user_level = None
    blocklist: tuple[str, ...] = ()
    allowlist: tuple[str, ...] = ()
    sources = []
    for source, values in found:
        named = False
        if user_level is None and "NativeMessagingUserLevelHosts" in values:
            user_level, named = bool(values["NativeMessagingUserLevelHosts"]), True
        if not blocklist and values.get("NativeMessagingBlocklist"):
            blocklist, named = _policy_list(values["NativeMessagingBlocklist"]), True
        if not allowlist and values.get("NativeMessagingAllowlist"):
            allowlist, named = _policy_list(values["NativeMessagingAllowlist"]), True
        if named:
            sources.append(source)
    return Policies(user_level, blocklist, allowlist, tuple(sources))


def read_policies(browser: Browser, platform: str, machine: Machine) -> Policies:
    """The native-messaging policies set for `browser` on this machine (Chromium family)."""
    found: list[tuple[str, Mapping]] = []
    if platform == "linux":
        for folder in browser.policy_dirs:
            place = machine.root / folder.lstrip("/")
            for file in sorted(place.glob("*.json")) if place.is_dir() else []:
                try:
                    values = json.loads(file.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    continue
                if isinstance(values, dict):
                    found.append((str(file), values))
    elif platform == "darwin" and browser.policy_domain:
        managed = machine.root / "Library" / "Managed Preferences"
        for file in (
            managed / f"{browser.policy_domain}.plist",
            managed / machine.user / f"{browser.policy_domain}.plist",
        ):
            try:
                values = plistlib.loads(file.read_bytes())
            except (OSError, ValueError, plistlib.InvalidFileException):
                continue
            if isinstance(values, dict):
                found.append((str(file), values))
    elif platform == "win32" and browser.policy_key:
        for hive in ("HKLM", "HKCU"):
            key = browser.policy_key
            values = dict(machine.registry_values(hive, key))
            for name in ("NativeMessagingBlocklist", "NativeMessagingAllowlist"):
                listed = machine.registry_values(hive, f"{key}\\{name}")
                if listed:
                    values[name] = listed
            if values:
                found.append((f"{hive}\\{key}", values))
    return _merge(found)


def _check_policies(
    report: Report,
    browser: Browser,
    scope: str,
    platform: str,
    prefix: Path,
    receipt: Mapping,
    repo: Path | None,
    machine: Machine,
) -> None:
    policies = read_policies(browser, platform, machine)
    if not policies.sources:
        return
    where = ", ".join(policies.sources)
    subject = f"{browser.name} policy"
    blocked = "*" in policies.blocklist or HOST_NAME in policies.blocklist
    if blocked and HOST_NAME not in policies.allowlist:
        report.add(
            subject,
            PROBLEM,
            f"this computer is managed, and its policy for {browser.name} blocks helper "
            f"programs such as eTMA Helper (NativeMessagingBlocklist, in {where})",
            f"ask your IT team to add {HOST_NAME} to {browser.name}'s NativeMessagingAllowlist "
            "policy, or use a browser the policy does not cover",
        )
    elif policies.user_level is False and scope == USER:
        system = _installer_command(repo, platform, SYSTEM)
        admin = "from an administrator prompt" if platform == "win32" else "as administrator"
        report.add(
            subject,
            PROBLEM,
            f"this computer is managed, and its policy lets {browser.name} start only helpers "
            f"installed for every user (NativeMessagingUserLevelHosts is off, in {where}); "
            "this install is for you alone",
            f"install for every user, {admin}: {system}; or ask your IT team",
        )
    else:
        report.add(subject, OK, f"the managed policies ({where}) allow {HOST_NAME}")


def _check_read_first(
    report: Report, browser: Browser, platform: str, prefix: Path, machine: Machine
) -> None:
    """A per-user manifest (or HKCU key) of this helper that a browser reads before the
    system-wide one this install wrote, and that leads somewhere else."""
    if platform == "win32":
        ours = [prefix / f"{HOST_NAME}-{browser.family}.json"]
        for place in _places(browser, USER, platform, machine):
            hive, key = place.split("\\", 1)
            value = machine.registry_values(hive, key).get("")
            if isinstance(value, str) and Path(value) not in ours:
                report.add(
                    f"{browser.name} older key",
                    PROBLEM,
                    f"{place} names {value}: {browser.name} reads it before this install's "
                    "key for every user, so it starts that helper (an older install?)",
                    f'remove it: reg delete "{place}" /f',
                )
        return
    launcher = launcher_path(prefix, platform)
    for place in _places(browser, USER, platform, machine):
        path = Path(place)
        try:
            named = json.loads(path.read_text(encoding="utf-8")).get("path")
        except (OSError, ValueError, AttributeError):
            continue
        if named != str(launcher):
            report.add(
                f"{browser.name} older manifest",
                PROBLEM,
                f"{path} names {named}: {browser.name} reads it before this install's manifest "
                "for every user, so it starts that helper (an older install for you alone?)",
                f"remove it: rm {shell_word(str(path), platform)} (or uninstall that install)",
            )


def format_report(report: Report) -> str:
    """The report as a table, each problem followed by its fix."""
    width = max([len(check.subject) for check in report.checks] + [5])
    lines = [f"eTMA Helper doctor: {report.prefix}", f"{'STATUS':8} {'CHECK':{width}}  DETAIL"]
    for check in report.checks:
        lines.append(f"{check.status:8} {check.subject:{width}}  {check.detail}")
        if check.fix:
            lines.append(f"{'':8} {'':{width}}  fix: {check.fix}")
    problems = sum(check.status == PROBLEM for check in report.checks)
    lines.append(
        "Healthy: every registered browser can start the helper."
        if not problems
        else f"{problems} problem{'s' if problems > 1 else ''} found; fix them as shown, then "
        "run the doctor again."
    )
    return "\n".join(lines)


def main(prefix: Path | None = None) -> int:
    """`etma-helper doctor`: check the install this venv belongs to (or `prefix`)."""
    if prefix is None:
        prefix = Path(sys.prefix).resolve().parent  # the venv lives in the install prefix
    report = diagnose(Path(prefix).expanduser().resolve())
    print(format_report(report))  # noqa: T201 - a command-line report
    return 0 if report.healthy else 1
