"""Hostile mode for the practice eTMA site: each attack a malicious or broken server could make.

``PracticeSites.etma_hostile`` maps a PI to one attack name; that student's page or download then
serves the attack, and every other student is served exactly as usual. The zips are built once per
sites run (into the sites' zip folder) and streamed from disk, like the ordinary ones.
"""

from __future__ import annotations

import stat
import struct
import zipfile
import zlib
from pathlib import Path

# Attacks carried inside the zip the download returns.
ZIP_ATTACKS = frozenset(
    {
        "zip_traversal",  # ../../escape.txt and friends
        "zip_absolute",  # /abs/path.txt
        "zip_drive",  # C:\evil.txt
        "zip_symlink",  # a symlink entry pointing outside, then a file "through" it
        "zip_devices",  # CON, aux.txt, NUL.py, ...
        "zip_long_name",  # a 300-character name
        "zip_case",  # names that differ only in case
        "zip_ratio_bomb",  # 50 MB of zeros deflated into one entry
        "zip_many_entries",  # 6,000 tiny files
        "zip_size_bomb",  # entries declaring more than the total-size limit
        "zip_small_entries_bomb",  # 600 x 1 MiB of zeros: each under the per-entry ratio rule
        "zip_lying_sizes",  # 64 MiB of zeros whose headers claim a tame 50:1 ratio (padded gap)
    }
)
# Attacks in the download's headers or the response itself.
DOWNLOAD_ATTACKS = frozenset(
    {
        "cd_traversal",  # Content-Disposition: attachment; filename="../../x.zip"
        "cd_traversal_ext",  # Content-Disposition: attachment; filename*=UTF-8''..%2F..%2Fx.zip
        "cd_echo_cookie",  # the download's filename is the session cookie's value
        "redirect_download",  # 302 from the download to another server
        "download_endless",  # a zip with no length that never ends (until the helper hangs up)
        "download_oversize",  # Content-Length announces 10 GiB, then streams until hung up
    }
)
# Attacks on the student's page.
PAGE_ATTACKS = frozenset(
    {
        "redirect_page",  # 302 from the student page to another server
        "echo_cookie_error",  # an error page quoting the session cookie's value
        "echo_cookie_code",  # the session cookie's value shown as the confirmation code
        "page_drip",  # the page dripped one byte per ``hostile_drip_interval`` seconds
        "page_stall_headers",  # the request is read, then nothing at all is sent back
        "page_huge",  # a ``hostile_huge_page_bytes`` page, its Content-Length honest
        "page_huge_unannounced",  # the same page with no Content-Length (ends when closed)
        "page_retry_after",  # 503 with Retry-After: 3600, every time
    }
)
# Every slow or endless response ends by itself after this long, or once the helper hangs up.
SLOW_ATTACK_SECONDS = 20.0
ATTACKS = ZIP_ATTACKS | DOWNLOAD_ATTACKS | PAGE_ATTACKS

ESCAPE_NAME = "escape.txt"
SAFE_MEMBER = ("readme.txt", b"an ordinary file beside the attack\n")


def check(attacks: dict[str, str]) -> None:
    """Raise ValueError for an attack name the site does not know."""
    unknown = set(attacks.values()) - ATTACKS
    if unknown:
        raise ValueError(f"unknown hostile attacks {sorted(unknown)}; known: {sorted(ATTACKS)}")


def _info(name: str, compression: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2024, 3, 14, 9, 30, 0))
    info.compress_type = compression
    info.external_attr = 0o644 << 16
    return info


def _write(path: Path, members: list[tuple[str | zipfile.ZipInfo, bytes]]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name if isinstance(name, zipfile.ZipInfo) else _info(name), data)


