"""Download-engine benchmark: the helper against the ideal and against the seed-style script.

Run from the repository root (not collected by pytest)::

    python tests/bench/engine.py                  # the full run (several minutes, ~9 GB of disk)
    python tests/bench/engine.py --skip-memory --students 40   # a quick look

Everything runs against the practice sites on loopback and is bounded in time. It measures:

* wall time of a download job of ``--students`` students at ``--latency-ms`` per request with
  ``--zip-mb`` zips: the real helper process (over native-messaging framing, like a browser), the
  in-process ``BatchRunner``, the ideal (students x requests per student x latency / concurrency)
  and a sequential seed-style script (tests/bench/seed_baseline.py);
* the helper's peak memory (VmHWM) downloading 20 students with ``--big-zip-mb`` zips, against
  the same with 2 MB zips;
* the helper's cold start: process start to the answer of its first ``hello``, median of 20.

The last line printed is machine-readable::

    bench: engine/ideal=R1 baseline/engine=R2 peak_rss_mb=M1 rss_delta_mb=M2 cold_start_ms=T

(with ``--skip-memory`` the two memory numbers are ``nan``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run as a script: make ``tests`` importable
    sys.path.insert(0, str(REPO))

import requests  # noqa: E402

from etma_helper import PROTOCOL_VERSION  # noqa: E402
from etma_helper.batch import BatchRunner  # noqa: E402
from etma_helper.config import Settings  # noqa: E402
from etma_helper.records import Job  # noqa: E402
from tests.conftest import etma_admin_url, login_cookies  # noqa: E402
from tests.hostproc import HostProcess  # noqa: E402
from tests.sites import Cohort, PracticeSites  # noqa: E402

CONCURRENCY = 4  # the helper's default
SITE_MIN_REQUESTS = 2  # per student: one search POST, one download POST
MEMORY_STUDENTS = 20
SMALL_ZIP_MB = 2
COLD_RUNS = 20
MB = 1_000_000  # zip sizes are decimal, as in the spec (zip_pad_to=1_000_000)
MODULE, ASSIGNMENT, SEED = "TM351", "TMA02", 351

TARGET_ENGINE_IDEAL = 1.15
TARGET_BASELINE_ENGINE = 3.5
TARGET_PEAK_MB = 120
TARGET_DELTA_MB = 20
TARGET_COLD_MS = 250


def note(text: str) -> None:
    """Progress for the person waiting; the results go to standard output."""
    print(f"[bench] {text}", file=sys.stderr, flush=True)


# --- set-up ---------------------------------------------------------------------------------------


def cohort_with_submissions(students: int) -> tuple[Cohort, list[str]]:
    """A cohort and the PIs of its first ``students`` students who submitted files.

    About one student in twelve submits nothing; leaving them out makes every student in the
    benchmark cost the same (a search and a download).
    """
    size = students + students // 5 + 10
    while True:
        cohort = Cohort(size=size, seed=SEED, module=MODULE, assignment=ASSIGNMENT)
        pis = [s.pi for s in cohort.students if s.has_submission][:students]
        if len(pis) == students:
            return cohort, pis
        size *= 2


def prewarm(sites: PracticeSites, pis: list[str]) -> None:
    """Build every zip at the current pad size now, so no timed run pays for building it."""
    for pi in pis:
        sites.zip_path(pi)


def helper_env(home: Path, download_root: Path) -> dict[str, str]:
    """A private config (download root, concurrency) and log folder for one helper process."""
    config = home / "config" / "etma_helper" / "config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        json.dumps({"download_root": str(download_root), "concurrency": CONCURRENCY}),
        encoding="utf-8",
    )
    return {
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_DATA_HOME": str(home / "data"),
    }


def cookie_dicts(sites: PracticeSites) -> list[dict]:
    return [dataclasses.asdict(cookie) for cookie in login_cookies(sites)]


def check_disk(args: argparse.Namespace) -> None:
    """Stop with a clear message when the temp folder's disk cannot hold the runs."""
    timing = args.students * args.zip_mb * MB * 3  # site cache + unpacked by two runs at once
    memory = 0
    if not args.skip_memory:
        # Site cache + unpacked files + a few zips in flight, for the big run.
        memory = MEMORY_STUDENTS * args.big_zip_mb * MB * 2 + CONCURRENCY * args.big_zip_mb * MB
    need = max(timing, memory) + 500 * MB
    free = shutil.disk_usage(tempfile.gettempdir()).free
    if free < need:
        print(
            f"bench: not enough disk space in {tempfile.gettempdir()}: {free / 1e9:.1f} GB free, "
            f"the benchmark needs about {need / 1e9:.1f} GB. Free some space, set TMPDIR to a "
            "larger disk, or run with --skip-memory / smaller --big-zip-mb.",
            flush=True,
        )
        sys.exit(2)


