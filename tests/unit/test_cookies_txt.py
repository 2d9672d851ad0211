"""cookies.txt as browser extensions export it: HttpOnly lines, session cookies, other sites."""

from __future__ import annotations

import pytest

from etma_helper.cookies_txt import CookiesFileError, load_cookies_txt

ETMA = "https://etma.open.ac.uk/etma/admin"


def test_httponly_and_session_cookies_for_etma_are_kept_and_others_left_out(tmp_path):
    path = tmp_path / "cookies.txt"
    path.write_text(
        "# Netscape HTTP Cookie File\n"
        "# https://curl.se/docs/http-cookies.html\n\n"
        "#HttpOnly_etma.open.ac.uk\tFALSE\t/\tTRUE\t0\tETMA_SESSION\tabc123\n"
        ".open.ac.uk\tTRUE\t/\tFALSE\t4102444800\tSAMS\tsso-token\n"
        "oscar.open.ac.uk\tFALSE\t/\tFALSE\t0\tOSCAR\tnot-for-etma\n"
        ".example.com\tTRUE\t/\tFALSE\t0\ttracker\tx\n"
        "etma.open.ac.uk\tFALSE\t/\tFALSE\t1000\told\texpired\n"
    )
    cookies = load_cookies_txt(path, ETMA)
    assert [(c.name, c.value, c.domain, c.secure) for c in cookies] == [
        ("ETMA_SESSION", "abc123", "etma.open.ac.uk", True),
        ("SAMS", "sso-token", "open.ac.uk", False),
    ]


def test_file_without_the_magic_line_and_with_an_empty_value_is_read(tmp_path):
    path = tmp_path / "cookies.txt"
    path.write_text("127.0.0.2\tTRUE\t/\tFALSE\t0\tflag\t\n127.0.0.2\tFALSE\t/\tFALSE\t0\tnovalue")
    assert [(c.name, c.value) for c in load_cookies_txt(path, "http://127.0.0.2:8802/")] == [
        ("flag", ""),
        ("novalue", ""),
    ]


def test_a_line_in_another_format_is_refused_with_its_number(tmp_path):
    path = tmp_path / "cookies.txt"
    path.write_text("# Netscape HTTP Cookie File\nETMA_SESSION=abc; path=/\n")
    with pytest.raises(CookiesFileError, match="line 2: expected 7 tab-separated fields"):
        load_cookies_txt(path, ETMA)


def test_a_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_cookies_txt(tmp_path / "none.txt", ETMA)
