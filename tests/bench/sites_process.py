"""The practice sites in a process of their own, for the benchmark.

In the tests the sites share the test's process, which is simple and fine for behaviour. In a
benchmark that would bill the server's CPU time and its share of the GIL to whoever runs in the
same process (the in-process runner, the thinnest client, the seed-style script), so here they run
in a child process and the benchmark talks to them through a pipe: the same knobs the benchmark
turns (latency, zip size, hit counts), nothing else.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from multiprocessing.connection import Connection

import requests

from tests.sites import Cohort, PracticeSites

REPLY_TIMEOUT = 600  # building 20 zips of 200 MB takes a while on a slow disk


def _serve(connection: Connection, cohort_args: dict, zip_pad_to: int | None) -> None:
    """The child: run the sites and answer the parent's requests until it says stop."""
    cohort = Cohort(**cohort_args)
    with PracticeSites(cohort, latency=0.0, zip_pad_to=zip_pad_to) as sites:
        connection.send((sites.oscar_url, sites.etma_url, sites.ETMA_LOGIN))
        while True:
            request, argument = connection.recv()
            if request == "stop":
                connection.send(None)
                return
            if request == "latency":
                sites.latency = argument
                answer = None
            elif request == "zip_pad_to":
                sites.zip_pad_to = argument
                answer = None
            elif request == "prewarm":
                for pi in argument:
                    sites.zip_path(pi)
                answer = len(argument)
            elif request == "reset_hits":
                sites.reset_hits()
                answer = None
            elif request == "hits":
                answer = dict(sites.etma_hits)
            else:
                answer = RuntimeError(f"unknown request {request!r}")
            connection.send(answer)


class SitesProcess:
    """The practice sites running in a child process; a context manager.

    It offers what the benchmark uses of :class:`PracticeSites`: the addresses, ``etma_login``,
    ``latency`` and ``zip_pad_to`` (settable), ``prewarm``, ``reset_hits`` and ``etma_hits``.
    """

    def __init__(self, cohort: Cohort, zip_pad_to: int | None = None) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a threaded parent
        self._connection, child = context.Pipe()
        cohort_args = {
            "size": cohort.size,
            "seed": cohort.seed,
            "module": cohort.module,
            "assignment": cohort.assignment,
        }
        self._process = context.Process(
            target=_serve, args=(child, cohort_args, zip_pad_to), daemon=True
        )
        self._latency = 0.0
        self._zip_pad_to = zip_pad_to
        self.oscar_url = self.etma_url = ""
        self.ETMA_LOGIN: tuple[str, str] = ("", "")

    def __enter__(self) -> SitesProcess:
        self._process.start()
        self.oscar_url, self.etma_url, self.ETMA_LOGIN = self._receive()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._call("stop")
        except Exception:
            pass
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)

    def _receive(self):
        if not self._connection.poll(REPLY_TIMEOUT):
            raise TimeoutError("the practice sites' process did not answer")
        answer = self._connection.recv()
        if isinstance(answer, Exception):
            raise answer
        return answer

    def _call(self, request: str, argument: object = None):
        self._connection.send((request, argument))
        return self._receive()

    @property
    def latency(self) -> float:
        return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._call("latency", seconds)
        self._latency = seconds

    @property
    def zip_pad_to(self) -> int | None:
        return self._zip_pad_to

    @zip_pad_to.setter
    def zip_pad_to(self, size: int | None) -> None:
        self._call("zip_pad_to", size)
        self._zip_pad_to = size

    def prewarm(self, pis: list[str]) -> None:
        """Build every zip at the current pad size now, so no timed run pays for building it."""
        self._call("prewarm", list(pis))

    def reset_hits(self) -> None:
        self._call("reset_hits")

    @property
    def etma_hits(self) -> Counter:
        return Counter(self._call("hits"))

    def etma_login(self, session: requests.Session) -> None:
        """Log a requests session in, exactly as :meth:`PracticeSites.etma_login` does."""
        PracticeSites.etma_login(self, session)  # it uses only etma_url and ETMA_LOGIN
