"""``settings``: read the helper's own settings, or check and change them.

The download root is where every later job writes, so a new one is accepted only inside the
user's home folder and only once the helper has shown it can create and write it.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from ..config import CONCURRENCY, Settings, config_path, number_problem
from ..errors import ErrorCode, ProtocolError
from . import Reply, profile_unusable


def _download_root(raw: object) -> Path:
    if not isinstance(raw, str) or not raw.strip():
        raise ProtocolError(
            ErrorCode.INVALID_FIELD, "The download folder must be a path.", field="download_root"
        )
    root = Path(os.path.expanduser(raw.strip()))
    home = Path.home().resolve()
    if not root.is_absolute():
        raise ProtocolError(
            ErrorCode.DOWNLOAD_ROOT_UNUSABLE,
            f"Give the download folder's full path, such as {home / 'eTMA'}.",
            folder=str(root),
        )
    resolved = root.resolve()
    if resolved != home and home not in resolved.parents:
        raise ProtocolError(
            ErrorCode.DOWNLOAD_ROOT_UNUSABLE,
            f"The download folder must be inside your home folder ({home}).",
            folder=str(root),
        )
    try:
        resolved.mkdir(parents=True, exist_ok=True)
        probe = resolved / ".etma-helper-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise ProtocolError(
            ErrorCode.DOWNLOAD_ROOT_UNUSABLE,
            f"Cannot write to {resolved}: {err.strerror}.",
            folder=str(resolved),
        ) from err
    return resolved


def _concurrency(raw: object) -> int:
    _, low, high = CONCURRENCY
    if number_problem("concurrency", raw) or not low <= raw <= high:
        raise ProtocolError(
            ErrorCode.INVALID_FIELD,
            f"Students at once must be {low} to {high}.",
            field="concurrency",
        )
    return raw


def _profile(raw: object) -> Path | None:
    from ..site_profile import ProfileError, SiteProfile

    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise ProtocolError(
            ErrorCode.INVALID_FIELD, "The site profile must be a file path.", field="profile"
        )
    path = Path(os.path.expanduser(raw.strip()))
    try:
        SiteProfile.load(path)
    except ProfileError as err:
        raise profile_unusable(err, path) from err
    return path


CHECKS = {"download_root": _download_root, "concurrency": _concurrency, "profile": _profile}


def handle(host, message: dict) -> Reply:
    settings = Settings.load()
    changes = message.get("set")
    if changes is not None:
        if not isinstance(changes, dict) or not set(changes) <= set(CHECKS):
            raise ProtocolError(
                ErrorCode.INVALID_FIELD, f"'set' may hold only {', '.join(CHECKS)}.", field="set"
            )
        checked = {name: CHECKS[name](value) for name, value in changes.items()}
        settings = dataclasses.replace(settings, **checked)
        settings.save()
    return Reply(
        {
            "download_root": str(settings.download_root),
            "concurrency": settings.concurrency,
            "profile": str(settings.profile) if settings.profile else None,
            "settings_file": str(config_path()),
        }
    )