# --- the helper as a process ---------------------------------------------------------------------


class Helper:
    """A HostProcess that is killed if it runs past ``timeout`` seconds (so the bench ends)."""

    def __init__(self, env: dict[str, str], timeout: float) -> None:
        self.host = HostProcess(env=env)
        self._watchdog = threading.Timer(timeout, self.host.proc.kill)
        self._watchdog.daemon = True
        self._watchdog.start()

    def peak_rss_kb(self) -> int:
        """VmHWM (the peak resident set) of the helper process so far."""
        status = Path(f"/proc/{self.host.proc.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise RuntimeError("no VmHWM in /proc/<pid>/status")

    def close(self) -> None:
        self._watchdog.cancel()
        try:
            self.host.close(timeout=10)
        except Exception:
            self.host.proc.kill()
            self.host.proc.wait(5)

    def __enter__(self) -> Helper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclasses.dataclass
class HelperRun:
    seconds: float
    summary: dict
    peak_rss_kb: int
    hits: Counter


def run_helper(
    sites: PracticeSites, pis: list[str], timeout: float, download_id: str = "bench-download"
) -> HelperRun:
    """One download job through the real helper process, in a download root deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="etma-bench-helper-") as tmp:
        home = Path(tmp)
        env = helper_env(home, home / "eTMA")
        cookies = cookie_dicts(sites)
        with Helper(env, timeout) as helper:
            helper.host.send(
                {
                    "id": "hello",
                    "action": "hello",
                    "protocol": PROTOCOL_VERSION,
                    "extension_version": "bench",
                }
            )
            helper.host.receive_until("reply", "hello", timeout=30)
            sites.reset_hits()
            job = {
                "etma_url": etma_admin_url(sites),
                "module": MODULE,
                "assignment": ASSIGNMENT,
                "pis": pis,
                "cookies": cookies,
            }
            started = time.perf_counter()
            helper.host.send({"id": download_id, "action": "download", "job": job})
            messages = helper.host.receive_until("summary", download_id, timeout=timeout)
            seconds = time.perf_counter() - started
            hits = Counter(sites.etma_hits)
            replies = [m for m in messages if m["type"] == "reply" and m["id"] == download_id]
            if not replies or replies[0]["status"] != "ok":
                raise RuntimeError(f"the helper refused the job: {replies}")
            peak = helper.peak_rss_kb()  # after the summary, before closing its input
        return HelperRun(seconds, messages[-1]["data"], peak, hits)


def cold_start_ms(runs: int) -> list[float]:
    """Process start to the answer of the first ``hello``, ``runs`` times."""
    times = []
    with tempfile.TemporaryDirectory(prefix="etma-bench-cold-") as tmp:
        env = helper_env(Path(tmp), Path(tmp) / "eTMA")
        for index in range(runs):
            started = time.perf_counter()
            with Helper(env, timeout=30) as helper:
                helper.host.send(
                    {
                        "id": f"h{index}",
                        "action": "hello",
                        "protocol": PROTOCOL_VERSION,
                        "extension_version": "bench",
                    }
                )
                answer = helper.host.receive()
                times.append((time.perf_counter() - started) * 1000)
                if answer.get("status") != "ok":
                    raise RuntimeError(f"hello failed: {answer}")
    return times


# --- the other contestants ------------------------------------------------------------------------


def run_in_process(sites: PracticeSites, pis: list[str]) -> tuple[float, dict]:
    """The same job through BatchRunner in this process (no framing, no process)."""
    with tempfile.TemporaryDirectory(prefix="etma-bench-inproc-") as tmp:
        job = Job(
            action="download",
            etma_url=etma_admin_url(sites),
            module=MODULE,
            assignment=ASSIGNMENT,
            pis=tuple(pis),
            cookies=login_cookies(sites),
        )
        settings = Settings(download_root=Path(tmp) / "eTMA", concurrency=CONCURRENCY)
        sites.reset_hits()
        started = time.perf_counter()
        summary = BatchRunner(job, settings, emit=lambda record: None, job_id="bench").run()
        seconds = time.perf_counter() - started
        return seconds, dict(summary.counts)


def run_baseline(sites: PracticeSites, pis: list[str]) -> tuple[float, int, int, Counter]:
    """The seed-style script: sequential, zips in memory, separate passes for files and codes."""
    from tests.bench.seed_baseline import run_seed_script

    with tempfile.TemporaryDirectory(prefix="etma-bench-seed-") as tmp:
        browser = requests.Session()
        sites.etma_login(browser)  # the seed's getSession(), before the loops
        sites.reset_hits()
        started = time.perf_counter()
        result = run_seed_script(browser, etma_admin_url(sites), MODULE, pis, tmp + "/etmafiles")
        seconds = time.perf_counter() - started
        hits = Counter(sites.etma_hits)
        browser.close()
        return seconds, len(result.downloaded), len(result.codes), hits


# --- report ---------------------------------------------------------------------------------------


def hits_text(hits: Counter) -> str:
    return ", ".join(f"{method} {path} x{count}" for (method, path), count in sorted(hits.items()))


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=200, help="students (default 200)")
    parser.add_argument("--latency-ms", type=float, default=100, help="per request (default 100)")
    parser.add_argument("--zip-mb", type=float, default=1, help="zip size, timing (default 1)")
    parser.add_argument(
        "--big-zip-mb", type=float, default=200, help="zip size, memory run (default 200)"
    )
    parser.add_argument("--skip-memory", action="store_true", help="skip the memory runs")
    args = parser.parse_args(argv)
    if not 1 <= args.students <= 5000 or args.latency_ms < 0 or args.zip_mb <= 0:
        parser.error("need 1-5000 students, latency >= 0 and a zip size > 0")
    if args.big_zip_mb <= SMALL_ZIP_MB and not args.skip_memory:
        parser.error(f"--big-zip-mb must be larger than the small run's {SMALL_ZIP_MB} MB")
    check_disk(args)
    bench_started = time.perf_counter()
    latency = args.latency_ms / 1000
    cohort, pis = cohort_with_submissions(max(args.students, MEMORY_STUDENTS))
    pis_timing = pis[: args.students]
    ideal = args.students * SITE_MIN_REQUESTS * latency / CONCURRENCY
    # Generous bound: the slowest contestant makes 5 requests per student, one at a time.
    timeout = 120 + args.students * (6 * latency + 2)

    zip_pad = int(args.zip_mb * MB)
    with PracticeSites(cohort, latency=0.0, zip_pad_to=zip_pad) as sites:
        note(f"building {args.students} zips of {args.zip_mb:g} MB")
        prewarm(sites, pis_timing)
        sites.latency = latency
        note("engine through the helper process")
        helper_run = run_helper(sites, pis_timing, timeout)
        note("engine in process (BatchRunner)")
        inproc_seconds, inproc_counts = run_in_process(sites, pis_timing)
        note("seed-style baseline (sequential; the slow one)")
        base_seconds, base_files, base_codes, base_hits = run_baseline(sites, pis_timing)

    big_run = small_run = None
    if not args.skip_memory:
        pis_memory = pis[:MEMORY_STUDENTS]
        with PracticeSites(cohort, latency=0.0) as sites:
            runs = {}
            for size in (SMALL_ZIP_MB, args.big_zip_mb):
                sites.zip_pad_to = int(size * MB)
                note(f"building {MEMORY_STUDENTS} zips of {size:g} MB (not timed)")
                prewarm(sites, pis_memory)
                note(f"helper downloading {MEMORY_STUDENTS} x {size:g} MB zips")
                runs[size] = run_helper(
                    sites, pis_memory, timeout=600 + MEMORY_STUDENTS * size * 0.5
                )
            small_run, big_run = runs[SMALL_ZIP_MB], runs[args.big_zip_mb]

    note(f"cold start, {COLD_RUNS} runs")
    colds = cold_start_ms(COLD_RUNS)
    cold = statistics.median(colds)
    total_seconds = time.perf_counter() - bench_started

    # --- print ---
    engine = helper_run.seconds
    r_engine = engine / ideal if ideal > 0 else float("nan")
    r_base = base_seconds / engine
    counts = helper_run.summary["counts"]
    engine_hits = sum(helper_run.hits.values())
    per_student_posts = sum(
        count for (method, _), count in helper_run.hits.items() if method == "POST"
    )
    lat = f"{args.latency_ms:g} ms"
    rows = [
        (
            f"ideal: {args.students} students x {SITE_MIN_REQUESTS} req x {lat} / {CONCURRENCY}",
            ideal,
            "1.00 x ideal",
        ),
        (
            f"engine, real helper process (concurrency {CONCURRENCY})",
            engine,
            f"{r_engine:.3f} x ideal",
        ),
        (
            f"engine, in-process BatchRunner (concurrency {CONCURRENCY})",
            inproc_seconds,
            f"{inproc_seconds / ideal:.3f} x ideal" if ideal > 0 else "",
        ),
        (
            "seed-style baseline (sequential, two passes)",
            base_seconds,
            f"{r_base:.2f} x engine",
        ),
    ]
    print(
        f"Download engine: {args.students} students, {lat} per request, "
        f"{args.zip_mb:g} MB zips, practice sites on loopback"
    )
    print(f"{'scenario':<58} {'seconds':>9}  ratio")
    for name, seconds, ratio in rows:
        print(f"{name:<58} {seconds:>9.2f}  {ratio}")
    print(
        f"  requests per student, engine: {engine_hits / args.students:.2f} measured "
        f"({per_student_posts / args.students:.2f} per-student POSTs + "
        f"{engine_hits - per_student_posts} one-off); {hits_text(helper_run.hits)}"
    )
    print(
        f"  requests per student, baseline: {sum(base_hits.values()) / args.students:.2f} "
        f"measured; {hits_text(base_hits)}"
    )
    print(
        f"  outcomes: helper {counts} (job's own timer {helper_run.summary['seconds']} s); "
        f"in-process {inproc_counts}; baseline {base_files} unzipped, {base_codes} codes"
    )
    print(f"  helper peak RSS in this run: {helper_run.peak_rss_kb / 1024:.1f} MB")
    peak_mb = delta_mb = float("nan")
    if big_run is not None and small_run is not None:
        peak_mb = big_run.peak_rss_kb / 1024
        small_mb = small_run.peak_rss_kb / 1024
        delta_mb = peak_mb - small_mb
        print()
        print(f"{'memory: helper peak RSS (VmHWM), 20 students':<58} {'MB':>9}")
        print(f"{f'  {args.big_zip_mb:g} MB zips ({big_run.seconds:.1f} s)':<58} {peak_mb:>9.1f}")
        print(f"{f'  {SMALL_ZIP_MB} MB zips ({small_run.seconds:.1f} s)':<58} {small_mb:>9.1f}")
        print(f"{'  difference':<58} {delta_mb:>9.1f}")
        for label, run in (("big", big_run), ("small", small_run)):
            if run.summary["counts"].get("done") != MEMORY_STUDENTS:
                print(f"  WARNING: {label} run outcome {run.summary['counts']}")
    print()
    print(f"{f'cold start: process start to hello answer, median of {COLD_RUNS}':<58} {'ms':>9}")
    print(f"{f'  (min {min(colds):.0f}, max {max(colds):.0f})':<58} {cold:>9.1f}")
    print()
    print("targets:")
    print(
        f"  engine <= {TARGET_ENGINE_IDEAL} x ideal: {verdict(r_engine <= TARGET_ENGINE_IDEAL)}"
        f" ({r_engine:.3f})"
    )
    print(
        f"  baseline >= {TARGET_BASELINE_ENGINE} x engine: "
        f"{verdict(r_base >= TARGET_BASELINE_ENGINE)} ({r_base:.2f})"
    )
    if big_run is not None:
        print(
            f"  peak RSS < {TARGET_PEAK_MB} MB: {verdict(peak_mb < TARGET_PEAK_MB)} ({peak_mb:.1f})"
        )
        print(
            f"  within {TARGET_DELTA_MB} MB of small-zip run: "
            f"{verdict(delta_mb < TARGET_DELTA_MB)} ({delta_mb:.1f})"
        )
    else:
        print("  memory: skipped (--skip-memory)")
    print(f"  cold start < {TARGET_COLD_MS} ms: {verdict(cold < TARGET_COLD_MS)} ({cold:.1f})")
    print(f"benchmark wall time: {total_seconds:.1f} s")
    print(
        f"bench: engine/ideal={r_engine:.3f} baseline/engine={r_base:.2f} "
        f"peak_rss_mb={peak_mb:.1f} rss_delta_mb={delta_mb:.1f} cold_start_ms={cold:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
