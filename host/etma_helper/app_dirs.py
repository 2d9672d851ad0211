"""The helper's own folders (platformdirs) and the settings file's raw values.

Kept apart from config.py, and light (no dataclasses), because the browser waits for the answer
to ``hello`` each time it starts the helper: that answer needs the download folder and nothing
else, so it reads it here without building the full :class:`~etma_helper.config.Settings`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs

APP = "etma_helper"


def config_path() -> Path:
    """The settings file: e.g. ~/.config/etma_helper/config.json on Linux."""
    return Path(platformdirs.user_config_dir(APP)) / "config.json"


def log_path() -> Path:
    """The helper's log file (never holds cookies)."""
    return Path(platformdirs.user_log_dir(APP)) / "helper.log"


def default_download_root() -> Path:
    """~/Downloads/eTMA, or the platform's downloads folder when it is named otherwise."""
    return Path(platformdirs.user_downloads_dir()) / "eTMA"


def read_settings_file(path: Path) -> dict:
    """The settings file's JSON object: empty when the file is missing, and empty (with a
    warning in the log) when it cannot be read or does not hold an object."""
    values: object = {}
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as err:
        _warn("ignoring unreadable settings file %s: %s", path, err)
    if not isinstance(values, dict):
        _warn("ignoring settings file %s: it does not hold a JSON object", path)
        values = {}
    return values


def _warn(message: str, *args: object) -> None:
    import logging  # when first needed: the answer to hello does not wait for it

    logging.getLogger(__name__).warning(message, *args)


def download_root_in(values: dict) -> Path:
    """The download folder the settings file's ``values`` name, or the default one."""
    root = values.get("download_root")
    return Path(os.path.expanduser(root)) if root else default_download_root()
