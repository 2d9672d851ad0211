"""Hostile mode for the practice eTMA site: each attack a malicious or broken server could make.

``PracticeSites.etma_hostile`` maps a PI to one attack name; that student's page or download then
serves the attack, and every other student is served exactly as usual. The zips are built once per
sites run (into the sites' zip folder) and streamed from disk, like the ordinary ones.
"""

from __future__ import annotations

import stat
import struct
import zipfile
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
    }
)
# Attacks in the download's headers or the response itself.
DOWNLOAD_ATTACKS = frozenset(
    {
        "cd_traversal",  # Content-Disposition: attachment; filename="../../x.zip"
        "cd_traversal_ext",  # Content-Disposition: attachment; filename*=UTF-8''..%2F..%2Fx.zip
        "cd_echo_cookie",  # the download's filename is the session cookie's value
        "redirect_download",  # 302 from the download to another server
    }
)
# Attacks on the student's page.
PAGE_ATTACKS = frozenset(
    {
        "redirect_page",  # 302 from the student page to another server
        "echo_cookie_error",  # an error page quoting the session cookie's value
        "echo_cookie_code",  # the session cookie's value shown as the confirmation code
    }
)
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
