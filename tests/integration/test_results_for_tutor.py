"""Results shaped for a tutor: nothing submitted is its own outcome, names travel with students,
and eTMA's submission dates and late flags reach the records, the ledger and the codes table."""

from __future__ import annotations

import csv

import pytest

from etma_helper import PROTOCOL_VERSION
from etma_helper.batch import BatchRunner
from etma_helper.etma_pages import StudentPage
from etma_helper.etma_session import PageReader
from etma_helper.ledger import Ledger
from etma_helper.records import Job
from tests.conftest import etma_admin_url, login_cookies
from tests.hostproc import HostProcess
from tests.integration.test_crash_safety import download_request, helper_env


def make_job(sites, pis, action="download", names=None):
    return Job(
        action=action,
        etma_url=etma_admin_url(sites),
        module="TM351",
        assignment="TMA02",
        pis=tuple(pis),
        cookies=login_cookies(sites),
        names=names or {},
    )


def run(job, settings, tmp_path):
    events = []
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    summary = BatchRunner(job, settings, emit=events.append, job_id="j1", ledger=ledger).run()
    final = {e.pi: e for e in events if e.state != "working"}
    return summary, final, ledger


def table(path):
    with open(path, newline="", encoding="utf-8") as source:
        return {row["PI"]: row for row in csv.DictReader(source)}


@pytest.fixture
def chosen(cohort):
    students = cohort.students[:8]
    assert any(not s.files for s in students) and any(s.files for s in students)
    return students


@pytest.mark.parametrize("action", ["download", "codes"])
def test_a_student_who_submitted_nothing_is_not_submitted_in_both_kinds_of_job(
    fresh_sites, cohort, chosen, settings, tmp_path, action
):
    summary, final, ledger = run(
        make_job(fresh_sites, [s.pi for s in chosen], action), settings, tmp_path
    )
    nothing = [s for s in chosen if not s.files]
    for student in nothing:
        record = final[student.pi]
        assert record.state == "not_submitted", record
        assert "Nothing submitted" in record.reason and "TMA02" in record.reason
        assert record.code == student.code  # what the page showed is kept
        assert record.folder is None and record.files == ()
    for student in chosen:
        if student.files:
            assert final[student.pi].state == "done"
    assert summary.counts["not_submitted"] == len(nothing)
    assert summary.counts["failed"] == 0
    assert summary.counts["done"] == len(chosen) - len(nothing)
    assert list(summary.counts) == ["done", "not_submitted", "failed", "needs_login", "cancelled"]
    recorded = ledger.job_outcomes("j1")
    assert {pi for pi, o in recorded.items() if o.state == "not_submitted"} == {
        s.pi for s in nothing
    }
    rows = table(summary.codes_csv)
    assert list(rows) == [s.pi for s in chosen]  # the job's order
    for student in nothing:
        assert rows[student.pi]["Status"] == "not submitted"


def test_a_page_with_no_code_and_nothing_submitted_is_not_submitted(
    fresh_sites, cohort, settings, tmp_path, monkeypatch
):
    """The real eTMA likely shows no confirmation code when nothing was submitted: that used to
    read as "eTMA's page for this student shows no confirmation code", a failure."""
    student = cohort.students[0]
    empty = StudentPage(
        code=None,
        download=None,
        problem="eTMA's page for this student shows no confirmation code.",
        nothing_submitted=True,
        name="Ada Lovelace",
    )
    monkeypatch.setattr(PageReader, "student_page", lambda self, fetched: empty)
    for action in ("codes", "download"):
        summary, final, _ = run(make_job(fresh_sites, [student.pi], action), settings, tmp_path)
        assert final[student.pi].state == "not_submitted", final[student.pi]
        assert final[student.pi].code == "" and final[student.pi].name == "Ada Lovelace"
        assert summary.counts["failed"] == 0 and summary.codes_csv


def test_names_come_from_the_job_else_from_etmas_page(
    fresh_sites, cohort, chosen, settings, tmp_path
):
    given = {chosen[0].pi: "Ada Lovelace", chosen[5].pi: "Charles Babbage"}
    summary, final, ledger = run(
        make_job(fresh_sites, [s.pi for s in chosen], "codes", names=given), settings, tmp_path
    )
    expected = {s.pi: given.get(s.pi, s.name) for s in chosen}
    assert {pi: record.name for pi, record in final.items()} == expected
    assert {pi: o.name for pi, o in ledger.job_outcomes("j1").items()} == expected
    assert {pi: row["Name"] for pi, row in table(summary.codes_csv).items()} == expected


@pytest.mark.parametrize("markup", ["classic", "variant"])
def test_submission_dates_and_late_flags_reach_records_and_table(
    fresh_sites, cohort, chosen, settings, tmp_path, markup
):
    fresh_sites.etma_markup = markup
    try:
        summary, final, ledger = run(
            make_job(fresh_sites, [s.pi for s in chosen]), settings, tmp_path
        )
    finally:
        fresh_sites.etma_markup = "classic"
    rows = table(summary.codes_csv)
    for student in chosen:
        record = final[student.pi]
        if student.files:
            when = cohort.submitted_at(student.pi)
            assert record.submitted == when.strftime("%Y-%m-%dT%H:%M")
            assert record.late is cohort.is_late(student.pi)
            assert rows[student.pi]["Submitted"] == when.strftime("%Y-%m-%d %H:%M")
            assert rows[student.pi]["Late"] == ("yes" if cohort.is_late(student.pi) else "no")
        else:
            assert record.submitted == "" and record.late is None
        assert record.name == student.name
    assert ledger.job_outcomes("j1")[chosen[0].pi].submitted == final[chosen[0].pi].submitted
    assert any(cohort.is_late(s.pi) for s in cohort.students if s.files)


def test_the_helper_process_carries_names_and_refuses_bad_ones(fresh_sites, cohort, tmp_path):
    home = tmp_path / "home"
    host = HostProcess({**helper_env(home), "HOME": str(home)})
    try:
        host.send({"id": "hello", "action": "hello", "protocol": PROTOCOL_VERSION})
        assert host.receive()["status"] == "ok"
        nothing = next(s for s in cohort.students if not s.files)
        pis = [cohort.students[0].pi, nothing.pi]
        bad = download_request(fresh_sites, pis, "bad")
        bad["job"]["names"] = {"Z9999999": "Not in the job"}
        host.send(bad)
        reply = host.receive()
        assert (reply["status"], reply["code"], reply["params"]) == ("error", 3, {"field": "names"})
        request = download_request(fresh_sites, pis, "good")
        request["job"]["names"] = {pis[0]: "Ada Lovelace"}
        host.send(request)
        assert host.receive()["status"] == "ok"
        messages = []
        while not messages or messages[-1]["type"] != "summary":
            messages.append(host.receive())
        final = {
            m["data"]["pi"]: m["data"]
            for m in messages
            if m["type"] == "progress" and m["data"]["state"] != "working"
        }
        assert final[pis[0]]["name"] == "Ada Lovelace" and final[pis[0]]["state"] == "done"
        assert final[pis[0]]["submitted"] and final[pis[0]]["late"] in (True, False)
        assert final[nothing.pi]["state"] == "not_submitted"
        assert final[nothing.pi]["name"] == nothing.name
        assert final[nothing.pi]["reason"].startswith("Nothing submitted")
        counts = messages[-1]["data"]["counts"]
        assert counts == {
            "done": 1,
            "not_submitted": 1,
            "failed": 0,
            "needs_login": 0,
            "cancelled": 0,
        }
    finally:
        host.close()
