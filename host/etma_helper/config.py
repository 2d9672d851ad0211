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

# The folders and the raw file live in app_dirs (light, for the hello answer); named here too.
from .app_dirs import (  # noqa: F401 - part of this module's interface
    APP,
    config_path,
    default_download_root,
    download_root_in,
    log_path,
    read_settings_file,
)

log = logging.getLogger(__name__)


MiB = 1024**2
GiB = 1024**3
# Limits on talking to eTMA and on what it may send: name -> (default, lowest, highest allowed).
# A value in the settings file outside its range (or not a number, or a boolean) is ignored with
# a warning, and the default is used.
LIMITS: dict[str, tuple[float, float, float]] = {
    # seconds to open a connection to eTMA
    "connect_timeout": (10, 1, 120),
    # seconds eTMA may stay silent (between bytes) before a request is retried
    "read_timeout": (60, 1, 600),
    # seconds a whole page (search form, student page) may take, retries included
    "page_deadline": (120, 5, 3600),
    # seconds a whole zip download may take
    "download_deadline": (1800, 30, 86400),
    # bytes one page may hold: ASP pages carry a __VIEWSTATE of hundreds of KB, so keep room
    "max_page_bytes": (8 * MiB, 256 * 1024, 256 * MiB),
    # bytes one student's zip may hold (eTMA's files are at most 5 MB each by default)
    "max_download_bytes": (GiB, MiB, 16 * GiB),
    # bytes one student's zip may unpack to
    "max_unpacked_bytes": (GiB, MiB, 16 * GiB),
}
INTEGER_LIMITS = frozenset({"max_page_bytes", "max_download_bytes", "max_unpacked_bytes"})
#: Students fetched at once: (default, lowest, highest allowed).
CONCURRENCY = (4, 1, 16)


def number_problem(name: str, value: object) -> str | None:
    """Why ``value`` cannot be the numeric setting ``name``, or None if its type is right.

    JSON's ``true`` arrives as Python's ``True``, which is an ``int``: refused by name, like
    any other value that is not a number (or not a whole number, where one is needed).
    """
    whole = name == "concurrency" or name in INTEGER_LIMITS
    if isinstance(value, bool) or not isinstance(value, (int,) if whole else (int, float)):
        return f"{name} must be a {'whole number' if whole else 'number'}, not {value!r}"
    return None


def _limit(values: dict, name: str) -> float:
    """The setting ``name`` from the file if it is a number in range, else its default."""
    default, low, high = LIMITS[name]
    value = values.get(name, default)
    if number_problem(name, value) or not low <= value <= high:
        log.warning("%s %r is not a number in %g-%g; using %g", name, value, low, high, default)
        return default
    return value


@dataclass(frozen=True)
class Settings:
    """What the user configured, with defaults filled in."""

    download_root: Path
    concurrency: int = CONCURRENCY[0]
    profile: Path | None = None  # the user's site profile (JSON); None = the built-in one
    # Limits (see LIMITS for what each means and its allowed range)
    read_timeout: float = LIMITS["read_timeout"][0]
    connect_timeout: float = LIMITS["connect_timeout"][0]
    page_deadline: float = LIMITS["page_deadline"][0]
    download_deadline: float = LIMITS["download_deadline"][0]
    max_page_bytes: int = int(LIMITS["max_page_bytes"][0])
    max_download_bytes: int = int(LIMITS["max_download_bytes"][0])
    max_unpacked_bytes: int = int(LIMITS["max_unpacked_bytes"][0])

    def __post_init__(self) -> None:
        """Refuse a numeric setting that is not a number (a boolean above all), naming it.

        Ranges are checked where values come from the user (the settings file, the settings
        action, the command line); settings made in code may go lower, as tests do.
        """
        for name in ("concurrency", *LIMITS):
            problem = number_problem(name, getattr(self, name))
            if problem:
                raise ValueError(problem)

    @classmethod
    def load(cls) -> Settings:
        """Read the settings file; a missing file means defaults, a broken one is logged."""
        values = read_settings_file(config_path())
        default, low, high = CONCURRENCY
        concurrency = values.get("concurrency", default)
        if number_problem("concurrency", concurrency) or not low <= concurrency <= high:
            log.warning(
                "concurrency %r is not a whole number in %d-%d; using %d",
                concurrency,
                low,
                high,
                default,
            )
            concurrency = default
        profile = values.get("profile")
        if profile is not None and not (isinstance(profile, str) and profile.strip()):
            log.warning("profile %r is not a file path; using the built-in site profile", profile)
            profile = None
        return cls(
            **{name: _limit(values, name) for name in LIMITS},
            download_root=download_root_in(values),
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
        for name, (default, _, _) in LIMITS.items():
            if getattr(self, name) != default:
                data[name] = getattr(self, name)
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        return path
