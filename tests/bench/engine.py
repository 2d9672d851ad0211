"""Download-engine benchmark: the helper against the ideal, the thinnest client and the seed script.

Run from the repository root (not collected by pytest)::

    python tests/bench/engine.py                  # the full run (several minutes, ~9 GB of disk)
    python tests/bench/engine.py --skip-memory --skip-scale --students 40   # a quick look

Everything runs against the practice sites on loopback, served from a process of their own
(tests/bench/sites_process.py) so their CPU does not count against whoever is measured, and is
bounded in time. The helper's package is byte-compiled first, as an install leaves it. In one
run it measures, side by side:

* wall time of a download job of ``--students`` students at ``--latency-ms`` per request with
  ``--zip-mb`` zips: the real helper process (over native-messaging framing, like a browser), the
  in-process ``BatchRunner``, the thinnest client the server allows (tests/bench/thin_client.py:
  the same concurrency, two requests per student, the zip discarded), the ideal (students x
  requests per student x latency / concurrency) and a sequential seed-style script
  (tests/bench/seed_baseline.py);
* the helper's peak memory (VmHWM) downloading 20 students with ``--big-zip-mb`` zips, against the
  same with 2 MB zips, and the import floor: the same interpreter importing the libraries a
  download job loads and nothing else;
* cold start: process start to the answer of the first ``hello``, median of 20, for the helper and
  for a bare nativemessaging-ng host (tests/bench/bare_host.py) started the same way, interleaved;
* scale: a codes job of ``--scale-students`` (default 5,000, the protocol's maximum) and of a tenth
  of that, no latency, through the real helper: CPU time per student, peak memory, ledger size.

The last line printed is machine-readable::

    bench: engine/ideal=R1 engine/floor=R2 baseline/engine=R3 peak_rss_mb=M1 import_floor_mb=F
    rss_delta_mb=M2 cold_start_ms=T bare_host_ms=B per_student_cpu_ms_500=C1
    per_student_cpu_ms_5000=C2

(on one line; a part that was skipped prints ``nan``).
"""

from __future__ import annotations

import argparse
import compileall
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
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
from tests.bench.sites_process import SitesProcess  # noqa: E402
from tests.bench.thin_client import fetch_all  # noqa: E402
from tests.conftest import etma_admin_url, login_cookies  # noqa: E402
from tests.hostproc import HostProcess  # noqa: E402
from tests.sites import Cohort  # noqa: E402

CONCURRENCY = 4  # the helper's default
SITE_MIN_REQUESTS = 2  # per student: one search POST, one download POST
MEMORY_STUDENTS = 20
SMALL_ZIP_MB = 2
COLD_RUNS = 20
MB = 1_000_000  # zip sizes are decimal, as in the spec (zip_pad_to=1_000_000)
MODULE, ASSIGNMENT, SEED = "TM351", "TMA02", 351

#: The libraries a download job loads (pyproject's dependencies but pandas, which only reading a
#: marks file needs, and tqdm, the command line's only).
IMPORT_FLOOR_MODULES = ("requests", "bs4", "openpyxl", "platformdirs")
BARE_HOST = REPO / "tests" / "bench" / "bare_host.py"

TARGET_ENGINE_IDEAL = 1.15
TARGET_ENGINE_FLOOR = 1.05
TARGET_BASELINE_ENGINE = 3.5
TARGET_OWN_MB = 15  # peak RSS over the import floor
TARGET_DELTA_MB = 5  # 200 MB zips against 2 MB zips
TARGET_COLD_OVER_BARE = 1.5
TARGET_SCALE_CPU = 1.2  # per-student CPU at 5,000 over that at 500


def compile_helper() -> None:
    """Byte-compile the helper's package into its ``__pycache__``, as pip does when install.py
    installs it.

    Run from a clone with PYTHONDONTWRITEBYTECODE set, every helper process would otherwise
    compile each of its modules again as it imports them (the bare host's library, installed by
    pip, is compiled once), and its start-up and first job would time the compiler. A source
    newer than its compiled copy is still compiled afresh, so a stale cache cannot mislead.
    """
    compileall.compile_dir(REPO / "host" / "etma_helper", quiet=1)


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


