"""The practice OSCAR's marks pages and third-marks form, over real HTTP, read by meaning; and
`etma-helper flags` on exactly what the marks page shows."""

from __future__ import annotations

import csv
from collections.abc import Iterator

import pytest
import requests
from bs4 import BeautifulSoup

from etma_helper.cli import EXIT_OK, main
from tests.sites import Cohort, PracticeSites
from tests.sites.cohort import CASE_REASONS, INCOMPLETE_CASES, MARKING_CASES, QUESTIONS
from tests.sites.marks import MAX_COMMENTS, marks_path, third_marks_path, write_marks_csv


@pytest.fixture(scope="module")
def cohort() -> Cohort:
    return Cohort(size=30, seed=351, module="TM351", assignment="TMA02")


@pytest.fixture(scope="module")
def sites(cohort: Cohort) -> Iterator[PracticeSites]:
    # Its own sites: the tests here unlock students and save marks.
    with PracticeSites(cohort) as running:
        yield running


@pytest.fixture()
def oscar(sites: PracticeSites) -> Iterator[requests.Session]:
    with requests.Session() as session:
        username, password = sites.OSCAR_LOGIN
        session.post(
            sites.oscar_url + "oscar/login",
            data={"username": username, "password": password},
            timeout=5,
        )
        yield session


def url(sites: PracticeSites, path: str) -> str:
    return sites.oscar_url.rstrip("/") + path


def text(cell) -> str:
    return cell.get_text(" ", strip=True)


def read_marks_page(html: str) -> list[dict[str, str]]:
    """The marks page as long-format rows, found by the words a person reads: the table whose
    header has "PI" and "Marker", the rows headed "Maximum mark" and "Weighting", and each
    student's "First marker" and "Second marker" rows."""
    page = BeautifulSoup(html, "html.parser")
    table = next(
        t
        for t in page.find_all("table")
        if {"PI", "Marker"} <= {text(th) for th in t.find("tr").find_all("th")}
    )
    header = [text(th) for th in table.find("tr").find_all("th")]
    first_question = header.index("Marker") + 1
    questions = header[first_question : header.index("Third marking")]
    limits: dict[str, list[str]] = {}
    rows: list[dict[str, str]] = []
    pi = name = ""
    first: list[str] = []
    for tr in table.find_all("tr")[1:]:
        cells = tr.find_all(["td", "th"])
        words = [text(c) for c in cells]
        if words[0] in ("Maximum mark", "Weighting"):
            limits[words[0]] = words[1 : 1 + len(questions)]
        elif "First marker" in words:
            at = words.index("First marker")
            name, pi = words[at - 2], words[at - 1]
            first = words[at + 1 : at + 1 + len(questions)]
        elif words[0] == "Second marker":
            second = words[1 : 1 + len(questions)]
            for index, question in enumerate(questions):
                rows.append(
                    {
                        "PI": pi,
                        "name": name,
                        "question": question,
                        "max": limits["Maximum mark"][index],
                        "weight": limits["Weighting"][index],
                        "first": first[index],
                        "second": second[index],
                    }
                )
    return rows


def flags_for(marks_csv, out) -> dict[str, dict[str, str]]:
    assert main(["flags", "--marks", str(marks_csv), "--out", str(out)]) == EXIT_OK
    with out.open(newline="", encoding="utf-8") as data:
        return {row["PI"]: row for row in csv.DictReader(data)}


def test_the_marks_page_shows_every_mark_maximum_and_weight(sites, oscar, cohort):
    page = oscar.get(url(sites, marks_path(cohort)), timeout=5).text
    shown = read_marks_page(page)
    expected = [{key: str(value) for key, value in row.items()} for row in cohort.marks_rows()]
    assert shown == expected
    assert len(shown) == 30 * len(QUESTIONS)
    assert {row["max"] for row in shown} == {"10", "20", "5"}
    assert {row["weight"] for row in shown} == {"1", "2"}


def test_flags_from_the_page_flag_each_case_as_meant(sites, oscar, cohort, tmp_path):
    page = oscar.get(url(sites, marks_path(cohort)), timeout=5).text
    from_page = tmp_path / "from_page.csv"
    with from_page.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(
            out, fieldnames=["PI", "name", "question", "max", "weight", "first", "second"]
        )
        writer.writeheader()
        writer.writerows(read_marks_page(page))
    flags = flags_for(from_page, tmp_path / "flags.csv")
    exported = flags_for(write_marks_csv(cohort, tmp_path / "marks.csv"), tmp_path / "f2.csv")
    assert flags == exported
    assert list(flags) == [s.pi for s in cohort.students]
    seen_cases = set()
    for student in cohort.students:
        case = cohort.marks[student.pi].case
        seen_cases.add(case)
        row = flags[student.pi]
        reasons = CASE_REASONS.get(case, ())
        if case in INCOMPLETE_CASES:
            assert (row["third_marking"], row["reason"]) == ("no", "marks incomplete"), case
            assert cohort.third_marking_required(student.pi) is None
            continue
        assert row["third_marking"] == ("yes" if reasons else "no"), case
        assert ("marks differ by" in row["reason"]) == ("differ" in reasons), case
        assert ("straddles the" in row["reason"]) == ("straddle" in reasons), case
        # OSCAR's own answer (the site's rule, written apart from the helper's) agrees.
        assert cohort.third_marking_required(student.pi) == bool(reasons), case
    assert seen_cases == {case for case, _ in MARKING_CASES}


