"""The helper's own settings: where files go and how hard to work.

They live in a small JSON file in the user's config folder (platformdirs), never in a message
from the browser, so a web page can never choose where the helper writes.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP = "etma_helper"
log = logging.getLogger(__name__)


def config_path() -> Path:
    """The settings file: e.g. ~/.config/etma_helper/config.json on Linux."""
    return Path(platformdirs.user_config_dir(APP)) / "config.json"


def log_path() -> Path:
    """The helper's log file (never holds cookies)."""
    return Path(platformdirs.user_log_dir(APP)) / "helper.log"


def default_download_root() -> Path:
    """~/Downloads/eTMA, or the platform's downloads folder when it is named otherwise."""
    return Path(platformdirs.user_downloads_dir()) / "eTMA"


@dataclass(frozen=True)
class Settings:
    """What the user configured, with defaults filled in."""

    download_root: Path
    concurrency: int = 4
    profile: Path | None = None  # the user's site profile (JSON); None = the built-in one
    read_timeout: float = 60  # seconds eTMA may stay silent before a request is retried

    @classmethod
    def load(cls) -> Settings:
        """Read the settings file; a missing file means defaults, a broken one is logged."""
        values: dict = {}
        path = config_path()
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as err:
            log.warning("ignoring unreadable settings file %s: %s", path, err)
        root = values.get("download_root")
        concurrency = values.get("concurrency", 4)
        if not isinstance(concurrency, int) or not 1 <= concurrency <= 16:
            log.warning("concurrency %r out of range 1-16; using 4", concurrency)
            concurrency = 4
        profile = values.get("profile")
        if profile is not None and not (isinstance(profile, str) and profile.strip()):
            log.warning("profile %r is not a file path; using the built-in site profile", profile)
            profile = None
        read_timeout = values.get("read_timeout", 60)
        if not isinstance(read_timeout, (int, float)) or not 1 <= read_timeout <= 600:
            log.warning("read_timeout %r out of range 1-600 s; using 60", read_timeout)
            read_timeout = 60
        return cls(
            read_timeout=read_timeout,
            download_root=Path(os.path.expanduser(root)) if root else default_download_root(),
            concurrency=concurrency,
            profile=Path(os.path.expanduser(profile)) if profile else None,
        )

    def save(self) -> Path:
        """Write these settings to the settings file and return its path."""
        path = config_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"download_root": str(self.download_root), "concurrency": self.concurrency}
        if self.profile is not None:
            data["profile"] = str(self.profile)
        if self.read_timeout != 60:
            data["read_timeout"] = self.read_timeout
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        return path
