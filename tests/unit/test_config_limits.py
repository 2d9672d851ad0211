"""The limits on talking to eTMA: settings validated like the others, defaults everywhere."""

from __future__ import annotations

import dataclasses
import json

import pytest

from etma_helper.config import INTEGER_LIMITS, LIMITS, Settings, config_path
from etma_helper.etma_session import EtmaSession, Limits


def write_settings(tmp_path, **values):
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"download_root": str(tmp_path / "eTMA"), **values}))


def test_defaults_when_the_file_names_none(tmp_path):
    write_settings(tmp_path)
    settings = Settings.load()
    for name, (default, _, _) in LIMITS.items():
        assert getattr(settings, name) == default
    assert (settings.connect_timeout, settings.read_timeout) == (10, 60)
    assert (settings.page_deadline, settings.download_deadline) == (120, 1800)
    assert settings.max_page_bytes == 8 * 1024**2
    assert settings.max_download_bytes == settings.max_unpacked_bytes == 1024**3


def test_values_in_range_are_used_and_saved_back(tmp_path):
    chosen = {
        "connect_timeout": 5,
        "read_timeout": 30.5,
        "page_deadline": 60,
        "download_deadline": 600,
        "max_page_bytes": 2 * 1024**2,
        "max_download_bytes": 50 * 1024**2,
        "max_unpacked_bytes": 200 * 1024**2,
    }
    write_settings(tmp_path, **chosen)
    settings = Settings.load()
    assert {name: getattr(settings, name) for name in chosen} == chosen
    settings.save()
    assert {k: v for k, v in json.loads(config_path().read_text()).items() if k in chosen} == chosen
    assert Settings.load() == settings


@pytest.mark.parametrize(
    "name, bad",
    [
        ("page_deadline", True),  # a boolean is not a number of seconds
        ("read_timeout", False),
        ("max_page_bytes", True),
        ("page_deadline", 0),
        ("page_deadline", 4),
        ("download_deadline", 10**9),
        ("connect_timeout", -1),
        ("connect_timeout", "10"),
        ("max_page_bytes", 1024),
        ("max_page_bytes", 1.5e6),  # byte counts are whole numbers
        ("max_download_bytes", 2**60),
        ("max_unpacked_bytes", None),
        ("read_timeout", float("nan")),
    ],
)
def test_a_bad_value_is_ignored_for_the_default(tmp_path, caplog, name, bad):
    write_settings(tmp_path, **{name: bad})
    assert getattr(Settings.load(), name) == LIMITS[name][0]
    assert name in caplog.text


def test_a_boolean_concurrency_is_refused(tmp_path, caplog):
    write_settings(tmp_path, concurrency=True)
    assert Settings.load().concurrency == 4
    assert "concurrency True is not a whole number" in caplog.text


@pytest.mark.parametrize("name", ["concurrency", *LIMITS])
@pytest.mark.parametrize("bad", [True, False, "4", None])
def test_settings_made_in_code_refuse_a_non_number_naming_the_key(tmp_path, name, bad):
    """``True`` is an int to Python; no numeric setting may take it, however it is made."""
    with pytest.raises(ValueError, match=f"^{name} must be"):
        Settings(download_root=tmp_path, **{name: bad})
    with pytest.raises(ValueError, match=f"^{name} must be"):
        dataclasses.replace(Settings(download_root=tmp_path), **{name: bad})


def test_whole_number_settings_refuse_fractions(tmp_path):
    for name in ("concurrency", *INTEGER_LIMITS):
        with pytest.raises(ValueError, match=f"^{name} must be a whole number"):
            Settings(download_root=tmp_path, **{name: 2.5})
    assert Settings(download_root=tmp_path, read_timeout=2.5).read_timeout == 2.5


def test_a_settings_file_that_is_not_an_object_means_defaults(tmp_path):
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text("[1, 2]")
    assert Settings.load().page_deadline == LIMITS["page_deadline"][0]


def test_limits_come_from_settings_and_default_without_them(tmp_path):
    settings = Settings(download_root=tmp_path, page_deadline=30, max_page_bytes=1024**2)
    limits = Limits.from_settings(settings)
    assert (limits.page_deadline, limits.max_page_bytes) == (30, 1024**2)
    assert limits.download_deadline == LIMITS["download_deadline"][0]
    assert Limits.from_settings(object()) == Limits()
    with pytest.raises(ValueError):
        Limits(page_deadline=0)
    with pytest.raises(ValueError):
        Limits(max_page_bytes=True)


def test_a_session_is_limited_whoever_creates_it():
    """Callers passing nothing get the defaults; the old read_timeout keyword still works."""
    plain = EtmaSession("https://etma.example/", ())
    assert plain.limits == Limits()
    assert plain.timeout == (10, 60)
    old_style = EtmaSession("https://etma.example/", (), read_timeout=5)
    assert old_style.timeout == (10, 5) and old_style.limits.page_deadline == 120
    both = EtmaSession(
        "https://etma.example/", (), limits=Limits(connect_timeout=3), read_timeout=7
    )
    assert both.timeout == (3, 7)