def test_the_edges_on_the_page_read_as_the_rule_says(cohort, tmp_path):
    flags = flags_for(write_marks_csv(cohort, tmp_path / "marks.csv"), tmp_path / "flags.csv")
    by_case = {}
    for student in cohort.students:
        by_case.setdefault(cohort.marks[student.pi].case, flags[student.pi])
    assert by_case["fifteen_in_one_band"]["difference"] == "15.0"
    assert by_case["fifteen_in_one_band"]["third_marking"] == "no"
    assert by_case["fifteen_in_top_band"]["second_percent"] == "85.0"
    assert by_case["fifteen_in_top_band"]["second_band"] == "Pass 1"
    assert by_case["fifteen_across_boundary"]["reason"] == (
        "straddles the Pass 1 / Pass 2 boundary (85.0% / 70.0%)"
    )
    assert by_case["on_boundary_straddle"]["reason"] == (
        "straddles the Pass 2 / Pass 3 boundary (70.0% / 68.3%)"
    )
    assert (
        by_case["pass_4_edge"]["reason"] == "straddles the Pass 4 / Fail boundary (40.0% / 38.3%)"
    )
    assert by_case["on_boundary_agree"]["first_band"] == "Pass 3"
    assert by_case["straddle"]["reason"] == "straddles the Pass 2 / Pass 3 boundary (71.7% / 68.3%)"
    assert by_case["differ"]["reason"] == "marks differ by 23.3% (over 15%)"


def test_one_students_page_shows_totals_and_oscars_answer(sites, oscar, cohort):
    flagged = next(s for s in cohort.students if cohort.marks[s.pi].case == "straddle")
    missing = next(s for s in cohort.students if cohort.marks[s.pi].case == "second_missing")
    query = "oscar/marks?module=TM351&assignment=TMA02&pi="
    page = oscar.get(sites.oscar_url + query + flagged.pi, timeout=5).text
    assert ">71.7%<" in page and ">68.3%<" in page
    assert "<b>Third marking required:</b> Yes" in page
    page = oscar.get(sites.oscar_url + query + missing.pi, timeout=5).text
    assert "<b>Third marking required:</b> Not yet: marks incomplete" in page


def unlock(sites: PracticeSites, oscar: requests.Session, student) -> None:
    answer = oscar.post(
        sites.oscar_url + "oscar/confirm",
        data={
            "module": "TM351",
            "assignment": "TMA02",
            "pi": student.pi,
            "confirmation_code": student.code,
        },
        timeout=5,
    )
    assert f"Third marking unlocked for {student.pi}" in answer.text


def form_fields(html: str) -> dict[str, str]:
    """The third-marks form's fields by their labels' words."""
    page = BeautifulSoup(html, "html.parser")
    form = page.find("form", method="post")
    fields = {}
    for label in form.find_all("label"):
        control = form.find(id=label["for"])
        fields[text(label)] = control["name"]
    return fields


def saved_table(html: str) -> dict[str, str] | None:
    page = BeautifulSoup(html, "html.parser")
    caption = page.find("caption", string="Saved third marks")
    if caption is None:
        return None
    rows = caption.find_parent("table").find_all("tr")
    return dict(
        zip(
            (text(c) for c in rows[0].find_all("th")),
            (text(c) for c in rows[1].find_all("td")),
            strict=True,
        )
    )


def test_the_third_marks_form_appears_only_once_unlocked(sites, oscar, cohort):
    student = cohort.students[3]
    link = url(sites, third_marks_path(cohort, student.pi))
    locked = oscar.get(link, timeout=5).text
    assert f"Third marking is locked for {student.pi}" in locked and "<form" not in locked
    posted = oscar.post(
        link.split("?")[0],
        data={"module": "TM351", "assignment": "TMA02", "pi": student.pi, "mark1": "5"},
        timeout=5,
    )
    assert "locked" in posted.text and student.pi not in sites.third_marks
    marks_page = oscar.get(url(sites, marks_path(cohort)), timeout=5).text
    assert "Locked: confirmation code needed" in marks_page
    unlock(sites, oscar, student)
    fields = form_fields(oscar.get(link, timeout=5).text)
    assert list(fields) == [
        "Q1 third mark (out of 10)",
        "Q2 third mark (out of 10)",
        "Q3 third mark (out of 20)",
        "Q4 third mark (out of 5)",
        "Q5 third mark (out of 5)",
        "Comments",
    ]
    assert "Enter third marks" in oscar.get(url(sites, marks_path(cohort)), timeout=5).text


