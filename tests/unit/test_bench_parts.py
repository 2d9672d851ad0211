"""The benchmark's own parts do what its report claims, so its ratios mean what they say.

Behaviour only (no timing): the sites in their own process serve the cohort and count hits,
the thinnest client reads every zip with two requests per student, and the bare host answers
hello like the helper's framing expects.
"""

from __future__ import annotations

from tests.bench.engine import BARE_HOST, cohort_with_submissions
from tests.bench.sites_process import SitesProcess
from tests.bench.thin_client import fetch_all
from tests.conftest import etma_admin_url, login_cookies
from tests.hostproc import HostProcess


def test_thin_client_reads_every_zip_with_two_requests_per_student_from_the_sites_process():
    cohort, pis = cohort_with_submissions(3)
    with SitesProcess(cohort, zip_pad_to=50_000) as sites:
        sites.prewarm(pis)
        cookies = {cookie.name: cookie.value for cookie in login_cookies(sites)}
        sites.reset_hits()
        read = fetch_all(etma_admin_url(sites), cohort.module, pis, cookies, concurrency=2)
        hits = sites.etma_hits
    assert read >= 3 * 50_000
    assert hits == {("POST", "/etma/student"): 3, ("POST", "/etma/download"): 3}


def test_bare_host_answers_hello_as_the_helper_does():
    host = HostProcess(program=(str(BARE_HOST),))
    try:
        host.send({"id": "h", "action": "hello", "protocol": 1})
        answer = host.receive(timeout=30)
    finally:
        host.close()
    assert answer["type"] == "reply" and answer["id"] == "h" and answer["status"] == "ok"
