"""File and folder names that are safe on every OS the helper runs on.

Names come from servers and from inside students' zips: they may try to climb out of their
folder, name a device, or differ from a sibling only in case.
"""

from __future__ import annotations

import re
import unicodedata

WINDOWS_DEVICES = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    "CONIN$",
    "CONOUT$",
    *(f"COM{i}" for i in (*range(1, 10), *"\u00b9\u00b2\u00b3")),
    *(f"LPT{i}" for i in (*range(1, 10), *"\u00b9\u00b2\u00b3")),
}
FORBIDDEN = re.compile(r'[\x00-\x1f<>:"/\\|?*\x7f]')
MAX_COMPONENT = 120


def safe_component(name: str) -> str:
    """One path component, cleaned: no separators, devices, dots-only or trailing dots."""
    name = unicodedata.normalize("NFC", name)
    name = FORBIDDEN.sub("_", name).strip().rstrip(". ")
    if not name or set(name) <= {"."}:
        return "_"
    stem, dot, suffix = name.partition(".")
    # Windows ignores spaces before the extension: "CON .txt" is the console too.
    if stem.rstrip(" ").upper() in WINDOWS_DEVICES:
        name = f"_{name}"
    if len(name.encode("utf-8")) > MAX_COMPONENT:
        stem, dot, suffix = name.rpartition(".")
        suffix = suffix[:16] if dot else ""
        room = MAX_COMPONENT - len(suffix.encode("utf-8")) - 1  # bytes, not characters
        keep = (stem if dot else name).encode("utf-8")[:room]
        name = keep.decode("utf-8", "ignore").rstrip(". ") + (f".{suffix}" if suffix else "")
    return name


def safe_relative_path(raw: str) -> tuple[str, ...]:
    """Split a zip member's name into safe components; parent references and roots dropped."""
    parts = re.split(r"[\\/]+", raw)
    if parts and re.fullmatch(r"[A-Za-z]:", parts[0]):  # a drive letter
        parts = parts[1:]
    return tuple(safe_component(p) for p in parts if p not in ("", ".", ".."))
