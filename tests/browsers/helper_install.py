"""The helper as a user installs it: ``install.py`` run into a private home, registering the
helper with Chromium (for named profile folders, as ``--chromium-profile`` does) and Firefox
(``<home>/.mozilla/native-messaging-hosts/``). The browsers then run with that home's
environment, so the helper they start reads its settings from there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HOST_NAME = "etma_helper"


@dataclass(frozen=True)
class HelperInstall:
    """Where install.py put the helper, and the environment the browsers must run in."""

    home: Path
    prefix: Path
    chromium_profiles: tuple[Path, ...]  # Chromium profile folders the helper is registered in
    download_root: Path
    env: dict[str, str]

    @property
    def config(self) -> Path:
        """The helper's settings file."""
        return self.home / ".config" / "etma_helper" / "config.json"

    def write_config(self) -> None:
        """The helper's settings as the tests start from: this download root, 4 at a time."""
        self.config.parent.mkdir(parents=True, exist_ok=True)
        self.config.write_text(
            json.dumps({"download_root": str(self.download_root), "concurrency": 4})
        )

    def chromium_manifest(self, profile: Path | None = None) -> Path:
        """The helper's registration in a Chromium profile folder."""
        profile = profile or self.chromium_profiles[0]
        return profile / "NativeMessagingHosts" / f"{HOST_NAME}.json"

    @property
    def firefox_manifest(self) -> Path:
        """The helper's registration for Firefox, under this home."""
        return self.home / ".mozilla" / "native-messaging-hosts" / f"{HOST_NAME}.json"


def install_helper(
    home: Path,
    *,
    register: bool = True,
    browsers: Sequence[str] = ("chromium", "firefox"),
    chromium_profiles: Sequence[str] = ("chromium",),
) -> HelperInstall:
    """Run install.py into a private ``home`` exactly as a user would, registering the helper with
    ``browsers``: Chromium in each of the ``chromium_profiles`` folders under ``home``, Firefox
    for that home. ``register=False`` installs nothing: a browser with no helper."""
    prefix, download_root = home / "prefix", home / "Downloads" / "eTMA"
    profiles = tuple(home / name for name in chromium_profiles)
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_STATE_HOME": str(home / ".state"),
        "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache")),
        "RUSTUP_HOME": os.environ.get("RUSTUP_HOME", str(Path.home() / ".rustup")),
    }
    for profile in profiles:
        profile.mkdir(parents=True, exist_ok=True)
    if register:
        where = [f"--chromium-profile={p}" for p in profiles] if "chromium" in browsers else []
        subprocess.run(
            [
                sys.executable,
                str(REPO / "install.py"),
                "--prefix",
                str(prefix),
                "--system-site-packages",
                "--browser",
                ",".join(browsers),
                *where,
            ],
            check=True,
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=280,
        )
    install = HelperInstall(home, prefix, profiles, download_root, env)
    install.write_config()
    return install


def registered_elsewhere(install: HelperInstall, home: Path, **changes) -> HelperInstall:
    """A second home whose browsers find ``install``'s helper through a copy of its registration
    with ``changes`` made (say ``allowed_origins`` naming another extension): the registration
    install.py wrote, then edited, without another install.py run."""
    other = install_helper(home, register=False, chromium_profiles=("chromium",))
    copies = [
        (install.chromium_manifest(), other.chromium_manifest()),
        (install.firefox_manifest, other.firefox_manifest),
    ]
    for source, target in copies:
        if source.exists():
            manifest = json.loads(source.read_text())
            manifest.update({k: v for k, v in changes.items() if k in manifest})
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(manifest))
    return other
