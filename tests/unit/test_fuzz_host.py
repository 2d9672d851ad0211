"""Fuzzing the real helper process: any frame, any JSON, any shape of request gets an answer,
and the helper keeps serving."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etma_helper import PROTOCOL_VERSION
from tests.hostproc import HostProcess

# Jobs that happen to be valid must not go anywhere: the only address is a closed loopback port.
CLOSED_PORT = "http://127.0.0.1:9/"
PING = "ping-" + "\u2603" * 36  # longer than any text the strategies draw (30 at most)

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
jobs = st.fixed_dictionaries(
    {},
    optional={
        "etma_url": st.sampled_from([CLOSED_PORT, "ftp://x", "", "http://user:pw@h/", 7]),
        "module": st.sampled_from(["TM351", "../x", "", "TM351/../..", 3]) | st.text(max_size=8),
        "assignment": st.sampled_from(["TMA02", "TMA 02", "x" * 40, None]),
        "pis": st.lists(st.sampled_from(["P1234567", "../../etc", "", "p7654321", 5]), max_size=4)
        | json_values,
        "cookies": st.lists(
            st.fixed_dictionaries(
                {
                    "name": st.text(max_size=5),
                    "value": st.text(max_size=5),
                    "domain": st.just("127.0.0.1"),
                }
            ),
            max_size=2,
        )
        | json_values,
        "force": st.booleans() | json_values,
        "names": st.dictionaries(
            st.sampled_from(["P1234567", "p7654321", "Z9999999", "../x", ""]),
            st.sampled_from(["Ada Lovelace", "", "A" * 201, "Ada\u202e", "=cmd"]) | json_values,
            max_size=3,
        )
        | json_values,
    },
)
requests_ = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=8) | st.integers() | json_values,
        "action": st.sampled_from(
            [
                "hello",
                "download",
                "codes",
                "cancel",
                "jobs",
                "settings",
                "open",
                "student_search",
                "format",
                "",
            ]
        )
        | json_values,
        "protocol": st.integers() | json_values,
        "job": jobs | json_values,
        "job_id": st.text(max_size=8) | json_values,
        "limit": st.integers() | json_values,
        "what": st.sampled_from(["folder", "codes", "/etc/passwd"]) | json_values,
        "set": st.fixed_dictionaries(
            {},
            optional={
                "concurrency": json_values,
                "download_root": st.sampled_from(["/etc", "~/x", "rel"]) | json_values,
                "profile": json_values,
            },
        )
        | json_values,
    },
)


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    home = tmp_path_factory.mktemp("fuzz-home")
    process = HostProcess(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "c"),
            "XDG_DATA_HOME": str(home / "d"),
            "XDG_STATE_HOME": str(home / "s"),
        }
    )
    yield process
    process.close()


def answered(host, request_id: str) -> tuple[dict, list[dict]]:
    """The reply to ``request_id``, and the replies that came before it."""
    before = []
    while True:
        message = host.receive(timeout=30)
        if message.get("type") == "reply" and message.get("id") == request_id:
            return message, before
        if message.get("type") == "reply":
            before.append(message)


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(payload=st.binary(max_size=300))
def test_any_bytes_in_a_frame_get_an_answer(host, payload):
    host.send_raw(payload)
    host.send({"id": PING, "action": "hello", "protocol": PROTOCOL_VERSION})
    reply, before = answered(host, PING)
    assert reply["status"] == "ok"
    assert len(before) == 1 and before[0]["status"] in ("ok", "error")


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(request=requests_)
def test_any_request_shape_gets_a_reply_and_the_helper_keeps_serving(host, request):
    if request.get("action") in ("download", "codes") and isinstance(request.get("job"), dict):
        request["job"]["etma_url"] = CLOSED_PORT  # a valid job may start: keep it on loopback
    if request.get("action") == "open":
        request["what"] = "nothing-to-open"  # never start a desktop program from a fuzz run
    host.send_raw(json.dumps(request).encode())
    host.send({"id": PING, "action": "hello", "protocol": PROTOCOL_VERSION})
    reply, before = answered(host, PING)
    assert reply["status"] == "ok"
    assert len(before) == 1  # exactly one answer to the fuzzed request
    if before[0]["status"] == "error":
        assert isinstance(before[0]["code"], int) and before[0]["message"]
