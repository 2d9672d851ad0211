"""PracticeSites: runs the OSCAR, eTMA and sign-on practice servers and holds their shared state."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from bs4 import BeautifulSoup

from . import hostile
from .base import PageHandler, SiteServer
from .cohort import Cohort
from .etma import EtmaHandler
from .faults import Faults
from .marks import SavedThirdMarks
from .oscar import OscarHandler, UnlockRequest
from .sessions import SessionStore
from .signon import SIGNON_MODES, RecordedRequest, SignonHandler, acs_path, signon_start_url
from .zipcache import ZipCache

# A loopback host each, so each site keeps its own cookies as the real systems on their own
# hosts do, and the sign-on host never sees OSCAR's or eTMA's cookies unless someone sends them.
OSCAR_HOST = "127.0.0.1"
ETMA_HOST = "127.0.0.2"
SIGNON_HOST = "127.0.0.3"
DEMO_OSCAR_PORT = 8801
DEMO_ETMA_PORT = 8802
DEMO_SIGNON_PORT = 8803


class PracticeSites:
    """The practice sites for one cohort, with knobs tests may change while they run.

    ``latency`` (seconds, every request of both sites), ``zip_pad_to`` (bytes, pad each zip to
    about this size), ``faults`` and ``etma_markup`` (``"classic"``, or ``"variant"``: the same
    facts in other markup, to prove the helper reads pages by meaning) are read on every request,
    so they can be set at any time.

    Hostile mode (see ``hostile.py``): ``etma_hostile`` maps a PI to an attack served on that
    student's page or download; ``hostile_redirect_to`` is where the redirect attacks send the
    helper (another server); ``hostile_outside`` is the absolute path the zips' absolute and
    symlink entries aim at. Empty by default: every student is served as usual.

    ``etma_viewstate_bytes``: when above 0, eTMA's search form (the admin page) carries a hidden
    ``__VIEWSTATE`` field with a value of that many bytes, as ASP.NET pages do (real ones run to
    hundreds of KB); the helper posts it back with every search. 0 (the default) adds none.

    ``signon`` (``None``, ``"saml"`` or ``"sams"``; a keyword here, and settable at any time):
    when set, a visitor without a live OSCAR or eTMA session (never signed in, expired after
    ``faults.session_expires_after`` requests, or ended by :meth:`expire_etma_sessions`) is
    redirected to the sign-on host on ``SIGNON_HOST`` instead of the site's own login page; see
    ``signon.py`` for both flows. :meth:`signon_login` signs a ``requests.Session`` in there as a
    browser would, and ``signon_requests`` records every request the sign-on host received with
    its Cookie header (``signon_hits`` counts them). The sites' own login pages still answer at
    their addresses, so :meth:`etma_login` works in either mode. Off by default.

    Slow and huge attacks read ``hostile_drip_interval`` (seconds between the bytes of a dripped
    page), ``hostile_huge_page_bytes`` (size of the huge page), ``hostile_stream_max_bytes``
    (where an endless download gives up) and ``hostile_stream_pause`` (seconds between its 64 KiB
    chunks; 0 = as fast as the helper reads). Each such response also ends after
    ``hostile.SLOW_ATTACK_SECONDS``, when the helper hangs up, or when the sites stop.
    """

    OSCAR_LOGIN: tuple[str, str] = ("tutor", "oscar-demo")
    ETMA_LOGIN: tuple[str, str] = ("tutor", "etma-demo")
    SIGNON_LOGIN: tuple[str, str] = ("tutor", "signon-demo")

    def __init__(
        self,
        cohort: Cohort,
        latency: float = 0.0,
        zip_pad_to: int | None = None,
        faults: Faults | None = None,
        oscar_port: int = 0,
        etma_port: int = 0,
        verbose: bool = False,
        signon: str | None = None,
        signon_port: int = 0,
    ) -> None:
        self.cohort = cohort
        self.latency = latency
        self.zip_pad_to = zip_pad_to
        self.faults = faults if faults is not None else Faults()
        self.etma_markup = "classic"
        self.etma_viewstate_bytes = 0
        self.etma_hostile: dict[str, str] = {}
        self.hostile_redirect_to: str | None = None
        self.hostile_outside = "/tmp/etma-hostile-outside"
        self.hostile_drip_interval = 0.05
        self.hostile_huge_page_bytes = 40_000_000
        self.hostile_stream_max_bytes = 64 << 20
        self.hostile_stream_pause = 0.0
        self.verbose = verbose
        self.oscar_sessions = SessionStore()
        self.etma_sessions = SessionStore()
        self.etma_hits: Counter[tuple[str, str]] = Counter()
        #: the most requests eTMA was serving at once, and the client ports they came from
        self.etma_peak_in_flight = 0
        self.etma_client_ports: set[int] = set()
        self._etma_in_flight = 0
        self.signon = signon
        self.signon_sessions = SessionStore()
        self.signon_requests: list[RecordedRequest] = []
        self._signon_grants: dict[str, str] = {}
        self.unlocked: set[str] = set()
        #: codes OSCAR now expects in place of the student's eTMA code (a code changed after
        #: the tutor fetched it), by PI; empty: OSCAR takes each student's eTMA code
        self.changed_codes: dict[str, str] = {}
        #: every "Unlock third marking" request OSCAR received: PI, code sent, Origin header
        self.unlock_requests: list[UnlockRequest] = []
        #: third marks saved through OSCAR's form, by PI
        self.third_marks: dict[str, SavedThirdMarks] = {}
        #: every student whose third-marks form was sent to OSCAR (POST), in order
        self.third_marks_posts: list[str] = []
        #: students whose third marks OSCAR refuses to save, with OSCAR's words, by PI
        self.refuse_third_marks: dict[str, str] = {}
        self._requested_ports = (oscar_port, etma_port, signon_port)
        self._lock = threading.Lock()
        self._hostile_lock = threading.Lock()
        self._download_tokens: set[str] = set()
        self._stopping = threading.Event()
        self._servers: list[SiteServer] = []
        self._threads: list[threading.Thread] = []
        self._zip_dir: Path | None = None
        self._zips: ZipCache | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> PracticeSites:
        """Bind the three servers on loopback and serve them from daemon threads."""
        if self._servers:
            return self
        self._stopping.clear()
        self._zip_dir = Path(tempfile.mkdtemp(prefix="etma-practice-zips-"))
        self._zips = ZipCache(self.cohort, self._zip_dir)
        bound: list[SiteServer] = []
        try:
            for host, port, handler in zip(
                (OSCAR_HOST, ETMA_HOST, SIGNON_HOST),
                self._requested_ports,
                (OscarHandler, EtmaHandler, SignonHandler),
                strict=True,
            ):
                bound.append(SiteServer((host, port), handler, self))
        except OSError:
            # Not serving yet, so close rather than shutdown() (which would wait forever).
            for server in bound:
                server.server_close()
            shutil.rmtree(self._zip_dir, ignore_errors=True)
            raise
        self._servers = bound
        for server in self._servers:
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"practice-site-{server.server_address[1]}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop the servers, wake any stalled response, and delete the built zips."""
        self._stopping.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads = [], []
        if self._zip_dir is not None:
            shutil.rmtree(self._zip_dir, ignore_errors=True)
            self._zip_dir, self._zips = None, None

    def __enter__(self) -> PracticeSites:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- addresses ------------------------------------------------------------------------------

    def _base_url(self, index: int) -> str:
        if not self._servers:
            raise RuntimeError("the practice sites are not running; call start() first")
        host, port = self._servers[index].server_address[:2]
        return f"http://{host}:{port}/"

    @property
    def oscar_url(self) -> str:
        """Base URL of OSCAR, e.g. ``http://127.0.0.1:8801/``."""
        return self._base_url(0)

    @property
    def etma_url(self) -> str:
        """Base URL of eTMA, e.g. ``http://127.0.0.2:8802/``."""
        return self._base_url(1)

    @property
    def signon_url(self) -> str:
        """Base URL of the sign-on host, e.g. ``http://127.0.0.3:8803/``."""
        return self._base_url(2)

    @property
    def signon(self) -> str | None:
        """Sign-on mode: None (each site's own login page), ``"saml"`` or ``"sams"``."""
        return self._signon

    @signon.setter
    def signon(self, mode: str | None) -> None:
        if mode is not None and mode not in SIGNON_MODES:
            raise ValueError(f"unknown sign-on mode {mode!r}; known: {', '.join(SIGNON_MODES)}")
        self._signon = mode

    def service_url(self, service: str) -> str:
        """Base URL of the site the sign-on host calls ``service`` (``"oscar"``, ``"etma"``)."""
        return {"oscar": self.oscar_url, "etma": self.etma_url}[service]

    def service_of_url(self, url: str) -> str | None:
        """The practice site ``url`` is on, or None (the sign-on host sends nobody elsewhere)."""
        origin = urlsplit(url)[:2]
        for service in ("oscar", "etma"):
            if urlsplit(self.service_url(service))[:2] == origin:
                return service
        return None

    def service_of_acs(self, url: str) -> str | None:
        """The site whose SAML assertion consumer service is exactly ``url``, or None."""
        service = self.service_of_url(url)
        if service and url == self.service_url(service).rstrip("/") + acs_path(service):
            return service
        return None

    @property
    def allocation_path(self) -> str:
        """Path and query of OSCAR's work-allocation page for the cohort."""
        query = urlencode({"module": self.cohort.module, "assignment": self.cohort.assignment})
        return f"/oscar/workAllocation?{query}"

    @property
    def allocation_url(self) -> str:
        """Full URL of OSCAR's work-allocation page for the cohort's module and assignment."""
        return self.oscar_url.rstrip("/") + self.allocation_path

    # --- sessions and state ---------------------------------------------------------------------

    def etma_login(self, session: requests.Session) -> None:
        """Log a requests session in to eTMA, as a user would in the browser."""
        username, password = self.ETMA_LOGIN
        response = session.post(
            self.etma_url + "etma/login",
            data={"username": username, "password": password},
            allow_redirects=False,
            timeout=10,
        )
        if response.status_code != 302 or "ETMA_SESSION" not in session.cookies:
            raise RuntimeError(f"eTMA practice login failed ({response.status_code})")

    def expire_etma_sessions(self) -> None:
        """Every current eTMA session becomes invalid now."""
        self.etma_sessions.clear()

    def expire_oscar_sessions(self) -> None:
        """Every current OSCAR session becomes invalid now."""
        self.oscar_sessions.clear()

    def expire_signon_sessions(self) -> None:
        """Every sign-in at the sign-on host ends now (its cookie no longer signs anyone in)."""
        self.signon_sessions.clear()

    # --- the sign-on host (signon.py) -----------------------------------------------------------

    def signon_start_url(self, handler: PageHandler) -> str:
        """Where ``handler``'s site sends its visitor to sign in (sign-on mode only)."""
        return signon_start_url(handler)

    def new_signon_id(self) -> str:
        """A fresh id for a SAML message."""
        return secrets.token_hex(16)

    def issue_signon_grant(self, service: str) -> str:
        """A one-time proof of sign-in for ``service`` (a SAML assertion id, a SAMS ticket)."""
        grant = secrets.token_hex(16)
        with self._lock:
            self._signon_grants[grant] = service
        return grant

    def redeem_signon_grant(self, grant: str, service: str) -> bool:
        """True, once, if ``grant`` was issued for ``service``."""
        with self._lock:
            if self._signon_grants.get(grant) != service:
                return False
            del self._signon_grants[grant]
            return True

    @property
    def signon_hits(self) -> Counter[tuple[str, str]]:
        """How many requests the sign-on host received, by method and path (query left out)."""
        with self._lock:
            return Counter((r.method, r.path.split("?", 1)[0]) for r in self.signon_requests)

    def record_signon_request(self, method: str, path: str, cookie: str) -> None:
        """Remember one request the sign-on host received, with its Cookie header."""
        with self._lock:
            self.signon_requests.append(RecordedRequest(method, path, cookie))

    def signon_login(
        self, session: requests.Session, start: str | None = None
    ) -> requests.Response:
        """Sign a requests session in through the sign-on host as a browser would, and return
        the page it ends on.

        It opens ``start`` (eTMA's admin page by default; OSCAR's allocation page signs in to
        OSCAR), which sends it to the sign-on host; fills the login form there (the form with a
        password field) with ``SIGNON_LOGIN``; and submits any form a page posts by itself (the
        SAML hand-off), following every redirect, until it lands on the page.
        """
        if self.signon is None:
            raise RuntimeError("the practice sites are not in sign-on mode; use etma_login")
        response = session.get(start or self.etma_url + "etma/admin", timeout=10)
        for _ in range(4):
            soup = BeautifulSoup(response.text, "html.parser")
            form = soup.find("form")
            password = form.find("input", attrs={"type": "password"}) if form else None
            onload = (soup.body.get("onload") or "") if soup.body else ""
            if form is None or (password is None and "submit()" not in onload):
                break
            fields = {
                field["name"]: field.get("value", "")
                for field in form.find_all("input", attrs={"type": "hidden", "name": True})
            }
            if password is not None:
                username = form.find("input", attrs={"type": "text", "name": True})
                fields[username["name"]], fields[password["name"]] = self.SIGNON_LOGIN
            response = session.request(
                (form.get("method") or "get").upper(),
                urljoin(response.url, form.get("action") or ""),
                data=fields,
                timeout=10,
            )
        if urlsplit(response.url).hostname == SIGNON_HOST or response.status_code != 200:
            raise RuntimeError(f"sign-in through the sign-on host failed at {response.url}")
        return response

    def count_etma_hit(self, method: str, path: str) -> None:
        """Count one request served by eTMA."""
        with self._lock:
            self.etma_hits[(method, path)] += 1

    @contextlib.contextmanager
    def etma_request(self, client_port: int) -> Iterator[None]:
        """Count one eTMA request in flight while it is served (``etma_peak_in_flight``)."""
        with self._lock:
            self._etma_in_flight += 1
            self.etma_peak_in_flight = max(self.etma_peak_in_flight, self._etma_in_flight)
            self.etma_client_ports.add(client_port)
        try:
            yield
        finally:
            with self._lock:
                self._etma_in_flight -= 1

    def reset_hits(self) -> None:
        """Forget the eTMA request counts (hits, peak in flight, client ports) and the sign-on
        host's recorded requests."""
        with self._lock:
            self.etma_hits.clear()
            self.etma_peak_in_flight = 0
            self.etma_client_ports.clear()
            self.signon_requests.clear()

    def oscar_code(self, pi: str) -> str:
        """The confirmation code OSCAR takes for ``pi`` now."""
        with self._lock:
            changed = self.changed_codes.get(pi)
        return changed if changed is not None else self.cohort.student(pi).code

    def record_unlock_request(self, request: UnlockRequest) -> None:
        """Remember one "Unlock third marking" request OSCAR received."""
        with self._lock:
            self.unlock_requests.append(request)

    def forget_oscar_saves(self) -> None:
        """Forget what OSCAR saved (unlocked third marking, third marks, the forms sent) and
        which students' third marks it refuses: OSCAR as it started."""
        with self._lock:
            self.unlocked.clear()
            self.third_marks.clear()
            self.third_marks_posts.clear()
            self.refuse_third_marks.clear()

    def mark_unlocked(self, pi: str) -> None:
        """Record that third marking was unlocked for ``pi``."""
        with self._lock:
            self.unlocked.add(pi)

    def record_third_marks_post(self, pi: str) -> None:
        """Remember that a student's third-marks form was sent to OSCAR."""
        with self._lock:
            self.third_marks_posts.append(pi)

    def save_third_marks(self, pi: str, saved: SavedThirdMarks) -> None:
        """Record the third marks OSCAR's form saved for ``pi``."""
        with self._lock:
            self.third_marks[pi] = saved

    def issue_download_token(self) -> str:
        """A token for one student page's download form."""
        token = secrets.token_hex(16)
        with self._lock:
            self._download_tokens.add(token)
        return token

    def is_download_token(self, token: str | None) -> bool:
        """True if the token came from one of this server's student pages."""
        with self._lock:
            return bool(token) and token in self._download_tokens

    def zip_path(self, pi: str) -> Path:
        """The built zip on disk for ``pi`` at the current ``zip_pad_to``."""
        if self._zips is None:
            raise RuntimeError("the practice sites are not running")
        return self._zips.path(pi, self.zip_pad_to)

    def hostile_attack(self, pi: str) -> str | None:
        """The attack hostile mode serves for ``pi`` (checked against the known ones), or None."""
        attacks = self.etma_hostile
        if not attacks:
            return None
        hostile.check(attacks)
        return attacks.get(pi)

    def hostile_zip_path(self, attack: str) -> Path:
        """The zip carrying ``attack``, built once per run (and per ``hostile_outside``)."""
        if self._zip_dir is None:
            raise RuntimeError("the practice sites are not running")
        outside = self.hostile_outside
        tag = hashlib.sha256(outside.encode()).hexdigest()[:8]
        target = self._zip_dir / f"hostile_{attack}_{tag}.zip"
        with self._hostile_lock:
            if not target.exists():
                partial = target.with_name(target.name + ".part")
                hostile.build_zip(attack, partial, outside)
                os.replace(partial, target)
        return target

    def pause(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking early when the sites stop; True if stopping."""
        if seconds <= 0:
            return self._stopping.is_set()
        return self._stopping.wait(seconds)
