"""Request deadlines: one thread cuts every session's requests that run too long.

The shared thread sleeps until the earliest deadline; these tests show that a shorter deadline
added later still cuts on time, and that a finished request's deadline cuts nothing.
"""

from __future__ import annotations

import time

from etma_helper.etma_session import _Guard


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_a_shorter_deadline_added_after_a_longer_one_still_cuts_on_time():
    slow, quick = _Guard(), _Guard()
    slow.start(30)  # the thread now sleeps towards this one
    started = time.monotonic()
    quick.start(0.2)
    assert wait_for(lambda: quick.expired, 5)
    assert time.monotonic() - started < 2
    assert quick.stopped.is_set()
    assert not slow.expired and not slow.stopped.is_set()
    slow.finish()


def test_a_request_that_finished_is_not_cut_when_its_deadline_falls_due():
    guard = _Guard()
    guard.start(0.1)
    guard.finish()
    time.sleep(0.4)
    assert not guard.expired and not guard.stopped.is_set()


def test_a_later_request_on_the_same_session_keeps_its_own_deadline():
    guard = _Guard()
    guard.start(0.1)
    guard.finish()
    guard.start(30)  # the first deadline falls due during this request: it must not cut it
    time.sleep(0.4)
    assert not guard.expired
    guard.finish()
    guard.start(0.1)
    assert wait_for(lambda: guard.expired, 5)
