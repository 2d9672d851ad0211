"""The real helper process, spoken to over real framing: replies, errors, and a quiet stdout."""

import pytest

from etma_helper import PROTOCOL_VERSION, __version__
from etma_helper.framing import HEADER
from tests.hostproc import HostProcess


@pytest.fixture
def host(tmp_path):
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DOWNLOAD_DIR": str(tmp_path / "Downloads"),
        "HOME": str(tmp_path),
    }
    process = HostProcess(env)
    yield process
    process.close()


def test_hello_reports_versions_and_download_root(host, tmp_path):
    host.send({"id": "1", "action": "hello", "protocol": PROTOCOL_VERSION})
    reply = host.receive()
    assert reply["status"] == "ok" and reply["version"] == __version__
    assert reply["data"]["protocol"] == PROTOCOL_VERSION
    assert reply["data"]["download_root"].startswith(str(tmp_path))


def test_wrong_protocol_is_refused_with_the_fix(host):
    host.send({"id": "1", "action": "hello", "protocol": 99})
    reply = host.receive()
    assert reply["status"] == "error" and reply["code"] == 4
    assert "install.py" in reply["message"]


@pytest.mark.parametrize(
    "payload, code",
    [
        (b"\xff\xfe not utf-8", 1),
        (b"{not json", 1),
        (b"[1, 2]", 1),
        (b'{"id": "9", "action": "format_disk"}', 2),
        (b'{"id": "9", "action": "download"}', 3),
        (
            b'{"id": "9", "action": "download", "job": {"etma_url": "http://e/", "module": "TM351",'
            b' "pis": ["../../etc"]}}',
            3,
        ),
        (
            b'{"id": "9", "action": "download", "job": {"etma_url": "http://e/", "module": "../x",'
            b' "pis": ["P1234567"]}}',
            3,
        ),
        (b'{"id": "9", "action": "cancel", "job_id": "nothing"}', 6),
    ],
)
def test_bad_requests_get_an_error_and_the_helper_keeps_serving(host, payload, code):
    host.send_raw(payload)
    reply = host.receive()
    assert reply["status"] == "error" and reply["code"] == code and reply["message"]
    host.send({"id": "2", "action": "hello", "protocol": PROTOCOL_VERSION})
    assert host.receive()["status"] == "ok"


def test_oversize_frame_is_skipped_and_answered(host):
    host.proc.stdin.write(HEADER.pack(2 * 1024 * 1024) + b" " * (2 * 1024 * 1024))
    host.proc.stdin.flush()
    assert host.receive()["code"] == 7
    host.send({"id": "2", "action": "hello", "protocol": PROTOCOL_VERSION})
    assert host.receive()["status"] == "ok"


def test_truncated_frame_ends_the_helper_cleanly(host):
    host.proc.stdin.write(HEADER.pack(100) + b"{")
    assert host.close() == 0


def test_other_extensions_are_refused(tmp_path):
    other = HostProcess({"HOME": str(tmp_path)}, caller="chrome-extension://abcdefghijklmnop/")
    reply = other.receive()
    assert reply["status"] == "error" and reply["code"] == 10
    assert other.close() == 1


def test_a_job_that_breaks_still_ends_with_a_summary():
    import io
    import json as json_module
    import sqlite3

    from etma_helper.framing import FrameWriter, read_frame
    from etma_helper.native_host import NativeHost

    class BrokenRunner:
        job_id = "job-9"

        def run(self):
            raise sqlite3.OperationalError("database or disk is full")

    out = io.BytesIO()
    host = NativeHost(io.BytesIO(), FrameWriter(out))
    host.start(BrokenRunner())
    host._thread.join(5)
    out.seek(0)
    summary = json_module.loads(read_frame(out))
    assert summary["type"] == "summary" and summary["id"] == "job-9"
    assert summary["status"] == "error" and "disk" in summary["message"]
    assert host.running_job_id is None


def test_a_silent_helper_fails_a_read_at_its_deadline(host):
    """A wedged helper fails the test that waits on it, quickly and clearly, never hangs it."""
    import time

    from tests.hostproc import HelperSilent

    started = time.monotonic()
    with pytest.raises(HelperSilent):
        host.receive(timeout=0.5)
    assert time.monotonic() - started < 2
