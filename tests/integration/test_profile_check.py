"""``profile check`` against the practice eTMA, and reading pages by meaning end to end."""

from __future__ import annotations

import json

import pytest

from etma_helper.batch import BatchRunner
from etma_helper.etma_session import EtmaSession
from etma_helper.profile_check import check_profile, format_report
from etma_helper.records import Job
from etma_helper.site_profile import SiteProfile, _builtin_values
from tests.conftest import etma_admin_url, login_cookies


def by_item(results):
    return {r.item: r for r in results}


@pytest.fixture
def variant_sites(fresh_sites):
    """The practice eTMA serving its pages in other markup (see tests/sites/etma.py)."""
    fresh_sites.etma_markup = "variant"
    yield fresh_sites
    fresh_sites.etma_markup = "classic"


def test_check_of_a_good_student_finds_every_item(fresh_sites, cohort):
    student = next(s for s in cohort.students if s.files)
    results = check_profile(
        etma_admin_url(fresh_sites), login_cookies(fresh_sites), None, "TM351", student.pi
    )
    items = by_item(results)
    assert all(r.found for r in results), format_report(results)
    assert "'course_code'" in items["search form found"].detail
    assert "'student_pi'" in items["search form found"].detail
    assert items["search form found"].detail.endswith(fresh_sites.etma_url + "etma/student")
    assert items["confirmation code found"].detail == student.code
    assert "file_type = zip" in items["download form found"].detail
    assert fresh_sites.etma_hits[("POST", "/etma/download")] == 0  # a check downloads nothing
    assert items["student name found"].detail == student.name
    when = cohort.submitted_at(student.pi).strftime("%Y-%m-%dT%H:%M")
    assert items["submission date found"].detail == when
    assert items["late flag found"].detail == ("late" if cohort.is_late(student.pi) else "on time")


def test_what_the_page_may_not_show_is_optional_and_fails_no_check(fresh_sites, cohort):
    """A profile that finds no name, date or late flag: noted with the key to change, never
    MISSING, so the check still passes."""
    student = next(s for s in cohort.students if s.files)
    blind = SiteProfile.from_json(
        json.dumps(
            {
                "student_page": {
                    "name_label": "no such label",
                    "submitted_label": "no such label",
                    "late_label": "no such label",
                }
            }
        ),
        "blind.json",
        base=_builtin_values(),
    )
    results = check_profile(
        etma_admin_url(fresh_sites), login_cookies(fresh_sites), blind, "TM351", student.pi
    )
    items = by_item(results)
    for item in ("student name found", "submission date found", "late flag found"):
        assert items[item].optional and not items[item].found
        assert "student_page." in items[item].hint
    report = format_report(results)
    assert "MISSING" not in report and "not shown" in report
    assert all(r.found or r.optional for r in results)


def test_check_of_an_unknown_pi_reports_etmas_own_words(fresh_sites):
    results = check_profile(
        etma_admin_url(fresh_sites), login_cookies(fresh_sites), None, "TM351", "Z9999999"
    )
    items = by_item(results)
    assert items["search form found"].found
    assert not items["student page reached"].found
    assert "no student record found for Z9999999" in items["student page reached"].detail
    assert "MISSING" in format_report(results)


def test_check_without_cookies_reports_the_login_page(fresh_sites):
    results = check_profile(etma_admin_url(fresh_sites), (), None, "TM351", "P1234567")
    page = by_item(results)["eTMA page reached"]
    assert not page.found and "login page" in page.detail
    assert "log in to eTMA" in page.hint
    assert "search form found" not in by_item(results)


def test_check_names_the_fields_on_a_page_without_the_search_form(fresh_sites, tmp_path):
    profile_file = tmp_path / "p.json"
    profile_file.write_text(json.dumps({"search_form": {"pi_field": "sid"}}))
    results = check_profile(
        etma_admin_url(fresh_sites),
        login_cookies(fresh_sites),
        SiteProfile.load(profile_file),
        "TM351",
        "P1234567",
    )
    form = by_item(results)["search form found"]
    assert not form.found and "'student_pi'" in form.detail and "pi_field" in form.hint


def test_search_page_path_from_the_profile_is_used(fresh_sites, cohort, tmp_path):
    profile_file = tmp_path / "p.json"
    profile_file.write_text(json.dumps({"search_page": {"path": "etma/admin"}}))
    student = cohort.students[0]
    with EtmaSession(
        fresh_sites.etma_url, login_cookies(fresh_sites), profile=SiteProfile.load(profile_file)
    ) as session:
        assert session.student_page("TM351", student.pi).code == student.code
    assert fresh_sites.etma_hits[("GET", "/etma/admin")] == 1
    assert fresh_sites.etma_hits[("GET", "/")] == 0


def test_check_reads_the_variant_markup_with_the_builtin_profile(variant_sites, cohort):
    student = next(s for s in cohort.students if s.files)
    results = check_profile(
        variant_sites.etma_url, login_cookies(variant_sites), None, "TM351", student.pi
    )
    items = by_item(results)
    assert all(r.found for r in results), format_report(results)
    assert "'crs'" in items["search form found"].detail
    assert items["confirmation code found"].detail == student.code


def test_batch_downloads_and_reads_codes_from_the_variant_markup(variant_sites, cohort, settings):
    pis = [s.pi for s in cohort.students[:8]]
    job = Job(
        action="download",
        etma_url=etma_admin_url(variant_sites),
        module="TM351",
        assignment="TMA02",
        pis=tuple(pis),
        cookies=login_cookies(variant_sites),
    )
    events = []
    summary = BatchRunner(job, settings, emit=events.append, job_id="v").run()
    final = {e.pi: e for e in events if e.state != "working"}
    for student in cohort.students[:8]:
        record = final[student.pi]
        assert record.code == student.code
        folder = settings.download_root / "TM351" / "TMA02" / student.pi
        if student.files:
            assert record.state == "done", record.reason
            on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
            assert on_disk == set(student.files)
        else:
            assert record.state == "not_submitted" and "Nothing submitted" in record.reason
    assert summary.outcome == "finished"
