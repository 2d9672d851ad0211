"""Soak: one batch of 2,000 students through the real helper process, with random faults.

Run it as ``python tests/soak/soak.py`` (not collected by pytest). It starts the practice sites
with a 2,000-student cohort, gives a seeded ~1% of students a fault (half of them passing, half
lasting), drives the real helper over native-messaging framing, and reports throughput, the
helper's peak memory, open file handles and threads at start and end, and whether every outcome
was recorded in the ledger with every finished student's files on disk. It stops by itself: the
helper is killed if the batch has not ended within ``--deadline`` seconds (default 540).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "host")]

from etma_helper import PROTOCOL_VERSION  # noqa: E402
from tests.hostproc import HostProcess  # noqa: E402
from tests.sites import Cohort, Faults, PracticeSites  # noqa: E402

# Faults that end the whole batch (a login page, an expiring session) are left out: the soak
# measures a long batch running to its end; those are covered by tests/integration.
SOAK_FAULTS = ("http500", "reset", "truncate", "corrupt", "wrong_type", "stall")


def proc_stats(pid: int) -> dict[str, int]:
    status = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        status[key] = value.split()[0] if value.split() else ""
    return {
        "rss_kb": int(status["VmRSS"]),
        "hwm_kb": int(status["VmHWM"]),
        "threads": int(status["Threads"]),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--fault-rate", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--deadline", type=float, default=540.0)
    args = parser.parse_args()

    cohort = Cohort(size=args.students, seed=args.seed)
    pis = [s.pi for s in cohort.students]
    rng = random.Random(args.seed)
    with_files = [s.pi for s in cohort.students if s.files]
    faulted = rng.sample(with_files, max(1, round(len(pis) * args.fault_rate)))
    per_pi = {pi: rng.choice(SOAK_FAULTS) for pi in faulted}
    passing = set(faulted[: len(faulted) // 2])  # these fire once; the rest always

    with tempfile.TemporaryDirectory(prefix="etma-soak-") as tmp, PracticeSites(cohort) as sites:
        home = Path(tmp)
        config = home / "config" / "etma_helper" / "config.json"
        config.parent.mkdir(parents=True)
        config.write_text(
            json.dumps(
                {
                    "download_root": str(home / "eTMA"),
                    "concurrency": args.concurrency,
                    "read_timeout": 2,
                }
            )
        )
        env = {
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_STATE_HOME": str(home / "state"),
        }
        sites.latency = args.latency_ms / 1000
        sites.faults = _PerPiTimes(per_pi, passing)
        import requests

        session = requests.Session()
        sites.etma_login(session)
        cookies = [
            {"name": c.name, "value": c.value, "domain": c.domain, "path": c.path}
            for c in session.cookies
        ]

        host = HostProcess(env)
        pid = host.proc.pid
        killer = threading.Timer(args.deadline, host.proc.kill)
        killer.daemon = True
        killer.start()
        host.send({"id": "hello", "action": "hello", "protocol": PROTOCOL_VERSION})
        host.receive()
        start = proc_stats(pid)
        request = {
            "id": "soak",
            "action": "download",
            "job": {
                "etma_url": sites.etma_url + "etma/admin",
                "module": cohort.module,
                "assignment": cohort.assignment,
                "pis": pis,
                "cookies": cookies,
            },
        }
        began = time.monotonic()
        host.send(request)
        final: dict[str, dict] = {}
        summary = None
        peak_threads, peak_fds = start["threads"], start["fds"]
        last_sample = 0.0
        try:
            while summary is None:
                message = host.receive()
                if message["type"] == "progress" and message["data"]["state"] != "working":
                    final[message["data"]["pi"]] = message["data"]
                elif message["type"] == "summary":
                    summary = message
                elif message["type"] == "reply" and message.get("status") != "ok":
                    raise RuntimeError(message)
                if time.monotonic() - last_sample > 0.5:
                    last_sample = time.monotonic()
                    now = proc_stats(pid)
                    peak_threads = max(peak_threads, now["threads"])
                    peak_fds = max(peak_fds, now["fds"])
        except (EOFError, FileNotFoundError):
            print(f"soak: the helper stopped before the summary (deadline {args.deadline} s?)")
            return 2
        seconds = time.monotonic() - began
        # Let the job thread and its pools wind down (a few seconds at most).
        settle = time.monotonic() + 3
        while (end := proc_stats(pid))["threads"] > start["threads"] and time.monotonic() < settle:
            time.sleep(0.1)
        # The same job again, as a tutor re-runs it: finished students are skipped, the rest
        # retried. A leak would show as threads or handles growing from one job to the next.
        rerun_began = time.monotonic()
        host.send({**request, "id": "soak-again"})
        rerun = host.receive_until("summary", "soak-again", timeout=args.deadline)[-1]
        rerun_seconds = time.monotonic() - rerun_began
        time.sleep(0.5)
        again = proc_stats(pid)
        killer.cancel()
        host.close()

        ledger = sqlite3.connect(home / "data" / "etma_helper" / "ledger.sqlite3")
        rows = ledger.execute(
            "SELECT pi, state, reason, folder, files FROM students WHERE job_id = 'soak'"
        ).fetchall()
        outcomes = {pi: (state, reason) for pi, state, reason, _, _ in rows}
        missing_files = 0
        for _pi, state, _, folder, files in rows:
            if state != "done" or folder is None:
                continue
            for path, size, sha256 in json.loads(files):
                try:
                    data = (Path(folder) / path).read_bytes()
                except OSError:
                    missing_files += 1
                    continue
                if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
                    missing_files += 1
        ledger.close()
        partials = list((home / "eTMA").rglob("*.part"))

    states: dict[str, int] = {}
    for state, _ in outcomes.values():
        states[state] = states.get(state, 0) + 1
    faulted_states = {}
    for pi, kind in per_pi.items():
        key = f"{kind}-{'once' if pi in passing else 'always'}"
        faulted_states.setdefault(key, []).append(outcomes.get(pi, ("missing", ""))[0])
    no_reason = [pi for pi, (state, reason) in outcomes.items() if state != "done" and not reason]

    print(f"{'students':<26}{len(pis)}")
    print(f"{'faulted (seeded)':<26}{len(per_pi)} ({', '.join(sorted(set(per_pi.values())))})")
    for key in sorted(faulted_states):
        print(f"{'  ' + key:<26}{', '.join(sorted(faulted_states[key]))}")
    print(f"{'summary outcome':<26}{summary['data']['outcome']} {summary['data']['counts']}")
    print(f"{'ledger outcomes':<26}{len(outcomes)} {states}")
    print(f"{'failed without reason':<26}{len(no_reason)}")
    print(f"{'done files missing/bad':<26}{missing_files}")
    print(f"{'.part files left':<26}{len(partials)}")
    print(f"{'seconds':<26}{seconds:.1f}")
    print(f"{'students/s':<26}{len(pis) / seconds:.1f}")
    print(f"{'':<26}{'start':>8}{'end':>8}{'peak':>8}")
    print(f"{'threads':<26}{start['threads']:>8}{end['threads']:>8}{peak_threads:>8}")
    print(f"{'open fds':<26}{start['fds']:>8}{end['fds']:>8}{peak_fds:>8}")
    print(
        f"{'RSS MB':<26}{start['rss_kb'] / 1024:>8.1f}{end['rss_kb'] / 1024:>8.1f}"
        f"{end['hwm_kb'] / 1024:>8.1f}"
    )
    print(f"{'re-run of the same job':<26}{rerun_seconds:.1f} s, {rerun['data']['counts']}")
    print(f"{'  after it: threads, fds':<26}{again['threads']}, {again['fds']}")
    ok = (
        len(outcomes) == len(pis)
        and set(final) == set(pis)
        and not no_reason
        and not missing_files
        and not partials
        # the ledger (database, -wal, -shm) is opened by the first job and stays open
        and end["fds"] <= start["fds"] + 3
        and end["threads"] <= start["threads"] + 1  # numpy's BLAS starts one on import
        and (again["threads"], again["fds"]) == (end["threads"], end["fds"])
        and rerun["data"]["counts"]["done"] >= states.get("done", 0)
    )
    print(
        f"soak: students={len(pis)} seconds={seconds:.1f} students_per_s={len(pis) / seconds:.1f} "
        f"peak_rss_mb={end['hwm_kb'] / 1024:.1f} fds_start={start['fds']} fds_end={end['fds']} "
        f"threads_start={start['threads']} threads_end={end['threads']} "
        f"outcomes_recorded={len(outcomes)}"
    )
    return 0 if ok else 1


class _PerPiTimes(Faults):
    """Faults where some students' fault passes after one firing and the rest always fire."""

    def __init__(self, per_pi: dict[str, str], passing: set[str]) -> None:
        super().__init__(per_pi=per_pi)
        self._passing = passing

    def take(self, pi: str) -> str | None:
        kind = self.per_pi.get(pi)
        if kind is not None and pi in self._passing and self.fired(pi) >= 1:
            return None
        return super().take(pi)


if __name__ == "__main__":
    sys.exit(main())
