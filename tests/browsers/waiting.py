"""Waits on conditions, each with a deadline: a test never sleeps for a fixed time to let something
happen, and nothing a browser or the helper does can make a wait last for ever."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

POLL = 0.05


def wait_until(
    check: Callable[[], T],
    timeout: float,
    what: str,
    *,
    ignored: tuple[type[BaseException], ...] = (),
    explain: Callable[[], str] | None = None,
) -> T:
    """Call ``check`` until it returns something truthy and return that; after ``timeout``
    seconds raise TimeoutError naming ``what``, the last error ``check`` raised among
    ``ignored`` (not an answer yet: a page navigating away, a node gone), and ``explain()``."""
    deadline, last_error = time.monotonic() + timeout, None
    while True:
        try:
            value = check()
            if value:
                return value
        except ignored as error:
            last_error = error
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL)  # the poll interval of this deadline wait
    detail = f" (last error: {last_error})" if last_error else ""
    more = f"\n{explain()}" if explain else ""
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}{detail}{more}")


def holds_for(
    check: Callable[[], Any], seconds: float, what: str, *, explain: Callable[[], str] | None = None
) -> None:
    """Assert that ``check()`` stays truthy for ``seconds``, failing as soon as it is not.

    For the promises that something does *not* happen (a page's script starts no job, a page
    gets no toolbar): no event says "nothing came", so the test watches for a bounded time."""
    deadline = time.monotonic() + seconds
    while True:
        if not check():
            more = f"\n{explain()}" if explain else ""
            raise AssertionError(f"{what} stopped holding{more}")
        if time.monotonic() >= deadline:
            return
        time.sleep(POLL)


def within(seconds: float, call: Callable[[], T], what: str) -> T:
    """``call()``'s answer, or TimeoutError if it has none within ``seconds`` (the call goes on
    in a daemon thread: for a browser that may be wedged, whose client would wait longer)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the caller
            outcome["error"] = error

    worker = threading.Thread(target=run, daemon=True, name=f"within: {what}")
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeoutError(f"{what}: no answer within {seconds} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
