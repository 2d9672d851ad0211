"""The helper is free for the next job before a job's summary leaves (in-process, so the browser
answering a summary at once can be played exactly, every time)."""

from __future__ import annotations

import json
import os
import threading

from etma_helper.config import Settings
from etma_helper.native_host import NativeHost
from tests.integration.test_crash_safety import download_request


class InstantBrowser:
    """A writer that, on a job's first summary, sends the next job before ``send`` returns."""

    def __init__(self) -> None:
        self.host: NativeHost | None = None
        self.next_job: bytes = b""
        self.messages: list[dict] = []
        self.done = threading.Event()

    def send(self, message: dict) -> bool:
        self.messages.append(message)
        if message["type"] == "summary" and message["id"] == "first":
            self.host.handle(self.next_job)
        elif message["type"] == "summary":
            self.done.set()
        return True


def test_a_job_sent_while_the_summary_is_being_written_is_accepted(fresh_sites, cohort, tmp_path):
    Settings(download_root=tmp_path / "eTMA").save()
    assert os.environ["XDG_CONFIG_HOME"].startswith(str(tmp_path))
    browser = InstantBrowser()
    host = NativeHost(reader=None, writer=browser)
    browser.host = host
    first = download_request(fresh_sites, [cohort.students[0].pi], "first")
    first["action"] = "codes"
    browser.next_job = json.dumps({**first, "id": "second"}).encode()
    host.handle(json.dumps(first).encode())
    assert browser.done.wait(30), browser.messages
    replies = {m["id"]: m for m in browser.messages if m["type"] == "reply"}
    assert replies["second"]["status"] == "ok", replies["second"]
