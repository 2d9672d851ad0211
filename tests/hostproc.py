"""Drive the real helper process over real native-messaging framing (for tests and benches).

Every read has a real deadline: the helper's output is read with ``select`` before each
``os.read``, so a helper that goes quiet fails the test with a clear message instead of
blocking it forever.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time

from etma_helper.framing import HEADER, pack

CHROMIUM_CALLER = "chrome-extension://cfflekeodohgccooffokbilcglejnhfj/"


class HelperSilent(TimeoutError):
    """The helper sent nothing (or only part of a frame) before the deadline."""


class HostProcess:
    """The helper started the way a browser starts it: caller origin as its argument."""

    def __init__(
        self,
        env: dict[str, str] | None = None,
        caller: str = CHROMIUM_CALLER,
        program: tuple[str, ...] = ("-m", "etma_helper.native_host"),
    ) -> None:
        """``program``: what the interpreter runs (another host, for the benchmark's floor)."""
        self.proc = subprocess.Popen(
            [sys.executable, *program, caller],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})},
            bufsize=0,  # reads go straight to the pipe, so select() sees every waiting byte
        )

    def send_raw(self, payload: bytes) -> None:
        self.proc.stdin.write(pack(payload))
        self.proc.stdin.flush()

    def send(self, message: dict) -> None:
        self.send_raw(json.dumps(message).encode())

    def _read_exactly(self, size: int, deadline: float) -> bytes:
        fd = self.proc.stdout.fileno()
        data = bytearray()
        while len(data) < size:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HelperSilent(
                    f"the helper sent {len(data)} of {size} expected bytes before the deadline"
                )
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, size - len(data))
            if not chunk:
                raise EOFError("the helper closed its output")
            data += chunk
        return bytes(data)

    def receive(self, timeout: float = 30) -> dict:
        """The next message, or HelperSilent if none arrives within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        (size,) = HEADER.unpack(self._read_exactly(HEADER.size, deadline))
        return json.loads(self._read_exactly(size, deadline))

    def receive_until(self, kind: str, request_id: str, timeout: float = 60) -> list[dict]:
        """Every message up to and including the first ``kind`` message for ``request_id``."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HelperSilent(f"no {kind} for {request_id} within {timeout} s")
            message = self.receive(left)
            seen.append(message)
            if message["type"] == kind and message["id"] == request_id:
                return seen

    def close(self, timeout: float = 10) -> int:
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise
        finally:
            self.proc.stdout.close()
            self.proc.stderr.close()
