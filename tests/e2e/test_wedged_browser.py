"""A browser that stops answering fails the test it wedged, and the next test gets a new one:
the shared browsers are handed out only after a trivial command has answered (``Kept``)."""

from __future__ import annotations

import os
import signal

from tests import browsers
from tests.browsers.helper_install import install_helper
from tests.browsers.session import descendants
from tests.browsers.shared import Kept


def signal_all(pids: list[int], number: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, number)
        except ProcessLookupError:
            pass


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_browser_that_stops_answering_is_replaced_for_the_next_test(browser_name, tmp_path):
    bare = install_helper(tmp_path / "home", register=False)
    # Not 3 s: a browser just started on a busy machine (CI, early in the run) once took longer.
    kept = Kept(lambda: browsers.start(browser_name, bare), answer_within=10)
    frozen: list[int] = []
    try:
        wedged = kept.healthy()
        assert kept.healthy() is wedged  # answering: the same browser again
        root = wedged.browser_pid()
        frozen = [root, *(pid for pid, _ in descendants(root))]
        signal_all(frozen, signal.SIGSTOP)  # the browser stops answering, as a wedged one does

        assert not wedged.responsive(3)
        fresh = kept.healthy()
        assert fresh is not wedged and kept.restarts == 1
        assert fresh.responsive(10)
        assert not [pid for pid in frozen if alive(pid)], "the wedged browser was left running"
    finally:
        signal_all(frozen, signal.SIGCONT)
        kept.close()
