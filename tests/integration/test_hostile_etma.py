"""The practice eTMA in hostile mode: every attack is refused or made safe, and nothing leaks.

Each attack is served for one student of a batch that also holds ordinary students. For each:
the student ends with a true state and a clear reason, nothing is written outside
``<download root>/TM351/<PI>/`` (a recursive listing of the temp folder's parent before and after
proves it), the ordinary students are unaffected, and the eTMA session cookie goes nowhere but
eTMA: not to another server a redirect names, not to the log, the ledger, the tables or any
protocol message.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from etma_helper import PROTOCOL_VERSION
from etma_helper.batch import NEEDS_LOGIN
from etma_helper.records import Cookie
from etma_helper.safe_names import MAX_COMPONENT, WINDOWS_DEVICES
from tests.conftest import etma_admin_url, login_cookies
from tests.hostproc import HostProcess
from tests.integration.test_batch import expected_files, make_job, run
from tests.integration.test_crash_safety import helper_env
from tests.sites import ETMA_HOST, Faults

# attack -> (final state, words the reason must hold); "done" means made safe, not refused.
SANITISED = {
    "zip_traversal": {"escape.txt", "a/escape.txt2", "escape.txt3", "readme.txt"},
    "zip_absolute": None,  # the outside path's own components, kept inside; checked below
    "zip_drive": {"evil.txt", "x/evil2.txt", "readme.txt"},
    "zip_symlink": {"link/escape.txt", "up/escape.txt", "readme.txt"},
    "zip_devices": {
        "_CON",
        "_aux.txt",
        "_NUL.py",
        "_com1.log",
        "_LPT9.md",
        "_CON .txt",
        "_prn.tar.gz",
        "readme.txt",
    },
    "zip_long_name": None,  # cut to MAX_COMPONENT bytes; checked below
    "zip_case": {"Report.txt", "report (2).txt", "REPORT (3).TXT"},
}
REFUSED = {
    "zip_ratio_bomb": "zip bomb",
    "zip_small_entries_bomb": "zip bomb",
    "zip_many_entries": "holds 6000 files, more than 5000",
    "zip_size_bomb": "more than the allowed size",
    "zip_lying_sizes": "zip bomb",  # headers claim 50:1; the bytes actually read say ~1000:1
    "echo_cookie_error": "quoted your session cookie",
    "echo_cookie_code": "quoted your session cookie",
}
# The server's filename is never used for anything on disk: the zip is unpacked as usual.
HEADER_ATTACKS = ("cd_traversal", "cd_traversal_ext", "cd_echo_cookie")
REDIRECTS = ("redirect_page", "redirect_download")


class Recorder(ThreadingHTTPServer):
    """Another server a redirect may send the helper to; it records every request's headers."""

    daemon_threads = True

    def __init__(self, host: str) -> None:
        self.requests: list[dict[str, str]] = []
        super().__init__((host, 0), _RecorderHandler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


class _RecorderHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self._record()

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        self._record()

    def _record(self) -> None:
        self.server.requests.append({"path": self.path, "cookie": self.headers.get("Cookie", "")})
        body = b"<html><body><p>Thanks for visiting.</p></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def recorders():
    """A second server on another loopback address, and one on eTMA's host but another port."""
    servers = [Recorder("127.0.0.3"), Recorder("127.0.0.2")]
    yield servers
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def hostile(fresh_sites, tmp_path, recorders):
    fresh_sites.hostile_outside = str(tmp_path.parent / "hostile-outside")
    fresh_sites.hostile_redirect_to = recorders[0].url
    for recorder in recorders:
        recorder.requests.clear()
    yield fresh_sites
    fresh_sites.etma_hostile = {}
    fresh_sites.hostile_redirect_to = None


#: Files that mark a browser's profile folder (Firefox's, Chromium's user data). The end-to-end
#: tests' browsers live for the whole test session, under the same temporary root, and write
#: there on their own timers (Firefox's bookmark backups): that is not the helper escaping.
BROWSER_PROFILE_MARKS = ("prefs.js", "Local State")


def listing(root: Path) -> set[Path]:
    """Every path under ``root``, links included and not followed; browser profiles left out."""
    found = set()
    for folder, dirs, files in os.walk(root):
        if any(mark in files for mark in BROWSER_PROFILE_MARKS):
            dirs[:] = []
            continue
        for name in dirs + files:
            found.add(Path(folder) / name)
    return found


def assert_nothing_escaped(before: set[Path], after: set[Path], module: Path, pis, tmp_path):
    """Everything new lies in a student's folder of this batch, the codes tables, or the
    helper's own state (ledger, log); no link was made anywhere."""
    allowed_roots = [module / pi for pi in pis] + [tmp_path / "xdg", tmp_path / "home"]
    allowed_files = {module / "confirmation_codes.csv", module / "confirmation_codes.xlsx"}
    parents = {module, *module.parents}
    for path in after - before:
        assert not path.is_symlink(), path
        if path in allowed_files or path in parents:
            continue
        assert any(root == path or root in path.parents for root in allowed_roots), path
    assert not Path("/tmp/etma-hostile-outside").exists()
    new = after - before
    assert not any(p.name.startswith("escape.txt") and module not in p.parents for p in new)


def students(cohort, n):
    return [s.pi for s in cohort.students if s.files][:n]


def final_records(events):
    return {e.pi: e for e in events if e.state != "working"}


def files_on_disk(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink()
    }


def secret_of(cookies) -> str:
    (secret,) = [c.value for c in cookies if c.name == "ETMA_SESSION"]
    assert len(secret) >= 20
    return secret


def ledger_text(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return "\n".join(db.iterdump())
    finally:
        db.close()


def xlsx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as book:
        return "\n".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())


def assert_secret_nowhere(secret: str, module: Path, data_home: Path, extra: str = "") -> None:
    folded = secret.casefold()
    ledger = data_home / "etma_helper" / "ledger.sqlite3"
    assert folded not in ledger_text(ledger).casefold()
    for raw in ledger.parent.glob("ledger.sqlite3*"):  # the WAL too: bytes on disk
        assert secret.encode() not in raw.read_bytes()
    for table in (module / "confirmation_codes.csv",):
        if table.exists():
            assert folded not in table.read_text(encoding="utf-8").casefold()
    if (module / "confirmation_codes.xlsx").exists():
        assert folded not in xlsx_text(module / "confirmation_codes.xlsx").casefold()
    assert folded not in extra.casefold()


ATTACKS = [*SANITISED, *REFUSED, *HEADER_ATTACKS]


@pytest.mark.parametrize("attack", ATTACKS)
def test_each_attack_is_refused_or_made_safe(hostile, cohort, settings, tmp_path, attack):
    victim, *others = students(cohort, 4)
    hostile.etma_hostile = {victim: attack}
    cookies = login_cookies(hostile)
    if attack == "echo_cookie_code":
        # A session value shaped like a confirmation code, so the page's echo reads as one.
        token = hostile.etma_sessions.create("K7M2-Q9XD-7F3A-SESSION-42")
        cookies = (Cookie("ETMA_SESSION", token, ETMA_HOST),)
    secret = secret_of(cookies)
    module = settings.download_root / "TM351" / "TMA02"
    before = listing(tmp_path.parent)
    summary, events = run(make_job(hostile, [victim, *others], cookies=cookies), settings)
    after = listing(tmp_path.parent)

    final = final_records(events)
    assert summary.outcome == "finished"
    record = final[victim]
    folder = module / victim
    if attack in REFUSED:
        assert record.state == "failed" and REFUSED[attack] in record.reason
        assert not folder.exists()
    else:
        assert record.state == "done", record.reason
        on_disk = files_on_disk(folder)
        assert set(on_disk) == {f.path for f in record.files}
        for name in on_disk:
            assert all(len(part.encode()) <= MAX_COMPONENT for part in name.split("/"))
            stem = name.rsplit("/", 1)[-1].split(".")[0].rstrip(" ").upper()
            assert stem not in WINDOWS_DEVICES
        expected = SANITISED.get(attack)
        if attack in HEADER_ATTACKS:
            assert on_disk == expected_files(cohort, victim)
        elif expected is not None:
            assert set(on_disk) == expected
        if attack == "zip_case":
            assert sorted(on_disk.values()) == sorted([b"first\n", b"second\n", b"3\n"])
        if attack == "zip_long_name":
            assert len(on_disk) == 3 and "readme.txt" in on_disk
        if attack == "zip_absolute":
            outside = hostile.hostile_outside.strip("/").split("/")
            assert set(on_disk) == {"abs/path.txt", "/".join([*outside, "abs2.txt"]), "readme.txt"}
    for pi in others:
        assert final[pi].state == "done", final[pi].reason
        assert files_on_disk(module / pi) == expected_files(cohort, pi)
    assert_nothing_escaped(before, after, module, [victim, *others], tmp_path)
    assert not Path(hostile.hostile_outside).exists()
    assert not list(module.rglob("*.part")) and not (module / ".etma-partial").exists()
    messages = json.dumps([e.to_message() for e in events])
    assert_secret_nowhere(secret, module, tmp_path / "xdg" / "xdg_data_home", messages)


@pytest.mark.parametrize("attack", REDIRECTS)
@pytest.mark.parametrize("target", ["other_host", "same_host_other_port"])
def test_a_redirect_elsewhere_carries_no_cookie(
    hostile, recorders, cohort, settings, tmp_path, attack, target
):
    """A redirect to any other origin is not followed (the other origin hears nothing, cookie or
    not), and ends the batch as a lost session would (eTMA's sign-on lives on another host):
    nobody is marked done wrongly."""
    recorder = recorders[0] if target == "other_host" else recorders[1]
    hostile.hostile_redirect_to = recorder.url
    first, *others = students(cohort, 4)
    victim = others.pop()
    hostile.etma_hostile = {victim: attack}
    cookies = login_cookies(hostile)
    module = settings.download_root / "TM351" / "TMA02"
    before = listing(tmp_path.parent)
    one_worker = type(settings)(download_root=settings.download_root, concurrency=1)
    summary, events = run(make_job(hostile, [first, *others, victim], cookies=cookies), one_worker)
    after = listing(tmp_path.parent)

    assert recorder.requests == [], "a redirect to another origin was followed"
    final = final_records(events)
    assert summary.outcome == "needs_login"
    assert final[victim].state == "needs_login" and final[victim].reason == NEEDS_LOGIN
    assert not (module / victim).exists()
    for pi in [first, *others]:
        assert final[pi].state == "done"
    assert_nothing_escaped(before, after, module, [first, *others, victim], tmp_path)
    assert_secret_nowhere(
        secret_of(cookies),
        module,
        tmp_path / "xdg" / "xdg_data_home",
        json.dumps([e.to_message() for e in events]),
    )


def test_the_real_helper_leaks_the_cookie_nowhere(hostile, recorders, cohort, tmp_path):
    """Every attack at once through the real helper process: its messages, log, ledger and
    tables never hold the session cookie, and every student gets a true final state."""
    *pis, victim = students(cohort, 30)
    attacks = list(dict.fromkeys([*HEADER_ATTACKS, *SANITISED, *REFUSED]))
    hostile.etma_hostile = dict(zip(pis, attacks, strict=False))
    ordinary = pis[len(attacks) :]
    assert len(ordinary) >= 4
    env = helper_env(tmp_path / "home")
    cookies = login_cookies(hostile)
    secret = secret_of(cookies)
    wire = [c.__dict__ for c in cookies]
    before = listing(tmp_path.parent)

    host = HostProcess(env)
    host.send({"id": "hello", "action": "hello", "protocol": PROTOCOL_VERSION})
    seen = [host.receive()]
    job = {
        "etma_url": etma_admin_url(hostile),
        "module": "TM351",
        "assignment": "TMA02",
        "pis": pis,
        "cookies": wire,
    }
    host.send({"id": "hostile", "action": "download", "job": job})
    seen += host.receive_until("summary", "hostile", timeout=120)
    # then a redirect, to another host: the cookie must not follow it either
    hostile.etma_hostile = {victim: "redirect_download"}
    host.send({"id": "redirect", "action": "download", "job": {**job, "pis": [victim]}})
    seen += host.receive_until("summary", "redirect", timeout=60)
    assert host.close() == 0
    after = listing(tmp_path.parent)

    final = {m["data"]["pi"]: m["data"] for m in seen[:-1] if m["type"] == "progress"}
    attack_of = {pi: attack for pi, attack in zip(pis, attacks, strict=False)}
    for pi, attack in attack_of.items():
        state = final[pi]["state"]
        assert state == ("failed" if attack in REFUSED else "done"), (attack, final[pi])
        assert state == "done" or final[pi]["reason"]
    for pi in ordinary:
        assert final[pi]["state"] == "done"
    assert final[victim]["state"] == "needs_login"
    assert recorders[0].requests == []

    module = tmp_path / "home" / "eTMA" / "TM351" / "TMA02"
    assert_nothing_escaped(before, after, module, [*pis, victim], tmp_path)
    log = tmp_path / "home" / "state" / "etma_helper" / "log" / "helper.log"
    assert log.exists()
    assert_secret_nowhere(
        secret, module, tmp_path / "home" / "data", json.dumps(seen) + log.read_text()
    )


def test_hostile_mode_is_off_by_default_and_checks_its_knob(fresh_sites):
    assert fresh_sites.etma_hostile == {} and fresh_sites.hostile_attack("P0000000") is None
    fresh_sites.etma_hostile = {"P0000000": "no_such_attack"}
    try:
        with pytest.raises(ValueError, match="unknown hostile attacks"):
            fresh_sites.hostile_attack("P0000000")
    finally:
        fresh_sites.etma_hostile = {}
    assert fresh_sites.faults == Faults()