def test_oscar_refuses_bad_marks_next_to_their_fields_and_saves_nothing(sites, oscar, cohort):
    student = cohort.students[4]
    unlock(sites, oscar, student)
    fields = form_fields(
        oscar.get(url(sites, third_marks_path(cohort, student.pi)), timeout=5).text
    )
    names = list(fields.values())
    data = {
        "module": "TM351",
        "assignment": "TMA02",
        "pi": student.pi,
        names[0]: "11",
        names[1]: "seven",
        names[2]: "",
        names[3]: "-1",
        names[4]: "2.5",
        "comments": "x" * (MAX_COMMENTS + 1),
    }
    answer = oscar.post(url(sites, "/oscar/thirdMarks"), data=data, timeout=5).text
    assert "The third marks were not saved" in answer
    page = BeautifulSoup(answer, "html.parser")
    errors = {}
    for row in page.find("form").find_all("tr"):
        label, error = row.find("label"), row.find("font", class_="error")
        if label is not None:
            errors[text(label)] = text(error) if error else ""
    assert errors == {
        "Q1 third mark (out of 10)": "The mark must be between 0 and 10.",
        "Q2 third mark (out of 10)": "The mark must be a number (at most two decimal places).",
        "Q3 third mark (out of 20)": "Enter a mark.",
        "Q4 third mark (out of 5)": "The mark must be between 0 and 5.",
        "Q5 third mark (out of 5)": "",
        "Comments": f"Comments may be at most {MAX_COMMENTS} characters (these are 2001).",
    }
    assert page.find("input", attrs={"name": names[1]})["value"] == "seven"  # typed, kept
    assert student.pi not in sites.third_marks
    assert saved_table(answer) is None


def test_oscar_saves_good_third_marks_and_shows_them_back(sites, oscar, cohort):
    student = cohort.students[1]
    unlock(sites, oscar, student)
    link = url(sites, third_marks_path(cohort, student.pi))
    names = list(form_fields(oscar.get(link, timeout=5).text).values())
    comment = "Good use of <b>pandas</b>; see Q3 & Q4.\nMore on reproducibility."
    data = {
        "module": "TM351",
        "assignment": "TMA02",
        "pi": student.pi,
        names[0]: "7",
        names[1]: "10",
        names[2]: "12.5",
        names[3]: "0",
        names[4]: " 5 ",
        "comments": comment,
    }
    answer = oscar.post(url(sites, "/oscar/thirdMarks"), data=data, timeout=5).text
    assert f"Third marks saved for {student.pi}" in answer
    expected = {"Q1": "7", "Q2": "10", "Q3": "12.5", "Q4": "0", "Q5": "5", "Comments": comment}
    again = oscar.get(link, timeout=5).text
    for page in (answer, again):
        shown = saved_table(page)
        assert shown is not None
        assert shown == expected
        soup = BeautifulSoup(page, "html.parser")
        assert soup.find("input", attrs={"name": names[2]})["value"] == "12.5"
        assert soup.find("textarea", attrs={"name": "comments"}).get_text() == comment
    assert sites.third_marks[student.pi].marks == {
        k: v for k, v in expected.items() if k != "Comments"
    }
    assert "Third marks saved" in oscar.get(url(sites, marks_path(cohort)), timeout=5).text


def test_oscar_can_refuse_one_students_third_marks_and_records_every_form_sent(
    sites, oscar, cohort
):
    student = cohort.students[6]
    unlock(sites, oscar, student)
    link = url(sites, third_marks_path(cohort, student.pi))
    names = list(form_fields(oscar.get(link, timeout=5).text).values())
    data = {"module": "TM351", "assignment": "TMA02", "pi": student.pi, "comments": "ok"}
    data.update({name: "1" for name in names})
    posted = len(sites.third_marks_posts)
    sites.refuse_third_marks[student.pi] = "This record is being edited by another user."
    try:
        answer = oscar.post(url(sites, "/oscar/thirdMarks"), data=data, timeout=5).text
    finally:
        sites.refuse_third_marks.pop(student.pi)
    assert "This record is being edited by another user." in answer
    assert student.pi not in sites.third_marks and saved_table(answer) is None
    answer = oscar.post(url(sites, "/oscar/thirdMarks"), data=data, timeout=5).text
    assert f"Third marks saved for {student.pi}" in answer
    assert sites.third_marks_posts[posted:] == [student.pi, student.pi]
