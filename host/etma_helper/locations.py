"""Where an install of the helper lives, on Linux, macOS and Windows: the one source.

install.py writes an install to these places and the doctor looks for it there. Standard library
only, with no import but ``identity``: install.py imports it from the clone before anything is
installed, and the doctor runs from the clone when the helper's venv is broken or gone.

(The helper's own settings, ledger and log are found by ``platformdirs``, in config.py and
ledger.py: they are the running helper's, not the installer's.)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from .identity import HOST_NAME

RECEIPT_NAME = "install-receipt.json"
VENV_DIR_NAME = "venv"
PLATFORMS = ("linux", "darwin", "win32")
USER, SYSTEM = "user", "system"


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
    xdg = environ.get("XDG_DATA_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else home / ".local" / "share"
    return base / HOST_NAME


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
