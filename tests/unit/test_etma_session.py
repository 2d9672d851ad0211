"""An EtmaSession is a context manager: its connections are released when the block ends."""

from __future__ import annotations

import pytest

from etma_helper.etma_session import EtmaSession


def spy_on_close(session: EtmaSession) -> list[str]:
    """Record when the session's requests.Session (its connection pool) is closed."""
    closed: list[str] = []
    real = session.http.close
    session.http.close = lambda: (closed.append("pool"), real())[1]
    return closed


def test_a_with_block_closes_the_session_and_its_pool():
    with EtmaSession("https://etma.example/", ()) as session:
        closed = spy_on_close(session)
        assert not session.cancelled
    assert closed == ["pool"] and session.cancelled


def test_a_with_block_left_by_an_exception_closes_it_too_and_lets_the_exception_go():
    with pytest.raises(KeyError), EtmaSession("https://etma.example/", ()) as session:
        closed = spy_on_close(session)
        raise KeyError("boom")
    assert closed == ["pool"] and session.cancelled
