"""Behaviour of the practice OSCAR and eTMA sites, exercised over real HTTP with requests."""

from __future__ import annotations

import io
import re
import socket
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
import requests

from tests.sites import Cohort, Faults, PracticeSites

SHORT_TIMEOUT = 0.5


@pytest.fixture(scope="module")
def cohort() -> Cohort:
    return Cohort(size=30, seed=351, module="TM351", assignment="TMA02")


@pytest.fixture(scope="module")
def running_sites(cohort: Cohort) -> Iterator[PracticeSites]:
    with PracticeSites(cohort) as sites:
        yield sites


@pytest.fixture()
def sites(running_sites: PracticeSites) -> Iterator[PracticeSites]:
    """The shared running sites, with every knob put back after each test."""
    yield running_sites
    running_sites.latency = 0.0
    running_sites.zip_pad_to = None
    running_sites.faults = Faults()
    running_sites.reset_hits()


@pytest.fixture()
def etma(sites: PracticeSites) -> Iterator[requests.Session]:
    with requests.Session() as session:
        sites.etma_login(session)
        yield session


@pytest.fixture()
def oscar(sites: PracticeSites) -> Iterator[requests.Session]:
    with requests.Session() as session:
        username, password = sites.OSCAR_LOGIN
        response = session.post(
            sites.oscar_url + "oscar/login",
            data={"username": username, "password": password},
            timeout=5,
        )
        assert response.status_code == 200
        yield session


def with_submission(cohort: Cohort) -> list[str]:
    return [student.pi for student in cohort.students if student.files]


def without_submission(cohort: Cohort) -> list[str]:
    return [student.pi for student in cohort.students if not student.files]


def student_page(
    sites: PracticeSites, session: requests.Session, pi: str, module: str = "TM351"
) -> requests.Response:
    return session.post(
        sites.etma_url + "etma/student",
        data={"course_code": module, "student_pi": pi, "tab": "eab"},
        timeout=5,
    )


def download(
    sites: PracticeSites, session: requests.Session, pi: str, timeout: float = 5
) -> requests.Response:
    """Search for the student, then submit the page's download form as a browser would."""
    page = student_page(sites, session, pi).text
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token, "student page has no download form"
    return session.post(
        sites.etma_url + "etma/download",
        timeout=timeout,
        data={
            "course_code": "TM351",
            "student_pi": pi,
            "token": token.group(1),
            "file_type": "zip",
        },
    )


# --- the cohort ---------------------------------------------------------------------------------


def test_cohort_is_deterministic_for_a_seed(cohort: Cohort) -> None:
    again = Cohort(size=30, seed=351)
    assert [(s.pi, s.code, s.files) for s in again.students] == [
        (s.pi, s.code, s.files) for s in cohort.students
    ]
    assert again.zip_bytes(cohort.students[0].pi) == cohort.zip_bytes(cohort.students[0].pi)
    assert Cohort(size=30, seed=352).students[0].pi != cohort.students[0].pi


