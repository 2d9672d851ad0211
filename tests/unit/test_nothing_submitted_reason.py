"""The sentence a tutor reads for a student who submitted nothing."""

from etma_helper.batch import nothing_submitted_reason
from etma_helper.etma_pages import StudentPage


def page(**facts):
    return StudentPage(code=None, download=None, nothing_submitted=True, **facts)


def test_the_reason_names_the_assignment():
    assert nothing_submitted_reason("TMA02", page()) == "Nothing submitted for TMA02 on eTMA."
    assert nothing_submitted_reason("", page()) == (
        "Nothing submitted for this assignment on eTMA."
    )


def test_the_reason_says_what_etmas_page_shows():
    assert nothing_submitted_reason("TMA02", page(late=True)) == (
        "Nothing submitted for TMA02 on eTMA; its page marks it late."
    )
    assert nothing_submitted_reason("TMA02", page(submitted="2024-03-09T08:05", late=True)) == (
        "Nothing submitted for TMA02 on eTMA; its page shows a submission date of "
        "9 Mar 2024 08:05 and marks it late."
    )
    assert nothing_submitted_reason("TMA02", page(submitted="2024-03-09", late=False)) == (
        "Nothing submitted for TMA02 on eTMA; its page shows a submission date of 9 Mar 2024."
    )
