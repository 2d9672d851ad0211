"""One table of actions: the host's handlers are what hello lists and what a request may name.

The handler table in native_host.py is the only list of actions: hello's ``actions`` reply is its
keys, and a request naming anything else is an unknown action. Each action is handled in
``actions/<action>.py`` (``download`` and ``codes`` share ``actions/download_and_codes.py``), and
docs/PROTOCOL.md's request table names the same actions in the same order.
"""

from __future__ import annotations

import importlib
import io
import json
import re
from pathlib import Path

from etma_helper import PROTOCOL_VERSION, native_host
from etma_helper.actions import Reply
from etma_helper.errors import ErrorCode
from etma_helper.framing import FrameWriter, frame, read_frames

ROOT = Path(__file__).resolve().parents[2]
#: What hello has always answered; the extension gates its features on these names.
HELLO_ACTIONS = [
    "hello",
    "download",
    "codes",
    "cancel",
    "jobs",
    "settings",
    "open",
    "student_search",
    "check_etma",
    "flags",
    "export_worksheet",
    "worksheet_marks",
]


def talk(*messages: dict) -> dict[str, dict]:
    """Serve these requests with a real NativeHost over real frames; the replies by id."""
    out = io.BytesIO()
    native_host.NativeHost(io.BytesIO(b"".join(map(frame, messages))), FrameWriter(out)).serve()
    return {reply["id"]: reply for reply in map(json.loads, read_frames(out.getvalue()))}


def hello_actions() -> list[str]:
    reply = talk({"id": "h", "action": "hello", "protocol": PROTOCOL_VERSION})["h"]
    assert reply["status"] == "ok", reply
    return reply["data"]["actions"]


def documented_actions() -> list[str]:
    text = (ROOT / "docs" / "PROTOCOL.md").read_text(encoding="utf-8")
    requests = text[text.index("## Requests") : text.index("## Messages")]
    return re.findall(r"^\| `([a-z_]+)` \|", requests, re.M)


def test_hello_lists_the_handler_table_as_it_always_has():
    assert hello_actions() == list(native_host.HANDLERS) == HELLO_ACTIONS
    assert documented_actions() == HELLO_ACTIONS


def test_a_handler_added_is_listed_and_served_and_one_removed_is_neither(monkeypatch):
    monkeypatch.setitem(native_host.HANDLERS, "echo", lambda host, message: Reply({"echo": 1}))
    monkeypatch.delitem(native_host.HANDLERS, "open")
    actions = hello_actions()
    assert "echo" in actions and "open" not in actions
    replies = talk({"id": "e", "action": "echo"}, {"id": "o", "action": "open", "what": "folder"})
    assert replies["e"]["status"] == "ok" and replies["e"]["data"] == {"echo": 1}
    assert replies["o"]["code"] == ErrorCode.UNKNOWN_ACTION, replies["o"]
    assert replies["o"]["params"] == {"action": "open"}


def test_each_action_is_handled_in_the_module_named_after_it():
    for action, handler in native_host.HANDLERS.items():
        module = "download_and_codes" if action in ("download", "codes") else action
        assert handler.module == f"etma_helper.actions.{module}", action
        assert callable(importlib.import_module(handler.module).handle), action
    modules = {path.stem for path in (ROOT / "host" / "etma_helper" / "actions").glob("*.py")}
    named = {h.module.rsplit(".", 1)[1] for h in native_host.HANDLERS.values()}
    assert modules - {"__init__"} == named
