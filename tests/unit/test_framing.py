"""The helper's frames: never over the limit, and a send never raises."""

from __future__ import annotations

import io
import json
import struct

from etma_helper.framing import MAX_OUTGOING, FrameWriter
from etma_helper.records import FileEntry, Outcome


def frames(raw: bytes) -> list[dict]:
    out, at = [], 0
    while at < len(raw):
        (size,) = struct.unpack_from("@I", raw, at)
        out.append(json.loads(raw[at + 4 : at + 4 + size]))
        assert size <= MAX_OUTGOING
        at += 4 + size
    return out


def test_an_oversize_message_is_cut_to_fit_and_marked():
    stream = io.BytesIO()
    huge = {"id": "1", "type": "reply", "status": "ok", "data": {"text": "é" * MAX_OUTGOING}}
    assert FrameWriter(stream).send(huge)
    [sent] = frames(stream.getvalue())
    assert sent["truncated"] is True and sent["id"] == "1" and sent["data"]["text"]


def test_a_message_of_many_small_parts_is_cut_to_fit():
    stream = io.BytesIO()
    many = {"id": "2", "type": "progress", "data": {"files": ["x" * 50] * 100_000}}
    assert FrameWriter(stream).send(many)
    [sent] = frames(stream.getvalue())
    assert sent["truncated"] is True and 0 < len(sent["data"]["files"]) < 100_000


def test_a_write_to_a_closed_browser_returns_false_instead_of_raising():
    stream = io.BytesIO()
    stream.close()
    assert FrameWriter(stream).send({"id": "3", "type": "reply"}) is False


def test_a_students_file_list_is_sized_by_bytes_not_only_by_count():
    deep = "/".join(["d" * 120] * 20)
    files = tuple(FileEntry(f"{deep}/{n}.txt", 1, "0" * 64) for n in range(200))
    message = Outcome(pi="P1234567", state="done", files=files, folder="/x").to_message()
    assert message["files_total"] == 200 and 0 < len(message["files"]) < 200
    assert len(json.dumps(message).encode()) < 80 * 1024
