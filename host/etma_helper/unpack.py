"""Unpacking a student's zip without letting it write anywhere else or fill the disk."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .records import FileEntry
from .safe_names import safe_relative_path


class UnsafeZip(Exception):
    """The zip is corrupt, or would write too much; the message says which, for a person."""


BOMB = "The zip is compressed suspiciously well (a zip bomb?); refused."
READ_SIZE = 64 * 1024  # small reads keep the count of compressed bytes consumed close to true


@dataclass(frozen=True)
class ZipLimits:
    """Generous for students' scripts, tight enough to refuse a zip bomb.

    ``max_total_bytes`` bounds what one zip unpacks to (eTMA's files are at most 5 MB each by
    default; 1 GiB is room for hundreds). ``max_ratio`` bounds bytes written per byte of zip,
    once more than ``ratio_applies_above`` bytes were written: judged on the sizes the zip
    declares, then again while unpacking on the bytes actually written against the bytes of the
    archive actually read, per entry and for the whole zip against its size on disk, since
    declared sizes can lie.
    """

    max_total_bytes: int = 1024**3
    max_entries: int = 5000
    max_ratio: int = 200
    ratio_applies_above: int = 1024 * 1024
    max_depth: int = 20


class _CountingFile(io.FileIO):
    """The zip file on disk, counting the bytes read from it (zipfile reads through this)."""

    consumed = 0

    def read(self, size: int = -1) -> bytes:
        data = super().read(size)
        self.consumed += len(data)
        return data


def _too_well_compressed(written: int, consumed: int, limits: ZipLimits) -> bool:
    return written > limits.ratio_applies_above and written > limits.max_ratio * max(consumed, 1)


def _member_name(info: zipfile.ZipInfo) -> str:
    # Without the UTF-8 flag zipfile decodes names as cp437, but many tools (macOS's among them)
    # write UTF-8 names and never set the flag: prefer UTF-8 when the bytes are valid UTF-8.
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except UnicodeError:
        return info.filename


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _unique(relative: tuple[str, ...], taken: set[str]) -> tuple[str, ...]:
    """Rename a member whose path differs from an earlier one only in case."""
    key = "/".join(relative).casefold()
    if key not in taken:
        taken.add(key)
        return relative
    stem, dot, suffix = relative[-1].rpartition(".")
    if not dot:
        stem, suffix = relative[-1], ""
    for n in range(2, 10_000):
        name = f"{stem} ({n}){dot}{suffix}"
        candidate = (*relative[:-1], name)
        key = "/".join(candidate).casefold()
        if key not in taken:
            taken.add(key)
            return candidate
    raise UnsafeZip("The zip holds too many files with the same name.")


def unpack(zip_path: Path, dest: Path, limits: ZipLimits = ZipLimits()) -> list[FileEntry]:
    """Extract ``zip_path`` into ``dest`` (which must be empty or new); say what was written."""
    try:
        source_file = _CountingFile(zip_path, "r")
    except OSError as err:
        raise UnsafeZip("The downloaded file is not a valid zip.") from err
    try:
        archive = zipfile.ZipFile(source_file)
        archive_size = zip_path.stat().st_size
    except (zipfile.BadZipFile, OSError) as err:
        source_file.close()
        raise UnsafeZip("The downloaded file is not a valid zip.") from err
    written: list[FileEntry] = []
    taken: set[str] = set()
    made: set[Path] = set()  # folders already created: one mkdir each, not one per file
    total = 0
    dest_root = dest.resolve()
    with source_file, archive:
        members = [i for i in archive.infolist() if not i.is_dir() and not _is_symlink(i)]
        if len(members) > limits.max_entries:
            raise UnsafeZip(f"The zip holds {len(members)} files, more than {limits.max_entries}.")
        declared = sum(i.file_size for i in members)
        if declared > limits.max_total_bytes:
            raise UnsafeZip("The zip would unpack to more than the allowed size.")
        # The per-file ratio rule spares small files, so many small, well-compressed files
        # (each under the threshold) must be judged together.
        packed = sum(i.compress_size for i in members)
        if declared > limits.ratio_applies_above and declared / max(packed, 1) > limits.max_ratio:
            raise UnsafeZip(BOMB)
        for info in members:
            relative = safe_relative_path(_member_name(info))
            if not relative:
                continue
            if len(relative) > limits.max_depth:
                raise UnsafeZip("The zip's folders are nested too deeply.")
            relative = _unique(relative, taken)
            target = dest_root.joinpath(*relative)
            if dest_root not in target.parents:
                raise UnsafeZip("The zip tried to write outside the student's folder.")
            # A small file that compresses well is harmless; a bomb is a big one that does.
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > limits.ratio_applies_above and ratio > limits.max_ratio:
                raise UnsafeZip(BOMB)
            digest, size = hashlib.sha256(), 0
            try:
                _make_folder(target.parent, made)
                source_file.consumed = 0
                with archive.open(info) as source, open(target, "wb") as out:
                    # Count real bytes as they come: declared sizes in a zip can lie. Each
                    # chunk is judged before it is written: the bytes this entry wrote against
                    # the bytes of the archive it consumed, and all bytes written against the
                    # zip's real size.
                    while chunk := source.read(READ_SIZE):
                        total += len(chunk)
                        size += len(chunk)
                        if total > limits.max_total_bytes:
                            raise UnsafeZip("The zip unpacks to more than the allowed size.")
                        if _too_well_compressed(
                            size, source_file.consumed, limits
                        ) or _too_well_compressed(total, archive_size, limits):
                            raise UnsafeZip(BOMB)
                        out.write(chunk)
                        digest.update(chunk)
            except (
                zipfile.BadZipFile,
                zipfile.LargeZipFile,
                EOFError,
                ValueError,
                NotImplementedError,
            ) as err:
                raise UnsafeZip(f"The zip is damaged ({info.filename!r} cannot be read).") from err
            except (NotADirectoryError, IsADirectoryError, FileExistsError) as err:
                # e.g. both a file "a" and a file "a/b.txt": one name cannot be both
                name = "/".join(relative)
                raise UnsafeZip(
                    f"The zip cannot be unpacked: {name!r} clashes with another entry."
                ) from err
            except OSError as err:
                name = "/".join(relative)
                raise UnsafeZip(f"Writing {name!r} failed: {err.strerror}.") from err
            written.append(FileEntry("/".join(relative), size, digest.hexdigest()))
    return written


def _make_folder(folder: Path, made: set[Path]) -> None:
    """Create ``folder`` (and its parents) unless this call already did: a zip's files mostly
    share a few folders, and each mkdir of an existing one is a failed system call."""
    if folder not in made:
        folder.mkdir(parents=True, exist_ok=True)
        made.add(folder)


def move_into(staging: Path, folder: Path, relative_paths: list[str]) -> None:
    """Move unpacked files into the student's folder, each replacing its namesake atomically.

    Files the tutor added to the folder themselves are left alone. When the student's folder
    does not exist yet (a first download), the staging folder becomes it in one rename.
    """
    if not folder.exists():
        try:
            os.rename(staging, folder)
            return
        except OSError:
            pass  # made meanwhile, or staging elsewhere: move file by file
    made: set[Path] = set()
    _make_folder(folder, made)
    for relative in relative_paths:
        parts = relative.split("/")
        target = folder.joinpath(*parts)
        _make_folder(target.parent, made)
        source = staging.joinpath(*parts)
        try:
            source.replace(target)
        except OSError:
            shutil.move(source, target)
