"""A job's optional ``names``: the tutor's names for its students, checked at the edge."""

from __future__ import annotations

import pytest

from etma_helper.errors import ErrorCode, ProtocolError
from etma_helper.protocol import parse_job


def request(**job):
    base = {
        "etma_url": "http://127.0.0.2:8802/",
        "module": "TM351",
        "pis": ["P1234567", "q7654321"],
    }
    return {"id": "7", "action": "download", "job": {**base, **job}}


def test_names_are_optional():
    assert parse_job("download", request()).names == {}
    assert parse_job("download", request(names=None)).names == {}


def test_names_are_kept_by_pi_as_the_pis_are_written():
    job = parse_job(
        "codes", request(names={"P1234567": " Ada  Lovelace ", "q7654321": "Zo\u00eb O'Brien"})
    )
    assert job.names == {"P1234567": "Ada Lovelace", "Q7654321": "Zo\u00eb O'Brien"}


def test_an_empty_name_is_no_name():
    assert parse_job("codes", request(names={"P1234567": "  "})).names == {}


@pytest.mark.parametrize(
    "names",
    [
        ["Ada"],
        "Ada",
        {"P7777777": "Not in the job"},
        {"not a pi": "Ada"},
        {"P1234567": 7},
        {"P1234567": None},
        {"P1234567": "A" * 201},
        {"P1234567": "Ada\nLovelace"},
        {"P1234567": "Ada\x00"},
        {"P1234567": "Ada\x9b"},
        {"P1234567": "Ada\u202eecalevol"},
        {"P1234567": "Ada\u2028Lovelace"},
    ],
)
def test_anything_else_is_invalid_field_names(names):
    with pytest.raises(ProtocolError) as raised:
        parse_job("download", request(names=names))
    assert raised.value.code == ErrorCode.INVALID_FIELD
    assert raised.value.params == {"field": "names"}


def test_a_name_of_200_characters_is_accepted():
    assert parse_job("download", request(names={"P1234567": "A" * 200})).names["P1234567"] == (
        "A" * 200
    )
