"""``open``: show the tutor their downloads folder or codes table on the desktop.

Only the helper's own paths can be opened (the download root, a module's or an assignment's
folder, one student's folder in it, an assignment's codes table); the message names a kind of
thing, never a path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from ..config import Settings
from ..errors import ErrorCode, ProtocolError
from ..protocol import normalise_pi, parse_assignment, parse_module
from . import Reply

CODES_TABLES = ("confirmation_codes.xlsx", "confirmation_codes.csv")


def _newest_codes_table(folder: Path) -> Path:
    """The assignment's codes table; for a whole module, the newest of its assignments'."""
    tables = [folder / name for name in CODES_TABLES]
    tables += [sub / name for sub in sorted(folder.glob("*/")) for name in CODES_TABLES]
    found = [table for table in tables if table.is_file()]
    if not found:
        return folder / CODES_TABLES[1]
    return max(found, key=lambda table: (table.stat().st_mtime, table.suffix == ".xlsx"))


def _target(what: object, module: object, assignment: object = None, pi: object = None) -> Path:
    root = Settings.load().download_root
    if module is not None:
        root = root / parse_module(module)
        if assignment:
            root = root / parse_assignment(assignment)
    if what == "folder":
        if pi is None:
            return root
        if module is None or not assignment:
            raise ProtocolError(
                ErrorCode.INVALID_FIELD,
                "Say which module and assignment the student's folder is in.",
                field="assignment",
            )
        try:
            if not isinstance(pi, str):
                raise ValueError(pi)
            return root / normalise_pi(pi)
        except ValueError:
            raise ProtocolError(
                ErrorCode.INVALID_FIELD, "'pi' is not a personal identifier.", field="pi"
            ) from None
    if what == "codes":
        if module is None:
            raise ProtocolError(
                ErrorCode.INVALID_FIELD, "Say which module's codes to open.", field="module"
            )
        return _newest_codes_table(root)
    raise ProtocolError(
        ErrorCode.INVALID_FIELD, '\'what\' must be "folder" or "codes".', field="what"
    )


def _opener(path: Path) -> list[str] | None:
    if sys.platform == "darwin":
        return ["open", str(path)]
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        program = shutil.which("xdg-open")
        return [program, str(path)] if program else None
    return None


def handle(host, message: dict) -> Reply:
    path = _target(
        message.get("what"), message.get("module"), message.get("assignment"), message.get("pi")
    )
    if not path.exists():
        raise ProtocolError(ErrorCode.NOT_FOUND, f"There is nothing at {path} yet.", path=str(path))
    if sys.platform == "win32":
        os.startfile(path)  # noqa: S606 - the helper's own path, never one from the message
        return Reply({"opened": str(path)})
    command = _opener(path)
    if command is None:
        raise ProtocolError(
            ErrorCode.CANNOT_OPEN,
            f"This computer has no program set to open it; it is at {path}.",
            path=str(path),
        )
    subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return Reply({"opened": str(path)})
