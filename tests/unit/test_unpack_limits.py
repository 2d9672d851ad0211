"""Zip ratio and size are judged on the bytes actually read and written, not the declared ones."""

from __future__ import annotations

import struct
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

from etma_helper.unpack import READ_SIZE, UnsafeZip, ZipLimits, unpack
from tests.sites import hostile

MiB = 1024**2


def written_under(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def declared_ratio(path: Path) -> float:
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    return sum(i.file_size for i in infos) / sum(i.compress_size for i in infos)


def test_a_zip_lying_about_its_compressed_size_is_refused_early(tmp_path):
    """64 MiB of zeros whose headers claim 50:1 (the gap padded so the claim fits the file):
    every declared check passes, the bytes consumed per entry give it away."""
    path = tmp_path / "lying.zip"
    hostile.build_zip("zip_lying_sizes", path, str(tmp_path / "outside"))
    limits = ZipLimits()
    assert declared_ratio(path) < limits.max_ratio  # the lie holds on paper
    with pytest.raises(UnsafeZip, match="zip bomb"):
        unpack(path, tmp_path / "out", limits)
    # The entry's real deflate stream is ~65 KB; reads run at most READ_SIZE ahead of it. So at
    # most max_ratio x that was written, a fraction of the 64 MiB it holds.
    assert written_under(tmp_path / "out") <= limits.max_ratio * (70_000 + 2 * READ_SIZE)


def _overlapping_zip(path: Path, copies: int, data: bytes) -> None:
    """``copies`` directory entries all pointing at one local entry, each declaring (honestly,
    per entry) its size; the archive is tiny, the total it unpacks to is not."""
    stream = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = stream.compress(data) + stream.flush()
    crc, name = zlib.crc32(data), b"part.bin"
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(packed), len(data), len(name), 0
    )
    body = local + name + packed
    entry = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(packed), len(data), len(name),
        0, 0, 0, 0, 0o644 << 16, 0,
    ) + name  # fmt: skip
    directory = entry * copies
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, copies, copies, len(directory), len(body), 0)
    path.write_bytes(body + directory + end)


def test_entries_sharing_their_bytes_are_refused_by_the_real_total_ratio(tmp_path):
    """Each entry alone compresses ~50:1 (under the limit); 100 of them share one stream, so
    the zip unpacks to ~5,000 times its size. Declared checks pass; the total written against
    the zip's size on disk refuses it."""
    block = bytes(range(256)) * 2  # compressible, but not to a bomb-like ratio on its own
    data = b"".join(block[:500] + bytes([n % 251]) for n in range(4000))  # ~2 MB
    path = tmp_path / "overlap.zip"
    _overlapping_zip(path, 100, data)
    limits = ZipLimits()
    assert declared_ratio(path) < limits.max_ratio
    with pytest.raises(UnsafeZip) as refused:
        unpack(path, tmp_path / "out", limits)
    if "damaged" in str(refused.value):  # newer zipfile refuses overlapping entries itself
        assert sys.version_info >= (3, 12)
        return
    assert "zip bomb" in str(refused.value)
    size = path.stat().st_size
    assert written_under(tmp_path / "out") <= limits.max_ratio * size + READ_SIZE


def test_an_honest_compressible_zip_still_unpacks(tmp_path):
    """A big, repetitive CSV compresses well, but nowhere near a bomb: it unpacks."""
    rows = "".join(f"{n},{n * 7 % 1000},sensor-{n % 13},ok\n" for n in range(200_000))
    path = tmp_path / "data.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data/readings.csv", rows)
        archive.writestr("notebook.ipynb", '{"cells": []}\n' * 1000)
    files = unpack(path, tmp_path / "out")
    assert {f.path for f in files} == {"data/readings.csv", "notebook.ipynb"}
    assert (tmp_path / "out" / "data" / "readings.csv").read_text() == rows


def test_the_default_total_cap_is_a_sane_size_for_student_scripts():
    assert ZipLimits().max_total_bytes == 1024**3