def _symlink(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2024, 3, 14, 9, 30, 0))
    info.create_system = 3  # Unix, so the mode bits mean what they say
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def build_zip(attack: str, path: Path, outside: str) -> None:
    """Write the zip for ``attack`` to ``path``; ``outside`` is a path a link may point at."""
    if attack == "zip_traversal":
        members = [
            ("../../" + ESCAPE_NAME, b"climbed out?\n"),
            ("a/../../../" + ESCAPE_NAME + "2", b"climbed out?\n"),
            ("..\\..\\" + ESCAPE_NAME + "3", b"climbed out?\n"),
            SAFE_MEMBER,
        ]
    elif attack == "zip_absolute":
        members = [("/abs/path.txt", b"absolute\n"), (outside + "/abs2.txt", b"abs\n"), SAFE_MEMBER]
    elif attack == "zip_drive":
        members = [("C:\\evil.txt", b"drive\n"), ("D:/x/evil2.txt", b"drive\n"), SAFE_MEMBER]
    elif attack == "zip_symlink":
        members = [
            (_symlink("link", outside), outside.encode()),
            (_symlink("up", "../../.."), b"../../.."),
            ("link/" + ESCAPE_NAME, b"through the link?\n"),
            ("up/" + ESCAPE_NAME, b"through the link?\n"),
            SAFE_MEMBER,
        ]
    elif attack == "zip_devices":
        names = ["CON", "aux.txt", "NUL.py", "com1.log", "LPT9.md", "CON .txt", "prn.tar.gz"]
        members = [(name, f"device {name}\n".encode()) for name in names] + [SAFE_MEMBER]
    elif attack == "zip_long_name":
        members = [
            ("x" * 300 + ".txt", b"long\n"),
            ("d" * 300 + "/inner.txt", b"long folder\n"),
            SAFE_MEMBER,
        ]
    elif attack == "zip_case":
        members = [("Report.txt", b"first\n"), ("report.txt", b"second\n"), ("REPORT.TXT", b"3\n")]
    elif attack == "zip_ratio_bomb":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            with archive.open(_info("zeros.bin"), "w") as member:
                block = bytes(1 << 20)
                for _ in range(50):
                    member.write(block)
            archive.writestr(_info(SAFE_MEMBER[0]), SAFE_MEMBER[1])
        return
    elif attack == "zip_many_entries":
        members = [(f"many/{n:05d}.txt", b"x") for n in range(6000)]
    elif attack == "zip_small_entries_bomb":
        block = bytes(1 << 20)
        members = [(f"zeros/{n:04d}.bin", block) for n in range(600)]
    elif attack == "zip_size_bomb":
        _size_bomb(path)
        return
    elif attack == "zip_lying_sizes":
        _lying_sizes(path)
        return
    else:
        raise ValueError(f"{attack} is not a zip attack")
    _write(path, members)


def _size_bomb(path: Path, entries: int = 3, declared: int = 1 << 30) -> None:
    """A small zip whose entries each declare ``declared`` bytes: more than the limit in total.

    The sizes are patched into both the local and the central headers, as a crafted zip would
    carry them; the data itself is tiny.
    """
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for n in range(entries):
            archive.writestr(_info(f"huge{n}.bin", zipfile.ZIP_STORED), b"tiny")
    data = bytearray(path.read_bytes())
    offset = 0
    while (offset := data.find(b"PK\x01\x02", offset)) != -1:
        struct.pack_into("<I", data, offset + 24, declared)  # central header: uncompressed size
        local = struct.unpack_from("<I", data, offset + 42)[0]
        struct.pack_into("<I", data, local + 22, declared)  # local header: uncompressed size
        offset += 4
    path.write_bytes(bytes(data))


def _lying_sizes(path: Path, size: int = 64 << 20, claimed_ratio: int = 50) -> None:
    """One entry of ``size`` zeros (deflated to ~64 KB) whose headers claim ``size /
    claimed_ratio`` compressed bytes; the gap after the real stream is padded, so the claim fits
    the file, no entry overlaps another, and the zip's total ratio looks tame. Only counting the
    bytes actually consumed per entry shows the ~1000:1 truth. A readme follows, as usual.
    """
    name = b"zeros.bin"
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block, crc, parts = bytes(1 << 20), 0, []
    for _ in range(size >> 20):
        parts.append(packer.compress(block))
        crc = zlib.crc32(block, crc)
    parts.append(packer.flush())
    stream = b"".join(parts)
    claimed = size // claimed_ratio
    assert claimed > len(stream)
    body = stream + bytes(claimed - len(stream))  # the padding the claim needs

    def local(fname: bytes, method: int, crc: int, csize: int, usize: int) -> bytes:
        return (
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                20,
                0,
                method,
                0x4B2E,
                0x586E,
                crc,
                csize,
                usize,
                len(fname),
                0,
            )
            + fname
        )

    def central(fname: bytes, method: int, crc: int, csize: int, usize: int, at: int) -> bytes:
        return (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                method,
                0x4B2E,
                0x586E,
                crc,
                csize,
                usize,
                len(fname),
                0,
                0,
                0,
                0,
                0o644 << 16,
                at,
            )
            + fname
        )

    readme_name, readme = SAFE_MEMBER[0].encode(), SAFE_MEMBER[1]
    readme_crc = zlib.crc32(readme)
    first = local(name, 8, crc, claimed, size) + body
    second = local(readme_name, 0, readme_crc, len(readme), len(readme)) + readme
    directory = central(name, 8, crc, claimed, size, 0) + central(
        readme_name, 0, readme_crc, len(readme), len(readme), len(first)
    )
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, 2, 2, len(directory), len(first) + len(second), 0
    )
    path.write_bytes(first + second + directory + end)
