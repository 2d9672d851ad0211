"""The site profile: the built-in one, a user's own, and clear errors for broken files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etma_helper import config
from etma_helper.config import Settings
from etma_helper.etma_pages import find_search_form, read_student_page
from etma_helper.site_profile import ProfileError, SiteProfile

BASE = "https://etma.example/eab/"
ADMIN_CY = """<form action=chwilio method=post>
  <p>Cod y modwl <input name=mc></p><p>Rhif adnabod <input name=sid></p>
  <input type=submit value=Chwilio></form>"""
STUDENT_CY = """<table><tr><th>Cyfeirnod derbyn</th><td>104-889-271</td></tr></table>
  <form action=lawrlwytho method=post><select name=m><option value=z>Zip</option></select>
  <input type=submit value=Lawrlwytho></form>"""


def write(tmp_path: Path, data: dict | str) -> Path:
    path = tmp_path / "mysite.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_builtin_profile_is_the_default_and_ships_in_the_package():
    profile = SiteProfile.load(None)
    assert profile is SiteProfile.builtin()
    assert profile.name == "practice" and profile.source.startswith("built-in")
    assert profile.code_label.search("Confirmation code") and profile.pi_field is None


def test_users_profile_reads_a_site_the_builtin_profile_cannot(tmp_path):
    assert find_search_form(ADMIN_CY, BASE) is None
    assert read_student_page(STUDENT_CY, BASE).code is None
    profile = SiteProfile.load(
        write(
            tmp_path,
            {
                "name": "Welsh eTMA",
                "search_form": {"module_field": "mc", "pi_field": "sid"},
                "student_page": {"code_label": "cyfeirnod\\s+derbyn", "code_token": "[0-9-]{6,}"},
                "download_form": {"button_words": "lawrlwytho"},
            },
        )
    )
    found = find_search_form(ADMIN_CY, BASE, profile)
    assert (found.module_field, found.pi_field) == ("mc", "sid")
    assert found.form.action == "https://etma.example/eab/chwilio"
    page = read_student_page(STUDENT_CY, BASE, profile)
    assert page.code == "104-889-271"
    assert page.download.action == "https://etma.example/eab/lawrlwytho"


def test_keys_a_user_leaves_out_keep_the_builtin_values(tmp_path):
    profile = SiteProfile.load(write(tmp_path, {"search_page": {"path": "eab/search.do"}}))
    builtin = SiteProfile.builtin()
    assert profile.name == "mysite" and profile.search_path == "eab/search.do"
    assert profile.pi_meaning.pattern == builtin.pi_meaning.pattern
    assert profile.login_password_field is True


def test_exact_field_name_wins_over_meaning(tmp_path):
    html = """<form><label>Module <input name=a></label><label>PI <input name=b></label>
      <label>Other PI <input name=c></label></form>"""
    profile = SiteProfile.load(write(tmp_path, {"search_form": {"pi_field": "c"}}))
    assert find_search_form(html, BASE, profile).pi_field == "c"
    assert find_search_form(html, BASE).pi_field == "b"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"student_page": {"code_label": "confirmation (code"}},
            "profile key 'student_page.code_label' is not a valid regular expression: "
            "missing ), unterminated subpattern",
        ),
        (
            {"student_page": {"code_lable": "x"}},
            "profile key 'student_page.code_lable' is not a known key",
        ),
        ({"search_forms": {}}, "profile key 'search_forms' is not a known section"),
        (
            {"login_page": {"password_field": "yes"}},
            "'login_page.password_field' must be true or false",
        ),
        ({"search_form": {"pi_field": ""}}, "'search_form.pi_field' must be a field name or null"),
        ({"search_form": {"pi_meaning": ""}}, "'search_form.pi_meaning' must not be empty"),
        ({"search_page": {"path": 3}}, "'search_page.path' must be a string"),
        ({"search_page": []}, "'search_page' must be a JSON object"),
        ([], "must be a JSON object"),
        ("{not json", "is not valid JSON: Expecting property name"),
    ],
)
def test_a_broken_profile_is_refused_naming_the_key(tmp_path, data, message):
    path = write(tmp_path, data if not isinstance(data, list) else "[]")
    with pytest.raises(ProfileError) as refused:
        SiteProfile.load(path)
    assert message in str(refused.value)
    assert str(path) in str(refused.value)


def test_a_missing_profile_file_is_named(tmp_path):
    with pytest.raises(ProfileError, match="nowhere.json does not exist"):
        SiteProfile.load(tmp_path / "nowhere.json")


def test_notes_in_underscore_keys_are_ignored(tmp_path):
    data = {"_about": "my site", "student_page": {"_why": "ours differs", "code_token": "\\d{6}"}}
    assert SiteProfile.load(write(tmp_path, data)).code_token.pattern == "\\d{6}"


def test_settings_read_and_keep_the_profile_path(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "config_path", lambda: tmp_path / "config.json")
    assert Settings.load().profile is None
    (tmp_path / "config.json").write_text(json.dumps({"profile": "~/mysite.json"}))
    settings = Settings.load()
    assert settings.profile == Path("~/mysite.json").expanduser()
    settings.save()
    assert Settings.load().profile == settings.profile