def test_cohort_pis_codes_and_files_look_real(cohort: Cohort) -> None:
    pis = [s.pi for s in cohort.students]
    assert len(set(pis)) == len(pis)
    assert all(re.fullmatch(r"[A-Z]\d{7}", pi) for pi in pis)
    assert all(re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", s.code) for s in cohort.students)
    assert 1 <= len(without_submission(cohort)) < len(pis) // 2
    for pi in with_submission(cohort):
        files = cohort.student(pi).files
        assert 2 <= len(files) <= 6
        assert all(len(name) <= 50 for name in files)
    with pytest.raises(KeyError):
        cohort.student("Z0000000")


def test_cohort_zip_flags_every_member_name_as_utf8(cohort: Cohort) -> None:
    pi = with_submission(cohort)[0]
    with zipfile.ZipFile(io.BytesIO(cohort.zip_bytes(pi))) as archive:
        assert all(info.flag_bits & 0x800 for info in archive.infolist())
        assert {name: archive.read(name) for name in archive.namelist()} == cohort.student(pi).files


# --- OSCAR --------------------------------------------------------------------------------------


def test_oscar_redirects_to_login_without_a_session(sites: PracticeSites) -> None:
    response = requests.get(sites.allocation_url, allow_redirects=False, timeout=5)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/oscar/login?next=%2Foscar%2FworkAllocation")


def test_oscar_login_sets_httponly_cookie_and_returns_to_next(sites: PracticeSites) -> None:
    with requests.Session() as session:
        login_page = session.get(sites.allocation_url, timeout=5)
        assert 'name="password"' in login_page.text
        next_path = re.search(r'name="next" value="([^"]+)"', login_page.text).group(1)
        response = session.post(
            sites.oscar_url + "oscar/login",
            allow_redirects=False,
            timeout=5,
            data={
                "username": "tutor",
                "password": "oscar-demo",
                "next": next_path.replace("&amp;", "&"),
            },
        )
        assert response.status_code == 302
        assert "HttpOnly" in response.headers["Set-Cookie"]
        assert (
            session.get(sites.oscar_url.rstrip("/") + response.headers["Location"], timeout=5).url
            == sites.allocation_url
        )


def test_oscar_wrong_password_shows_form_with_error(sites: PracticeSites) -> None:
    response = requests.post(
        sites.oscar_url + "oscar/login",
        allow_redirects=False,
        timeout=5,
        data={"username": "tutor", "password": "nope"},
    )
    assert response.status_code == 200
    assert "not recognised" in response.text and 'name="password"' in response.text
    assert "Set-Cookie" not in response.headers


def test_allocation_table_lists_every_student(
    sites: PracticeSites, oscar: requests.Session, cohort: Cohort
) -> None:
    page = oscar.get(sites.allocation_url, timeout=5).text
    assert "Module TM351 – Assignment TMA 02" in page
    assert "<th>Student name</th><th>PI</th><th>Assignment</th><th>Marks</th>" in page
    listed = re.findall(r"<td>([A-Z]\d{7})</td>", page)
    assert listed == [s.pi for s in cohort.students]
    assert page.count('name="confirmation_code"') + page.count("Third marking unlocked") == 30


def test_allocation_for_unknown_module_says_none_found(
    sites: PracticeSites, oscar: requests.Session
) -> None:
    response = oscar.get(
        sites.oscar_url + "oscar/workAllocation?module=B999&assignment=TMA02", timeout=5
    )
    assert response.status_code == 200
    assert "No allocation found for module B999" in response.text


def test_marks_page_shows_marks_and_third_marking_decision(
    sites: PracticeSites, oscar: requests.Session, cohort: Cohort
) -> None:
    student = next(s for s in cohort.students if cohort.third_marking_required(s.pi))
    page = oscar.get(
        sites.oscar_url + f"oscar/marks?module=TM351&assignment=TMA02&pi={student.pi}", timeout=5
    ).text
    marks = cohort.marks[student.pi]
    for first, second in zip(marks.first, marks.second, strict=True):
        assert f'<td align="right">{first}</td>' in page
        assert f'<td align="right">{second}</td>' in page
    assert "<b>Third marking required:</b> Yes" in page


def test_confirm_with_right_code_unlocks_third_marking(
    sites: PracticeSites, oscar: requests.Session, cohort: Cohort
) -> None:
    student = cohort.students[1]
    response = oscar.post(
        sites.oscar_url + "oscar/confirm",
        timeout=5,
        data={
            "module": "TM351",
            "assignment": "TMA02",
            "pi": student.pi,
            "confirmation_code": f"  {student.code.lower()} ",
        },
    )
    assert f"Third marking unlocked for {student.pi}" in response.text
    assert student.pi in sites.unlocked
    page = oscar.get(sites.allocation_url, timeout=5).text
    assert page.count('name="confirmation_code"') == 29


def test_confirm_with_wrong_code_is_a_200_refusal(
    sites: PracticeSites, oscar: requests.Session, cohort: Cohort
) -> None:
    student = cohort.students[2]
    response = oscar.post(
        sites.oscar_url + "oscar/confirm",
        timeout=5,
        data={
            "module": "TM351",
            "assignment": "TMA02",
            "pi": student.pi,
            "confirmation_code": "AAAA-AAAA",
        },
    )
    assert response.status_code == 200
    assert "The confirmation code is not correct" in response.text
    assert student.pi not in sites.unlocked


# --- eTMA ---------------------------------------------------------------------------------------


def test_etma_redirects_to_login_without_a_session(sites: PracticeSites) -> None:
    response = requests.get(sites.etma_url + "etma/admin", allow_redirects=False, timeout=5)
    assert response.status_code == 302
    assert response.headers["Location"] == "/etma/login?next=%2Fetma%2Fadmin"


def test_etma_cookie_is_httponly_and_separate_from_oscar(
    sites: PracticeSites, oscar: requests.Session
) -> None:
    # The OSCAR cookie belongs to 127.0.0.1, so it does not log anyone in to eTMA on 127.0.0.2.
    assert (
        oscar.get(sites.etma_url + "etma/admin", allow_redirects=False, timeout=5).status_code
        == 302
    )
    response = requests.post(
        sites.etma_url + "etma/login",
        allow_redirects=False,
        timeout=5,
        data={"username": "tutor", "password": "etma-demo"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/etma/admin"
    assert response.headers["Set-Cookie"].startswith("ETMA_SESSION=")
    assert "HttpOnly" in response.headers["Set-Cookie"]


def test_etma_admin_tab_has_module_and_pi_search_form(
    sites: PracticeSites, etma: requests.Session
) -> None:
    page = etma.get(sites.etma_url + "etma/admin", timeout=5).text
    assert '<form method="post" action="student"' in page
    assert 'name="course_code"' in page and ">Module code</label>" in page
    assert 'name="student_pi"' in page and ">Student PI</label>" in page
    assert 'type="hidden" name="tab"' in page and 'value="Search"' in page


def test_student_page_shows_code_and_single_option_download_form(
    sites: PracticeSites, etma: requests.Session, cohort: Cohort
) -> None:
    student = cohort.student(with_submission(cohort)[0])
    page = student_page(sites, etma, student.pi.lower(), module=" tm351 ").text
    assert f"<th>Confirmation code:</th><td><b>{student.code}</b></td>" in page
    assert '<form method="post" action="/etma/download"' in page
    assert page.count("<option") == 1 and 'value="Download"' in page


def test_download_returns_the_exact_zip_with_the_students_files(
    sites: PracticeSites, etma: requests.Session, cohort: Cohort
) -> None:
    pi = with_submission(cohort)[3]
    response = download(sites, etma, pi)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"] == f'attachment; filename="TM351_TMA02_{pi}.zip"'
    assert response.content == cohort.zip_bytes(pi)
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        for name, data in cohort.student(pi).files.items():
            assert archive.read(name) == data


def test_unknown_pi_or_module_gives_a_200_error_page(
    sites: PracticeSites, etma: requests.Session, cohort: Cohort
) -> None:
    unknown = student_page(sites, etma, "Z0000000")
    assert unknown.status_code == 200
    assert "Error: no student record found for Z0000000" in unknown.text
    wrong_module = student_page(sites, etma, cohort.students[0].pi, module="B999")
    assert "Error: no student record found" in wrong_module.text
    assert cohort.students[0].code not in wrong_module.text


def test_student_page_shows_submission_date_and_late_flag_in_old_style_rows(
    sites: PracticeSites, etma: requests.Session, cohort: Cohort
) -> None:
    late = [pi for pi in with_submission(cohort) if cohort.is_late(pi)]
    on_time = [pi for pi in with_submission(cohort) if not cohort.is_late(pi)]
    assert late and on_time, "the cohort has late and on-time submissions"
    for pi, flag in ((late[0], "Yes"), (on_time[0], "No")):
        page = student_page(sites, etma, pi).text
        when = cohort.submitted_at(pi)
        assert when > cohort.due if flag == "Yes" else when <= cohort.due
        assert f"<tr><th>Date submitted</th><td>{when:%d/%m/%Y %H:%M}</td></tr>" in page
        assert f"<tr><th>Late submission</th><td>{flag}</td></tr>" in page
    nothing = student_page(sites, etma, without_submission(cohort)[0]).text
    assert "<tr><th>Date submitted</th><td>Not submitted</td></tr>" in nothing
    assert "Late submission" not in nothing


def test_student_without_submission_has_code_but_no_download_form(
    sites: PracticeSites, etma: requests.Session, cohort: Cohort
) -> None:
    student = cohort.student(without_submission(cohort)[0])
    page = student_page(sites, etma, student.pi).text
    assert student.code in page and "No files have been submitted" in page
    assert "/etma/download" not in page and "<select" not in page


def test_download_without_a_page_token_is_refused(
    sites: PracticeSites, etma: requests.Session, cohort: Cohort
) -> None:
    response = etma.post(
        sites.etma_url + "etma/download",
        timeout=5,
        data={"course_code": "TM351", "student_pi": with_submission(cohort)[0], "file_type": "zip"},
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Error:" in response.text


def test_zip_pad_to_streams_a_padded_zip(
    sites: PracticeSites, etma: requests.Session, cohort: Cohort
) -> None:
    pi = with_submission(cohort)[0]
    sites.zip_pad_to = 3_000_000
    response = download(sites, etma, pi)
    assert abs(len(response.content) - 3_000_000) < 1000
    assert response.content == cohort.zip_bytes(pi, pad_to=3_000_000)
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        padding = archive.getinfo("data/sensor_readings.bin")
        assert padding.compress_type == zipfile.ZIP_STORED


def test_etma_hits_count_each_request(
    sites: PracticeSites, etma: requests.Session, cohort: Cohort
) -> None:
    sites.reset_hits()
    download(sites, etma, with_submission(cohort)[0])
    assert sites.etma_hits == {("POST", "/etma/student"): 1, ("POST", "/etma/download"): 1}


def test_latency_delays_every_request(sites: PracticeSites) -> None:
    sites.latency = 0.2
    started = time.monotonic()
    requests.get(sites.oscar_url + "oscar/login", timeout=5)
    requests.get(sites.etma_url + "etma/login", timeout=5)
    assert time.monotonic() - started >= 0.4


# --- sessions -----------------------------------------------------------------------------------


def test_session_dies_after_configured_number_of_requests(
    sites: PracticeSites, etma: requests.Session
) -> None:
    sites.faults = Faults(session_expires_after=2)
    admin = sites.etma_url + "etma/admin"
    assert [etma.get(admin, allow_redirects=False, timeout=5).status_code for _ in range(3)] == [
        200,
        200,
        302,
    ]
    sites.etma_login(etma)
    assert etma.get(admin, allow_redirects=False, timeout=5).status_code == 200


def test_expire_etma_sessions_logs_everyone_out(
    sites: PracticeSites, etma: requests.Session
) -> None:
    admin = sites.etma_url + "etma/admin"
    assert etma.get(admin, allow_redirects=False, timeout=5).status_code == 200
    sites.expire_etma_sessions()
    response = etma.get(admin, allow_redirects=False, timeout=5)
    assert response.status_code == 302 and response.headers["Location"].startswith("/etma/login")


# --- faults -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "text"),
    [
        ("http500", 500, "Internal Server Error"),
        ("login_page", 200, 'name="password"'),
        ("wrong_type", 200, "Service temporarily unavailable"),
    ],
)
def test_html_faults_replace_the_zip_with_a_page(
    sites: PracticeSites,
    etma: requests.Session,
    cohort: Cohort,
    kind: str,
    status: int,
    text: str,
) -> None:
    pi = with_submission(cohort)[0]
    sites.faults = Faults(per_pi={pi: kind})
    response = download(sites, etma, pi)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    assert text in response.text


def test_corrupt_fault_sends_right_length_of_non_zip(
    sites: PracticeSites, etma: requests.Session, cohort: Cohort
) -> None:
    pi = with_submission(cohort)[0]
    sites.faults = Faults(per_pi={pi: "corrupt"})
    response = download(sites, etma, pi)
    assert response.status_code == 200
    assert len(response.content) == len(cohort.zip_bytes(pi))
    assert not zipfile.is_zipfile(io.BytesIO(response.content))


@pytest.mark.parametrize("kind", ["reset", "truncate", "stall"])
def test_connection_faults_break_the_download(
    sites: PracticeSites, etma: requests.Session, cohort: Cohort, kind: str
) -> None:
    pi = with_submission(cohort)[0]
    sites.faults = Faults(per_pi={pi: kind})
    with pytest.raises(requests.RequestException):
        download(sites, etma, pi, timeout=SHORT_TIMEOUT)


def test_fault_fires_the_given_number_of_times_then_succeeds(
    sites: PracticeSites, etma: requests.Session, cohort: Cohort
) -> None:
    pi = with_submission(cohort)[0]
    sites.faults = Faults(per_pi={pi: "http500"}, times=1)
    assert download(sites, etma, pi).status_code == 500
    assert download(sites, etma, pi).content == cohort.zip_bytes(pi)


def test_unknown_fault_kind_is_rejected() -> None:
    with pytest.raises(ValueError):
        Faults(per_pi={"P1234567": "explode"})


# --- servers ------------------------------------------------------------------------------------


def test_servers_bind_only_their_own_loopback_address(sites: PracticeSites) -> None:
    oscar, etma = urlsplit(sites.oscar_url), urlsplit(sites.etma_url)
    assert (oscar.hostname, etma.hostname) == ("127.0.0.1", "127.0.0.2")
    for host, port in (("127.0.0.2", oscar.port), ("127.0.0.1", etma.port)):
        with pytest.raises(OSError):
            socket.create_connection((host, port), timeout=1).close()


def test_stop_is_prompt_even_with_a_stalled_download(cohort: Cohort) -> None:
    sites = PracticeSites(cohort).start()
    pi = with_submission(cohort)[0]
    sites.faults = Faults(per_pi={pi: "stall"})
    session = requests.Session()
    sites.etma_login(session)
    worker = threading.Thread(target=lambda: _ignore_errors(download, sites, session, pi, 10))
    worker.start()
    time.sleep(0.3)
    started = time.monotonic()
    sites.stop()
    assert time.monotonic() - started < 3
    worker.join(5)
    assert not worker.is_alive()
    session.close()


def _ignore_errors(function: Callable[..., object], *args: object) -> None:
    try:
        function(*args)
    except (requests.RequestException, AssertionError):
        pass
