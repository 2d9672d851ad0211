"""The tests' waits: each ends by its deadline with a message that says what it waited for."""

from __future__ import annotations

import threading
import time

import pytest

from tests.browsers.waiting import holds_for, wait_until, within


def test_wait_until_returns_the_first_truthy_answer():
    answers = iter([None, 0, "", "there"])
    assert wait_until(lambda: next(answers), 5, "an answer") == "there"


def test_wait_until_ends_at_its_deadline_naming_what_and_the_last_error():
    def check():
        raise LookupError("node gone")

    started = time.monotonic()
    with pytest.raises(TimeoutError) as raised:
        wait_until(check, 0.3, "the toolbar", ignored=(LookupError,), explain=lambda: "console")
    assert time.monotonic() - started < 2
    message = str(raised.value)
    assert "0.3 s" in message and "the toolbar" in message
    assert "node gone" in message and "console" in message


def test_wait_until_lets_other_errors_through():
    def check():
        raise ValueError("a bug in the test")

    with pytest.raises(ValueError):
        wait_until(check, 5, "anything", ignored=(LookupError,))


def test_holds_for_fails_as_soon_as_the_condition_breaks():
    broken_at = time.monotonic() + 0.2
    started = time.monotonic()
    with pytest.raises(AssertionError, match="no request reaching eTMA"):
        holds_for(lambda: time.monotonic() < broken_at, 10, "no request reaching eTMA")
    assert time.monotonic() - started < 2


def test_holds_for_returns_after_its_time():
    started = time.monotonic()
    holds_for(lambda: True, 0.2, "always")
    assert 0.2 <= time.monotonic() - started < 2


def test_within_gives_up_on_a_call_that_never_answers():
    never = threading.Event()
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="a wedged browser"):
        within(0.2, never.wait, "a wedged browser")
    assert time.monotonic() - started < 2
    never.set()


def test_within_returns_the_answer_or_raises_the_error():
    assert within(5, lambda: 42, "an answer") == 42
    with pytest.raises(KeyError):
        within(5, lambda: {}["missing"], "an error")
