"""The helper's frames: never over the limit, and a send never raises."""

from __future__ import annotations

import io
import json

import pytest

from etma_helper import doctor
from etma_helper.framing import (
    HEADER,
    MAX_OUTGOING,
    FrameWriter,
    TruncatedFrame,
    frame,
    read_frames,
)
from etma_helper.records import FileEntry, Outcome


def frames(raw: bytes) -> list[dict]:
    payloads = read_frames(raw)
    assert all(len(payload) <= MAX_OUTGOING for payload in payloads)
    return [json.loads(payload) for payload in payloads]


def test_frames_written_are_the_frames_read_back():
    messages = [{"id": "1", "text": "Zoë"}, {}, {"id": "2", "list": [1, 2, 3]}]
    stream = io.BytesIO()
    writer = FrameWriter(stream)
    assert all(writer.send(message) for message in messages)
    assert stream.getvalue() == b"".join(map(frame, messages))
    assert frames(stream.getvalue()) == messages
    assert HEADER.unpack(frame({})[: HEADER.size]) == (2,)


def test_output_that_is_not_only_frames_is_refused_with_the_likely_cause():
    good = frame({"id": "1"})
    with pytest.raises(TruncatedFrame):
        read_frames(good + good[:-1])
    with pytest.raises(ValueError, match="is something printing to standard output"):
        doctor.parse_frames(b"hello from a stray print\n" + good)
    assert doctor.parse_frames(good + good) == [{"id": "1"}, {"id": "1"}]


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
