"""Native-messaging frames: a 32-bit native-order length, then that many bytes of UTF-8 JSON.

nativemessaging-ng's reader trusts the length it is given (a garbled header would make it try to
read gigabytes) and its writer writes to whatever ``sys.stdout`` is at the time. The host needs a
size limit, a clean answer to a truncated frame, and a private channel to the browser that no
stray ``print`` can reach, so the few lines of framing live here.

The one implementation: the host, the doctor (which speaks to an installed helper as a browser
would) and the tests frame and read with these functions. Standard library only, because the
doctor runs from the clone (``install.py --doctor``) when the helper's venv is broken.
"""

from __future__ import annotations

import io
import json
import struct
import threading

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows the start-up
if TYPE_CHECKING:
    from typing import BinaryIO

HEADER = struct.Struct("@I")

#: Largest frame the helper accepts from the browser.
MAX_INCOMING = 1024 * 1024
#: Largest frame the helper sends: Chromium drops the port past 1 MiB, Firefox past 1 MB.
MAX_OUTGOING = 1_000_000


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


def read_frames(data: bytes) -> list[bytes]:
    """Every frame's payload in ``data`` (all a stream held), in order.

    Raises TruncatedFrame when the data ends inside a frame, as output with stray bytes in it
    (something printing to standard output) usually does, or FrameTooLarge.
    """
    stream, payloads = io.BytesIO(data), []
    while (payload := read_frame(stream)) is not None:
        payloads.append(payload)
    return payloads


def encode(message: dict) -> bytes:
    """A message's payload: compact UTF-8 JSON."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def pack(payload: bytes) -> bytes:
    """One frame: the payload's length in the header, then the payload."""
    return HEADER.pack(len(payload)) + payload


def frame(message: dict) -> bytes:
    """A message as one frame (no size limit: FrameWriter applies the browser's)."""
    return pack(encode(message))


def _largest(node, path=()):
    """The path to the longest string or list inside ``node``, and its encoded size."""
    best: tuple[int, tuple] = (-1, ())
    children = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in children:
        if isinstance(value, (dict, list)):
            if isinstance(value, list) and value:
                best = max(best, (len(encode({"v": value})), (*path, key)), key=lambda b: b[0])
            best = max(best, _largest(value, (*path, key)), key=lambda b: b[0])
        elif isinstance(value, str):
            best = max(best, (len(value.encode("utf-8")), (*path, key)), key=lambda b: b[0])
    return best


def shrink(message: dict, limit: int = MAX_OUTGOING) -> bytes | None:
    """The message encoded within ``limit`` bytes, its longest strings and lists halved as
    often as needed and ``"truncated": true`` added; None if it cannot be made to fit.

    The last line of defence: senders size what they send by bytes first (a student's file list,
    a search form's hidden fields), so this only runs when something unforeseen grew too large.
    """
    message = json.loads(encode(message))  # a private copy to cut
    message["truncated"] = True
    for _ in range(200):
        payload = encode(message)
        if len(payload) <= limit:
            return payload
        size, path = _largest(message)
        if size <= 0 or not path:
            return None
        *parents, key = path
        holder = message
        for step in parents:
            holder = holder[step]
        value = holder[key]
        holder[key] = value[: len(value) // 2]
    return None


def _warn(message: str, *args: object) -> None:
    # logging is imported when first needed: the native host answers the browser's first request
    # before it loads the logging module (the browser waits for that answer).
    import logging

    logging.getLogger(__name__).warning(message, *args)


class FrameWriter:
    """Writes whole JSON frames to the browser, one at a time, from any thread.

    ``send`` never raises: a message over the limit is cut down to fit (or, when it cannot be,
    replaced by an error naming its id), and a write to a closed browser is logged, so no
    message can take a job or the helper down.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, message: dict) -> bool:
        """Write one frame; True if it was written."""
        payload = encode(message)
        if len(payload) > MAX_OUTGOING:
            kind, size = message.get("type"), len(payload)
            _warn("a %s message of %d bytes was cut to fit a frame", kind, size)
            payload = shrink(message) or encode(
                {
                    "id": str(message.get("id", ""))[:64],
                    "version": message.get("version"),
                    "type": message.get("type"),
                    "status": "error",
                    "code": 7,
                    "message": "The helper's answer was too large to send.",
                    "params": {"size": len(payload)},
                }
            )
        try:
            with self._lock:
                self._stream.write(pack(payload))
                self._stream.flush()
        except (OSError, ValueError) as err:  # the browser closed the port
            _warn("could not write to the browser: %s", type(err).__name__)
            return False
        return True