def cookie_dicts(sites: SitesProcess) -> list[dict]:
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

    def __init__(
        self, env: dict[str, str], timeout: float, program: tuple[str, ...] | None = None
    ) -> None:
        self.host = HostProcess(env=env, **({"program": program} if program else {}))
        self._watchdog = threading.Timer(timeout, self.host.proc.kill)
        self._watchdog.daemon = True
        self._watchdog.start()

    def _status(self, field: str) -> int:
        for line in Path(f"/proc/{self.host.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise RuntimeError(f"no {field} in /proc/<pid>/status")

    def peak_rss_kb(self) -> int:
        """VmHWM (the peak resident set) of the helper process so far."""
        return self._status("VmHWM")

    def cpu_seconds(self) -> float:
        """User + system CPU time the helper process has used so far (all its threads)."""
        fields = Path(f"/proc/{self.host.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
        return (utime + stime) / os.sysconf("SC_CLK_TCK")

    def hello(self) -> dict:
        self.host.send(
            {
                "id": "hello",
                "action": "hello",
                "protocol": PROTOCOL_VERSION,
                "extension_version": "bench",
            }
        )
        return self.host.receive_until("reply", "hello", timeout=30)[-1]

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
    cpu_seconds: float  # the job's, from the hello answer to the summary
    ledger_bytes: int


def run_helper(
    sites: SitesProcess,
    pis: list[str],
    timeout: float,
    action: str = "download",
    job_id: str = "bench-job",
) -> HelperRun:
    """One job through the real helper process, in a home folder deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="etma-bench-helper-") as tmp:
        home = Path(tmp)
        env = helper_env(home, home / "eTMA")
        job = {
            "etma_url": etma_admin_url(sites),
            "module": MODULE,
            "assignment": ASSIGNMENT,
            "pis": pis,
            "cookies": cookie_dicts(sites),
        }
        with Helper(env, timeout) as helper:
            helper.hello()
            sites.reset_hits()
            cpu_before = helper.cpu_seconds()
            started = time.perf_counter()
            helper.host.send({"id": job_id, "action": action, "job": job})
            messages = helper.host.receive_until("summary", job_id, timeout=timeout)
            seconds = time.perf_counter() - started
            cpu = helper.cpu_seconds() - cpu_before
            hits = sites.etma_hits
            replies = [m for m in messages if m["type"] == "reply" and m["id"] == job_id]
            if not replies or replies[0]["status"] != "ok":
                raise RuntimeError(f"the helper refused the job: {replies}")
            peak = helper.peak_rss_kb()  # after the summary, before closing its input
        ledger = home / "data" / "etma_helper"
        ledger_bytes = sum(f.stat().st_size for f in ledger.glob("ledger.sqlite3*"))
        return HelperRun(seconds, messages[-1]["data"], peak, hits, cpu, ledger_bytes)


def cold_starts_ms(runs: int) -> tuple[list[float], list[float]]:
    """Process start to the answer of the first ``hello``, for the helper and the bare host.

    Interleaved, run by run, so both meet the same machine (caches, load).
    """
    helper_times: list[float] = []
    bare_times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="etma-bench-cold-") as tmp:
        env = helper_env(Path(tmp), Path(tmp) / "eTMA")
        for _ in range(runs):
            for program, times in ((None, helper_times), ((str(BARE_HOST),), bare_times)):
                started = time.perf_counter()
                with Helper(env, timeout=30, program=program) as host:
                    answer = host.hello()
                    times.append((time.perf_counter() - started) * 1000)
                if answer.get("status") != "ok":
                    raise RuntimeError(f"hello failed: {answer}")
    return helper_times, bare_times


def import_floor_mb() -> float:
    """Peak RSS of this interpreter importing the libraries a download job loads, and nothing
    else."""
    code = (
        f"import {', '.join(IMPORT_FLOOR_MODULES)}\n"
        "for line in open('/proc/self/status'):\n"
        "    if line.startswith('VmHWM:'): print(int(line.split()[1]))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    return int(output) / 1024


# --- the other contestants ------------------------------------------------------------------------


def run_in_process(sites: SitesProcess, pis: list[str]) -> tuple[float, dict]:
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


def run_floor(sites: SitesProcess, pis: list[str]) -> tuple[float, int, Counter]:
    """The thinnest client: seconds, zip bytes read, requests the server saw."""
    cookies = {cookie.name: cookie.value for cookie in login_cookies(sites)}
    sites.reset_hits()
    started = time.perf_counter()
    read = fetch_all(etma_admin_url(sites), MODULE, pis, cookies, CONCURRENCY)
    seconds = time.perf_counter() - started
    return seconds, read, sites.etma_hits


def run_baseline(sites: SitesProcess, pis: list[str]) -> tuple[float, int, int, Counter]:
    """The seed-style script: sequential, zips in memory, separate passes for files and codes."""
    from tests.bench.seed_baseline import run_seed_script

    with tempfile.TemporaryDirectory(prefix="etma-bench-seed-") as tmp:
        browser = requests.Session()
        sites.etma_login(browser)  # the seed's getSession(), before the loops
        sites.reset_hits()
        started = time.perf_counter()
        result = run_seed_script(browser, etma_admin_url(sites), MODULE, pis, tmp + "/etmafiles")
        seconds = time.perf_counter() - started
        hits = sites.etma_hits
        browser.close()
        return seconds, len(result.downloaded), len(result.codes), hits


def run_scale(students: int) -> HelperRun:
    """A codes job for ``students`` students with no latency, through the real helper."""
    cohort = Cohort(size=students, seed=SEED, module=MODULE, assignment=ASSIGNMENT)
    pis = [student.pi for student in cohort.students]
    with SitesProcess(cohort) as sites:
        return run_helper(sites, pis, timeout=120 + students * 0.2, action="codes")


# --- report ---------------------------------------------------------------------------------------


def hits_text(hits: Counter) -> str:
    return ", ".join(f"{method} {path} x{count}" for (method, path), count in sorted(hits.items()))


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def row(name: str, value: float, ratio: str = "") -> str:
    return f"{name:<62} {value:>9.2f}  {ratio}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=200, help="students (default 200)")
    parser.add_argument("--latency-ms", type=float, default=100, help="per request (default 100)")
    parser.add_argument("--zip-mb", type=float, default=1, help="zip size, timing (default 1)")
    parser.add_argument(
        "--big-zip-mb", type=float, default=200, help="zip size, memory run (default 200)"
    )
    parser.add_argument("--skip-memory", action="store_true", help="skip the memory runs")
    parser.add_argument(
        "--scale-students",
        type=int,
        default=5000,
        help="students in the big codes job (default 5000); the small one has a tenth",
    )
    parser.add_argument("--skip-scale", action="store_true", help="skip the scale runs")
    args = parser.parse_args(argv)
    if not 1 <= args.students <= 5000 or args.latency_ms < 0 or args.zip_mb <= 0:
        parser.error("need 1-5000 students, latency >= 0 and a zip size > 0")
    if not 10 <= args.scale_students <= 5000:
        parser.error("--scale-students must be 10-5000")
    if args.big_zip_mb <= SMALL_ZIP_MB and not args.skip_memory:
        parser.error(f"--big-zip-mb must be larger than the small run's {SMALL_ZIP_MB} MB")
    check_disk(args)
    compile_helper()
    bench_started = time.perf_counter()
    latency = args.latency_ms / 1000
    cohort, pis = cohort_with_submissions(max(args.students, MEMORY_STUDENTS))
    pis_timing = pis[: args.students]
    ideal = args.students * SITE_MIN_REQUESTS * latency / CONCURRENCY
    # Generous bound: the slowest contestant makes 5 requests per student, one at a time.
    timeout = 120 + args.students * (6 * latency + 2)

    with SitesProcess(cohort, zip_pad_to=int(args.zip_mb * MB)) as sites:
        note(f"building {args.students} zips of {args.zip_mb:g} MB")
        sites.prewarm(pis_timing)
        sites.latency = latency
        note("thinnest client (the floor)")
        floor_seconds, floor_bytes, floor_hits = run_floor(sites, pis_timing)
        note("engine through the helper process")
        helper_run = run_helper(sites, pis_timing, timeout)
        note("engine in process (BatchRunner)")
        inproc_seconds, inproc_counts = run_in_process(sites, pis_timing)
        note("seed-style baseline (sequential; the slow one)")
        base_seconds, base_files, base_codes, base_hits = run_baseline(sites, pis_timing)

    big_run = small_run = None
    floor_mb = float("nan")
    if not args.skip_memory:
        pis_memory = pis[:MEMORY_STUDENTS]
        with SitesProcess(cohort) as sites:
            runs = {}
            for size in (SMALL_ZIP_MB, args.big_zip_mb):
                sites.zip_pad_to = int(size * MB)
                note(f"building {MEMORY_STUDENTS} zips of {size:g} MB (not timed)")
                sites.prewarm(pis_memory)
                note(f"helper downloading {MEMORY_STUDENTS} x {size:g} MB zips")
                runs[size] = run_helper(
                    sites, pis_memory, timeout=600 + MEMORY_STUDENTS * size * 0.5
                )
            small_run, big_run = runs[SMALL_ZIP_MB], runs[args.big_zip_mb]
        floor_mb = import_floor_mb()

    note(f"cold start, {COLD_RUNS} runs each of the helper and the bare host")
    colds, bares = cold_starts_ms(COLD_RUNS)
    cold, bare = statistics.median(colds), statistics.median(bares)

    scale_runs: dict[int, HelperRun] = {}
    if not args.skip_scale:
        for students in (args.scale_students // 10, args.scale_students):
            note(f"codes job of {students} students, no latency")
            scale_runs[students] = run_scale(students)
    total_seconds = time.perf_counter() - bench_started

    # --- print ---
    engine = helper_run.seconds
    r_engine = engine / ideal if ideal > 0 else float("nan")
    r_floor = engine / floor_seconds
    r_base = base_seconds / engine
    counts = helper_run.summary["counts"]
    lat = f"{args.latency_ms:g} ms"
    print(
        f"Download engine: {args.students} students, {lat} per request, "
        f"{args.zip_mb:g} MB zips, practice sites on loopback in their own process"
    )
    print(f"{'scenario':<62} {'seconds':>9}  ratio")
    ideal_name = (
        f"ideal: {args.students} students x {SITE_MIN_REQUESTS} req x {lat} / {CONCURRENCY}"
    )
    print(row(ideal_name, ideal, "1.00 x ideal"))
    print(
        row(
            f"thinnest client, floor (concurrency {CONCURRENCY})",
            floor_seconds,
            f"{floor_seconds / ideal:.3f} x ideal" if ideal > 0 else "",
        )
    )
    print(
        row(
            f"engine, real helper process (concurrency {CONCURRENCY})",
            engine,
            f"{r_engine:.3f} x ideal, {r_floor:.3f} x floor",
        )
    )
    print(
        row(
            f"engine, in-process BatchRunner (concurrency {CONCURRENCY})",
            inproc_seconds,
            f"{inproc_seconds / ideal:.3f} x ideal, {inproc_seconds / floor_seconds:.3f} x floor"
            if ideal > 0
            else "",
        )
    )
    print(
        row("seed-style baseline (sequential, two passes)", base_seconds, f"{r_base:.2f} x engine")
    )
    for name, hits in (("engine", helper_run.hits), ("floor", floor_hits), ("baseline", base_hits)):
        print(
            f"  requests per student, {name}: {sum(hits.values()) / args.students:.2f}; "
            f"{hits_text(hits)}"
        )
    print(
        f"  outcomes: helper {counts} (job's own timer {helper_run.summary['seconds']} s, "
        f"CPU {helper_run.cpu_seconds:.2f} s); in-process {inproc_counts}; floor "
        f"{floor_bytes / MB:.0f} MB read; baseline {base_files} unzipped, {base_codes} codes"
    )
    peak_mb = delta_mb = float("nan")
    if big_run is not None and small_run is not None:
        peak_mb = big_run.peak_rss_kb / 1024
        small_mb = small_run.peak_rss_kb / 1024
        delta_mb = peak_mb - small_mb
        print()
        print(f"{f'memory: helper peak RSS (VmHWM), {MEMORY_STUDENTS} students':<62} {'MB':>9}")
        print(row(f"  {args.big_zip_mb:g} MB zips ({big_run.seconds:.1f} s)", peak_mb))
        print(row(f"  {SMALL_ZIP_MB} MB zips ({small_run.seconds:.1f} s)", small_mb))
        print(row("  difference", delta_mb))
        print(row(f"  import floor: {', '.join(IMPORT_FLOOR_MODULES)}", floor_mb))
        print(row("  the helper's own (peak over the import floor)", peak_mb - floor_mb))
        for label, run in (("big", big_run), ("small", small_run)):
            if run.summary["counts"].get("done") != MEMORY_STUDENTS:
                print(f"  WARNING: {label} run outcome {run.summary['counts']}")
    print()
    print(f"{f'cold start: process start to hello answer, median of {COLD_RUNS}':<62} {'ms':>9}")
    print(
        row(
            f"  helper (min {min(colds):.0f}, max {max(colds):.0f})",
            cold,
            f"{cold / bare:.2f} x bare host",
        )
    )
    print(row(f"  bare nativemessaging-ng host (min {min(bares):.0f}, max {max(bares):.0f})", bare))
    cpu_small = cpu_big = float("nan")
    if scale_runs:
        (small_n, small_scale), (big_n, big_scale) = sorted(scale_runs.items())
        cpu_small = small_scale.cpu_seconds * 1000 / small_n
        cpu_big = big_scale.cpu_seconds * 1000 / big_n
        print()
        print(
            f"{'scale: codes job, no latency, real helper':<40} {'seconds':>9} "
            f"{'CPU ms/student':>15} {'peak MB':>8} {'ledger KB/student':>18}"
        )
        for n, run in sorted(scale_runs.items()):
            print(
                f"{f'  {n} students':<40} {run.seconds:>9.2f} "
                f"{run.cpu_seconds * 1000 / n:>15.2f} {run.peak_rss_kb / 1024:>8.1f} "
                f"{run.ledger_bytes / 1024 / n:>18.2f}"
            )
            if sum(run.summary["counts"].values()) != n or run.summary["counts"].get("failed"):
                print(f"  WARNING: {n}-student run outcome {run.summary['counts']}")
    print()
    print("targets:")
    checks = [
        (f"engine <= {TARGET_ENGINE_IDEAL} x ideal", r_engine <= TARGET_ENGINE_IDEAL, r_engine),
        (f"engine <= {TARGET_ENGINE_FLOOR} x floor", r_floor <= TARGET_ENGINE_FLOOR, r_floor),
        (
            f"baseline >= {TARGET_BASELINE_ENGINE} x engine",
            r_base >= TARGET_BASELINE_ENGINE,
            r_base,
        ),
        (
            f"cold start <= {TARGET_COLD_OVER_BARE} x bare host",
            cold <= TARGET_COLD_OVER_BARE * bare,
            cold / bare,
        ),
    ]
    if big_run is not None:
        checks += [
            (
                f"peak RSS - import floor <= {TARGET_OWN_MB} MB",
                peak_mb - floor_mb <= TARGET_OWN_MB,
                peak_mb - floor_mb,
            ),
            (
                f"200 MB zips within {TARGET_DELTA_MB} MB of 2 MB zips",
                delta_mb <= TARGET_DELTA_MB,
                delta_mb,
            ),
        ]
    if scale_runs:
        checks.append(
            (
                f"CPU per student at {args.scale_students} <= {TARGET_SCALE_CPU} x at "
                f"{args.scale_students // 10}",
                cpu_big <= TARGET_SCALE_CPU * cpu_small,
                cpu_big / cpu_small,
            )
        )
    for name, met, value in checks:
        print(f"  {name}: {verdict(met)} ({value:.3f})")
    print(f"benchmark wall time: {total_seconds:.1f} s")
    print(
        f"bench: engine/ideal={r_engine:.3f} engine/floor={r_floor:.3f} "
        f"baseline/engine={r_base:.2f} peak_rss_mb={peak_mb:.1f} import_floor_mb={floor_mb:.1f} "
        f"rss_delta_mb={delta_mb:.1f} cold_start_ms={cold:.1f} bare_host_ms={bare:.1f} "
        f"per_student_cpu_ms_500={cpu_small:.2f} per_student_cpu_ms_5000={cpu_big:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
