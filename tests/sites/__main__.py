"""Run both practice sites until Ctrl-C: ``python -m tests.sites``."""

from __future__ import annotations

import argparse
import threading

from .cohort import Cohort
from .server import DEMO_ETMA_PORT, DEMO_OSCAR_PORT, PracticeSites


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options for the demo servers."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.sites",
        description="Serve the practice OSCAR and eTMA sites on loopback for the demo.",
    )
    parser.add_argument("--students", type=int, default=30, help="cohort size (default 30)")
    parser.add_argument("--seed", type=int, default=351, help="cohort seed (default 351)")
    parser.add_argument("--module", default="TM351", help="module code (default TM351)")
    parser.add_argument("--assignment", default="TMA02", help="assignment (default TMA02)")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="delay added to every request, in milliseconds",
    )
    parser.add_argument(
        "--zip-bytes", type=int, default=None, help="pad every zip to about this many bytes"
    )
    parser.add_argument("--oscar-port", type=int, default=DEMO_OSCAR_PORT)
    parser.add_argument("--etma-port", type=int, default=DEMO_ETMA_PORT)
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start the sites, print where they are and how to log in, and wait for Ctrl-C."""
    args = parse_args(argv)
    cohort = Cohort(
        size=args.students,
        seed=args.seed,
        module=args.module.upper(),
        assignment=args.assignment.upper(),
    )
    sites = PracticeSites(
        cohort,
        latency=args.latency_ms / 1000,
        zip_pad_to=args.zip_bytes,
        oscar_port=args.oscar_port,
        etma_port=args.etma_port,
        verbose=args.verbose,
    )
    try:
        sites.start()
    except OSError as error:
        print(
            f"Could not start the practice sites: {error}. "
            "Is another copy running? Try --oscar-port/--etma-port."
        )
        return 1
    with_files = sum(1 for student in cohort.students if student.files)
    print("Practice sites running (Ctrl-C to stop)")
    print(f"  OSCAR work allocation: {sites.allocation_url}")
    print(f"      login: {sites.OSCAR_LOGIN[0]} / {sites.OSCAR_LOGIN[1]}")
    print(f"  eTMA admin (EAB) tab:  {sites.etma_url}etma/admin")
    print(f"      login: {sites.ETMA_LOGIN[0]} / {sites.ETMA_LOGIN[1]}")
    print(
        f"  Cohort: {len(cohort.students)} students of {cohort.module} {cohort.assignment}, "
        f"{with_files} with submissions (seed {cohort.seed})"
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("\nStopping.")
    finally:
        sites.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
