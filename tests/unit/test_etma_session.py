"""An EtmaSession is a context manager: its connections are released when the block ends."""

from __future__ import annotations

import pytest

from etma_helper.etma_session import EtmaSession, FetchedPage
from etma_helper.records import Cookie


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


def _page_saying(html, monkeypatch, cookie_value):
    """A student's page saying ``html``, as a session holding a cookie of that value reads it."""
    from etma_helper import etma_pages

    form = etma_pages.SearchForm(etma_pages.Form("http://127.0.0.1:9/s", "post"), "m", "p")
    cookies = (Cookie("S", cookie_value, "127.0.0.1"),)
    with EtmaSession("http://127.0.0.1:9/", cookies) as session:
        session.use_search_form(form)
        fetched = FetchedPage(html.encode(), "http://127.0.0.1:9/s", "utf-8")
        monkeypatch.setattr(session, "_fetch_page", lambda *args, **kwargs: fetched)
        return session.student_page("TM351", "P1234567")


def test_a_page_quoting_the_session_cookie_is_believed_in_nothing(monkeypatch):
    """Not its code, not its name, not that nothing was submitted: the student fails."""
    from etma_helper.etma_session import ECHOED_SECRET

    secret = "K7M2-Q9XD-SESSION-42"
    page = _page_saying(
        f"<table><tr><th>Student name</th><td>Ada</td></tr><tr><th>Confirmation code</th>"
        f"<td>{secret}</td></tr></table><p>No files have been submitted.</p>",
        monkeypatch,
        secret,
    )
    assert page.code is None and page.problem == ECHOED_SECRET
    assert not page.nothing_submitted and page.name is None


def test_a_name_quoting_the_session_cookie_is_dropped(monkeypatch):
    secret = "session-value-echoed"
    page = _page_saying(
        f"<table><tr><th>Student name</th><td>Ada {secret}</td></tr><tr><th>Confirmation "
        "code</th><td>AB12-CD34</td></tr></table>",
        monkeypatch,
        secret,
    )
    assert page.name is None and page.code == "AB12-CD34"


def test_a_cookie_quoted_where_the_code_goes_is_not_believed_even_when_no_code_shaped(
    monkeypatch,
):
    """A session value no code pattern matches (it holds '_'), quoted after the code label of a
    page that says nothing was submitted: the student fails, never 'nothing submitted'."""
    from etma_helper.etma_session import ECHOED_SECRET

    secret = "q9_xZ-session_Value_0123"
    page = _page_saying(
        f"<table><tr><th>Confirmation code:</th><td><b>{secret}</b></td></tr></table>"
        "<p>No files have been submitted for this assignment.</p>",
        monkeypatch,
        secret,
    )
    assert page.code is None and page.problem == ECHOED_SECRET and not page.nothing_submitted


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        # The reader trims a leading "-" with the label's punctuation: 31 of 32 would be read.
        ("-cXmG7HEA3MQFYTATQFREFYHEWH01F6-", "-cXmG7HEA3MQFYTATQFREFYHEWH01F6-"),
        ("_q9xZsessionValue0123456789abc", "_q9xZsessionValue0123456789abc"),
        ("Zq81mPx0LkR5tVw2YbN7cD4e", "ZQ81MPX0LKR5"),  # cut short, upper case
        ("Zq81mPx0LkR5tVw2YbN7cD4e", "zq81 mPx0 LkR5 tVw2"),  # broken into groups
    ],
)
def test_a_cookie_shown_trimmed_cut_or_grouped_is_still_not_believed(monkeypatch, secret, shown):
    from etma_helper.etma_session import ECHOED_SECRET

    page = _page_saying(
        f"<table><tr><th>Confirmation code:</th><td><b>{shown}</b></td></tr></table>"
        "<p>No files have been submitted for this assignment.</p>",
        monkeypatch,
        secret,
    )
    assert page.code is None and page.problem == ECHOED_SECRET and not page.nothing_submitted


def test_a_code_that_shares_a_few_characters_with_the_cookie_is_believed(monkeypatch):
    secret = "AB12CD34xYz0987654321qwerty"  # starts with the code's eight letters and digits
    page = _page_saying(
        "<table><tr><th>Confirmation code:</th><td><b>AB12-CD34</b></td></tr></table>"
        "<p>No files have been submitted for this assignment.</p>",
        monkeypatch,
        secret,
    )
    assert page.code == "AB12-CD34" and page.nothing_submitted
