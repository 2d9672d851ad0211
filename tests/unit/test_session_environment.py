"""A tutor behind a proxy, or with their own CA bundle, is served as requests would serve them.

The session reads the environment once, for the eTMA origin, instead of before every request:
these tests show a proxy named in the environment still carries every request, NO_PROXY still
exempts the eTMA host, and a CA bundle named in the environment is the one TLS checks against.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from etma_helper.etma_session import EtmaSession

SEARCH_PAGE = b"""<html><body><form method="post" action="/etma/student">
<label>Module code <input name="course_code"></label>
<label>Student PI <input name="student_pi"></label>
<input type="submit" value="Search"></form></body></html>"""
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


class Recorder(BaseHTTPRequestHandler):
    """Answers every request with eTMA's search page and notes the request line's target
    (a proxy is sent the whole address, an origin server the path alone)."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.targets.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(SEARCH_PAGE)))
        self.end_headers()
        self.wfile.write(SEARCH_PAGE)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def server():
    """A loopback HTTP server that records what it was asked for."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    httpd.targets = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


def test_a_proxy_named_in_the_environment_carries_every_request(server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.server_port}")
    # An address no resolver knows: it can only be reached through the proxy.
    etma = "http://etma.example.invalid/etma/admin"
    with EtmaSession(etma, ()) as session:
        monkeypatch.delenv("HTTP_PROXY")  # read when the session began, as a job's sessions are
        session.student_page("TM351", "A1234567")
    assert server.targets == [etma, "http://etma.example.invalid/etma/student"]


def test_no_proxy_exempts_the_etma_host(server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # the discard port: nothing answers
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with EtmaSession(f"http://127.0.0.1:{server.server_port}/etma/admin", ()) as session:
        session.student_page("TM351", "A1234567")
    assert server.targets == ["/etma/admin", "/etma/student"]


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_a_ca_bundle_named_in_the_environment_is_used(monkeypatch, tmp_path, variable):
    bundle = tmp_path / "university-ca.pem"
    monkeypatch.setenv(variable, str(bundle))
    with EtmaSession("https://etma.example.invalid/etma/admin", ()) as session:
        assert session.http.verify == str(bundle)
    with EtmaSession("https://etma.example.invalid/etma/admin", ()) as session:
        monkeypatch.delenv(variable)
        assert session.http.verify == str(bundle)
    with EtmaSession("https://etma.example.invalid/etma/admin", ()) as session:
        assert session.http.verify is True
