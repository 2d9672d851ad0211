"""Native-messaging frames: a 32-bit native-order length, then that many bytes of UTF-8 JSON.

nativemessaging-ng's reader trusts the length it is given (a garbled header would make it try to
read gigabytes) and its writer writes to whatever ``sys.stdout`` is at the time. The host needs a
size limit, a clean answer to a truncated frame, and a private channel to the browser that no
stray ``print`` can reach, so the few lines of framing live here.
"""

from __future__ import annotations

import json
import struct
import threading
from typing import BinaryIO

HEADER = struct.Struct("@I")

#: Largest frame the helper accepts from the browser.
MAX_INCOMING = 1024 * 1024
#: Largest frame the helper sends; Chromium drops the port for anything over 1 MiB.
MAX_OUTGOING = 256 * 1024


class FrameTooLarge(Exception):
    """The browser announced a frame over MAX_INCOMING; its bytes were skipped."""

    def __init__(self, size: int) -> None:
        super().__init__(f"frame of {size} bytes exceeds {MAX_INCOMING}")
        self.size = size


class TruncatedFrame(Exception):
    """The input ended in the middle of a frame."""


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise TruncatedFrame(f"expected {size} bytes, got {len(data)}")
    return data


def read_frame(stream: BinaryIO) -> bytes | None:
    """Return the next frame's payload, or None at a clean end of input."""
    header = stream.read(HEADER.size)
    if not header:
        return None
    if len(header) != HEADER.size:
        raise TruncatedFrame("input ended inside a frame header")
    (size,) = HEADER.unpack(header)
    if size > MAX_INCOMING:
        remaining = size
        while remaining:
            chunk = stream.read(min(remaining, 64 * 1024))
            if not chunk:
                raise TruncatedFrame("input ended inside an oversize frame")
            remaining -= len(chunk)
        raise FrameTooLarge(size)
    return _read_exactly(stream, size)


class FrameWriter:
    """Writes whole JSON frames to the browser, one at a time, from any thread."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, message: dict) -> None:
        payload = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if len(payload) > MAX_OUTGOING:
            raise ValueError(f"outgoing message of {len(payload)} bytes is too large")
        with self._lock:
            self._stream.write(HEADER.pack(len(payload)) + payload)
            self._stream.flush()
