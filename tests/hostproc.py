"""Drive the real helper process over real native-messaging framing (for tests and benches)."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time

CHROMIUM_CALLER = "chrome-extension://cfflekeodohgccooffokbilcglejnhfj/"


class HostProcess:
    """The helper started the way a browser starts it: caller origin as its argument."""

    def __init__(self, env: dict[str, str] | None = None, caller: str = CHROMIUM_CALLER) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "etma_helper.native_host", caller],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )

    def send_raw(self, payload: bytes) -> None:
        self.proc.stdin.write(struct.pack("@I", len(payload)) + payload)
        self.proc.stdin.flush()

    def send(self, message: dict) -> None:
        self.send_raw(json.dumps(message).encode())

    def receive(self, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        header = self.proc.stdout.read(4)
        if len(header) < 4 or time.monotonic() > deadline:
            raise EOFError("the helper closed its output")
        (size,) = struct.unpack("@I", header)
        return json.loads(self.proc.stdout.read(size))

    def receive_until(self, kind: str, request_id: str, timeout: float = 60) -> list[dict]:
        """Every message up to and including the first ``kind`` message for ``request_id``."""
        seen = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.receive()
            seen.append(message)
            if message["type"] == kind and message["id"] == request_id:
                return seen
        raise TimeoutError(kind)

    def close(self, timeout: float = 10) -> int:
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            return self.proc.wait(timeout)
        finally:
            self.proc.stdout.close()
            self.proc.stderr.close()
