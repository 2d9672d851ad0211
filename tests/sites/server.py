"""PracticeSites: runs the OSCAR and eTMA practice servers and holds their shared state."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import tempfile
import threading
from collections import Counter
from pathlib import Path
from types import TracebackType
from urllib.parse import urlencode

import requests

from . import hostile
from .base import SiteServer
from .cohort import Cohort
from .etma import EtmaHandler
from .faults import Faults
from .marks import SavedThirdMarks
from .oscar import OscarHandler
from .sessions import SessionStore
from .zipcache import ZipCache

# Two loopback hosts, so each site keeps its own cookies as the real systems on two hosts do.
OSCAR_HOST = "127.0.0.1"
ETMA_HOST = "127.0.0.2"
DEMO_OSCAR_PORT = 8801
DEMO_ETMA_PORT = 8802


class PracticeSites:
    """Both practice sites for one cohort, with knobs tests may change while they run.

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

    Slow and huge attacks read ``hostile_drip_interval`` (seconds between the bytes of a dripped
    page), ``hostile_huge_page_bytes`` (size of the huge page), ``hostile_stream_max_bytes``
    (where an endless download gives up) and ``hostile_stream_pause`` (seconds between its 64 KiB
    chunks; 0 = as fast as the helper reads). Each such response also ends after
    ``hostile.SLOW_ATTACK_SECONDS``, when the helper hangs up, or when the sites stop.
    """

    OSCAR_LOGIN: tuple[str, str] = ("tutor", "oscar-demo")
    ETMA_LOGIN: tuple[str, str] = ("tutor", "etma-demo")

    def __init__(
        self,
        cohort: Cohort,
        latency: float = 0.0,
        zip_pad_to: int | None = None,
        faults: Faults | None = None,
        oscar_port: int = 0,
        etma_port: int = 0,
        verbose: bool = False,
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
        self.unlocked: set[str] = set()
        #: third marks saved through OSCAR's form, by PI
        self.third_marks: dict[str, SavedThirdMarks] = {}
        self._requested_ports = (oscar_port, etma_port)
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
        """Bind both servers on loopback and serve them from daemon threads."""
        if self._servers:
            return self
        self._stopping.clear()
        self._zip_dir = Path(tempfile.mkdtemp(prefix="etma-practice-zips-"))
        self._zips = ZipCache(self.cohort, self._zip_dir)
        oscar_port, etma_port = self._requested_ports
        oscar = SiteServer((OSCAR_HOST, oscar_port), OscarHandler, self)
        try:
            etma = SiteServer((ETMA_HOST, etma_port), EtmaHandler, self)
        except OSError:
            # Not serving yet, so close rather than shutdown() (which would wait forever).
            oscar.server_close()
            shutil.rmtree(self._zip_dir, ignore_errors=True)
            raise
        self._servers = [oscar, etma]
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
        """Stop both servers, wake any stalled response, and delete the built zips."""
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

    def count_etma_hit(self, method: str, path: str) -> None:
        """Count one request served by eTMA."""
        with self._lock:
            self.etma_hits[(method, path)] += 1

    def reset_hits(self) -> None:
        """Forget the eTMA request counts."""
        with self._lock:
            self.etma_hits.clear()

    def mark_unlocked(self, pi: str) -> None:
        """Record that third marking was unlocked for ``pi``."""
        with self._lock:
            self.unlocked.add(pi)

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
