"""Attachment names from the server: RFC 6266 parsing, made safe for every OS."""

import pytest

from etma_helper.etma_session import server_filename


@pytest.mark.parametrize(
    "header, expected",
    [
        ('attachment; filename="TM351_TMA02_P1234567.zip"', "TM351_TMA02_P1234567.zip"),
        ("attachment; filename*=UTF-8''Zo%C3%AB%20TMA02.zip", "Zoë TMA02.zip"),
        ("attachment; filename=\"fallback.zip\"; filename*=UTF-8''r%C3%A9el.zip", "réel.zip"),
        ('attachment; filename="../../etc/passwd"', "passwd"),
        ('attachment; filename="C:\\\\Windows\\\\con.zip"', "_con.zip"),
        ('attachment; filename="what?.zip"', "what_.zip"),
        ("attachment", ""),
        ("", ""),
    ],
)
def test_server_filenames_are_parsed_and_made_safe(header, expected):
    assert server_filename(header) == expected
