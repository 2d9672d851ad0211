"""The site profile: everything site-specific about an eTMA system, in one JSON file.

The page readers (``etma_pages``) know only generic HTML: forms, labels, table cells. What a given
eTMA calls its fields, which words label the confirmation code and what its login page looks like
come from a profile. The practice sites' profile ships in the package as the default; a user points
the helper at their own file when the real system differs (see docs/SITE_PROFILE.md). A user's
file need only name the keys it changes: the rest keep the built-in values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import Settings

BUILTIN = "practice.json"

# Every key a profile may hold, by section, with what kind of value it takes.
# "regex": a regular expression (matched ignoring case); "text": a string; "name": a string or
# null; "flag": true or false.
SCHEMA: dict[str, dict[str, str]] = {
    "search_page": {"path": "text", "link_words": "regex"},
    "search_form": {
        "module_meaning": "regex",
        "pi_meaning": "regex",
        "module_field": "name",
        "pi_field": "name",
    },
    "student_page": {
        "code_label": "regex",
        "code_token": "regex",
        "no_files": "regex",
        "name_label": "regex",
        "submitted_label": "regex",
        "late_label": "regex",
        "error": "regex",
    },
    "login_page": {"password_field": "flag", "url_words": "regex", "handoff_fields": "regex"},
    "download_form": {"needs_select": "flag", "button_words": "regex"},
}


class ProfileError(ValueError):
    """A site profile that cannot be used; the message names the file and the key.

    A plain error: the edges say it their way (the native host as a site_profile_unusable
    error naming the profile, the command line as a usage message).
    """


def load_profile(settings: Settings) -> SiteProfile:
    """The site profile the helper's settings name, or the built-in one when they name none.

    Raises ProfileError when the file they name cannot be used.
    """
    return SiteProfile.load(settings.profile)


@dataclass(frozen=True)
class SiteProfile:
    """One eTMA system's site-specific facts, with its patterns compiled (all ignore case)."""

    name: str
    source: str
    search_path: str
    search_link_words: re.Pattern[str]
    module_meaning: re.Pattern[str]
    pi_meaning: re.Pattern[str]
    module_field: str | None
    pi_field: str | None
    code_label: re.Pattern[str]
    code_token: re.Pattern[str]
    no_files: re.Pattern[str]
    name_label: re.Pattern[str]
    submitted_label: re.Pattern[str]
    late_label: re.Pattern[str]
    error: re.Pattern[str]
    login_password_field: bool
    login_url_words: re.Pattern[str]
    login_handoff_fields: re.Pattern[str]
    download_needs_select: bool
    download_button_words: re.Pattern[str]

    @classmethod
    def builtin(cls) -> SiteProfile:
        """The profile that ships with the helper (the practice sites')."""
        return _builtin()

    @classmethod
    def load(cls, path: Path | str | None = None) -> SiteProfile:
        """Read and check a profile file; ``None`` means the built-in profile."""
        if path is None:
            return _builtin()
        path = Path(path).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ProfileError(f"site profile {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as err:
            raise ProfileError(f"site profile {path} cannot be read: {err}") from err
        return cls.from_json(text, str(path), base=_builtin_values())

    @classmethod
    def from_json(cls, text: str, source: str, base: dict[str, Any] | None = None) -> SiteProfile:
        """Build a profile from JSON text; keys it leaves out are taken from ``base``."""
        try:
            data = json.loads(text)
        except ValueError as err:
            raise ProfileError(f"site profile {source} is not valid JSON: {err}") from err
        values = _checked(data, source)
        merged = {section: dict(keys) for section, keys in (base or {}).items()}
        for section, keys in values.items():
            merged.setdefault(section, {}).update(keys)
        missing = [
            f"{section}.{key}"
            for section, keys in SCHEMA.items()
            for key in keys
            if key not in merged.get(section, {})
        ]
        if missing:
            raise ProfileError(f"site profile {source} lacks the keys {', '.join(missing)}")
        page, form = merged["search_page"], merged["search_form"]
        student, login, download = (
            merged["student_page"],
            merged["login_page"],
            merged["download_form"],
        )
        return cls(
            name=data.get("name") or Path(source).stem,
            source=source,
            search_path=page["path"],
            search_link_words=page["link_words"],
            module_meaning=form["module_meaning"],
            pi_meaning=form["pi_meaning"],
            module_field=form["module_field"],
            pi_field=form["pi_field"],
            code_label=student["code_label"],
            code_token=student["code_token"],
            no_files=student["no_files"],
            name_label=student["name_label"],
            submitted_label=student["submitted_label"],
            late_label=student["late_label"],
            error=student["error"],
            login_password_field=login["password_field"],
            login_url_words=login["url_words"],
            login_handoff_fields=login["handoff_fields"],
            download_needs_select=download["needs_select"],
            download_button_words=download["button_words"],
        )


def _checked(data: Any, source: str) -> dict[str, dict[str, Any]]:
    """Every known key checked and compiled; unknown keys are errors (they are usually typos)."""
    if not isinstance(data, dict):
        raise ProfileError(f"site profile {source} must be a JSON object")
    if not isinstance(data.get("name", ""), str):
        raise ProfileError(f"profile key 'name' must be a string (in {source})")
    values: dict[str, dict[str, Any]] = {}
    for section, keys in data.items():
        if section.startswith("_") or section == "name":
            continue  # "_…" keys are notes for people
        if section not in SCHEMA:
            known = ", ".join(["name", *SCHEMA])
            raise ProfileError(
                f"profile key '{section}' is not a known section (known: {known}) (in {source})"
            )
        if not isinstance(keys, dict):
            raise ProfileError(f"profile key '{section}' must be a JSON object (in {source})")
        values[section] = {}
        for key, value in keys.items():
            if key.startswith("_"):
                continue
            dotted = f"{section}.{key}"
            kind = SCHEMA[section].get(key)
            if kind is None:
                known = ", ".join(SCHEMA[section])
                raise ProfileError(
                    f"profile key '{dotted}' is not a known key (known: {known}) (in {source})"
                )
            values[section][key] = _value(dotted, kind, value, source)
    return values


def _value(dotted: str, kind: str, value: Any, source: str) -> Any:
    where = f"(in {source})"
    if kind == "flag":
        if not isinstance(value, bool):
            raise ProfileError(f"profile key '{dotted}' must be true or false {where}")
        return value
    if kind == "name":
        if value is None or (isinstance(value, str) and value.strip()):
            return value.strip() if value else None
        raise ProfileError(f"profile key '{dotted}' must be a field name or null {where}")
    if not isinstance(value, str):
        raise ProfileError(f"profile key '{dotted}' must be a string {where}")
    if kind == "text":
        return value
    if not value:
        raise ProfileError(
            f"profile key '{dotted}' must not be empty: it would match anything {where}"
        )
    try:
        return re.compile(value, re.IGNORECASE)
    except re.error as err:
        raise ProfileError(
            f"profile key '{dotted}' is not a valid regular expression: {err} {where}"
        ) from err


def _builtin_text() -> str:
    return (resources.files(__package__) / "profiles" / BUILTIN).read_text(encoding="utf-8")


@cache
def _builtin_values() -> dict[str, Any]:
    return _checked(json.loads(_builtin_text()), BUILTIN)


@cache
def _builtin() -> SiteProfile:
    return SiteProfile.from_json(_builtin_text(), f"built-in {BUILTIN}")
