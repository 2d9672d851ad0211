"""Run the practice sites until Ctrl-C: ``python -m tests.sites``.

Every knob the tests turn from Python (``tests/conftest.py``'s ``fresh_sites``, ``faults.py``,
``hostile.py``) is a flag here too, so a failure path can be tried by hand:

    python -m tests.sites --fault 2=http500 --fault 4=truncate --session-expires-after 40
    python -m tests.sites --signon saml --session-expires-after 40
"""

from __future__ import annotations

import argparse
import threading

from . import hostile
from .cohort import Cohort
from .faults import FAULT_KINDS, Faults
from .marks import marks_path
from .server import DEMO_ETMA_PORT, DEMO_OSCAR_PORT, DEMO_SIGNON_PORT, PracticeSites
from .signon import SIGNON_MODES

# Redirect attacks send the helper to another server, which only a test starts.
NEEDS_ANOTHER_SERVER = frozenset({"redirect_page", "redirect_download"})
STUDENT_HELP = (
    "STUDENT is a PI (P1234567) or a row number of OSCAR's allocation (1 = the first student)"
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options for the demo servers."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.sites",
        description="Serve the practice OSCAR and eTMA sites (and their sign-on host) on "
        "loopback for the demo, with the faults, latency, session expiry and sign-on the tests "
        "use, to try failure paths by hand.",
        epilog=f"{STUDENT_HELP}. Fault kinds: {', '.join(sorted(FAULT_KINDS))}. "
        f"Attacks: see tests/sites/hostile.py.",
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
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="STUDENT=KIND",
        help="break that student's download: " + ", ".join(sorted(FAULT_KINDS)) + " (repeatable)",
    )
    parser.add_argument(
        "--fault-times",
        type=int,
        default=None,
        metavar="N",
        help="each student's fault fires N times, then downloads work (default: always)",
    )
    parser.add_argument(
        "--session-expires-after",
        type=int,
        default=None,
        metavar="N",
        help="every eTMA session ends after serving N requests (log in again to go on)",
    )
    parser.add_argument(
        "--markup",
        choices=("classic", "variant"),
        default="classic",
        help="eTMA's markup: classic tables, or the same facts in other markup (divs, other "
        "field names, windows-1252)",
    )
    parser.add_argument(
        "--viewstate-bytes",
        type=int,
        default=0,
        metavar="N",
        help="give eTMA's search form an ASP.NET-style __VIEWSTATE of N bytes",
    )
    parser.add_argument(
        "--hostile",
        action="append",
        default=[],
        metavar="STUDENT=ATTACK",
        help="serve that student's page or download as an attack from tests/sites/hostile.py "
        "(repeatable; the redirect attacks need another server and are for tests only)",
    )
    parser.add_argument(
        "--signon",
        choices=SIGNON_MODES,
        default=None,
        help="send visitors without an OSCAR or eTMA session (never signed in, or expired) to "
        "the sign-on host: saml (a login page, then a form that posts itself back) or sams "
        "(a login page at ?URL=…, then a redirect back); default: each site's own login page",
    )
    parser.add_argument("--oscar-port", type=int, default=DEMO_OSCAR_PORT)
    parser.add_argument("--etma-port", type=int, default=DEMO_ETMA_PORT)
    parser.add_argument("--signon-port", type=int, default=DEMO_SIGNON_PORT)
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    args.error = parser.error
    return args


def _by_student(
    pairs: list[str], cohort: Cohort, known: frozenset[str], what: str, fail
) -> dict[str, str]:
    """``["2=http500", "P1234567=reset"]`` as ``{PI: kind}``, every part checked."""
    chosen: dict[str, str] = {}
    for pair in pairs:
        student, sep, kind = pair.partition("=")
        student, kind = student.strip(), kind.strip()
        if not sep or not student or not kind:
            fail(f"write each --{what} as STUDENT=KIND, not {pair!r} ({STUDENT_HELP})")
        if kind not in known:
            fail(
                f"unknown {'fault' if what == 'fault' else 'attack'} {kind!r}; known: "
                + ", ".join(sorted(known))
            )
        if student.isdigit():
            number = int(student)
            if not 1 <= number <= len(cohort.students):
                fail(f"there is no student {number}: the cohort has {len(cohort.students)}")
            student = cohort.students[number - 1].pi
        chosen[student.upper()] = kind
    return chosen


def build_sites(args: argparse.Namespace) -> PracticeSites:
    """The practice sites the options describe, not yet started."""
    fail = args.error
    for name in ("fault_times", "session_expires_after"):
        value = getattr(args, name)
        if value is not None and value < 1:
            fail(f"--{name.replace('_', '-')} must be at least 1")
    cohort = Cohort(
        size=args.students,
        seed=args.seed,
        module=args.module.upper(),
        assignment=args.assignment.upper(),
    )
    faults = _by_student(args.fault, cohort, FAULT_KINDS, "fault", fail)
    attacks = _by_student(args.hostile, cohort, hostile.ATTACKS, "hostile", fail)
    redirects = sorted(set(attacks.values()) & NEEDS_ANOTHER_SERVER)
    if redirects:
        fail(
            f"{', '.join(redirects)} sends the helper to another server, which only the tests "
            "start; choose another attack"
        )
    sites = PracticeSites(
        cohort,
        latency=args.latency_ms / 1000,
        zip_pad_to=args.zip_bytes,
        faults=Faults(
            per_pi=faults,
            session_expires_after=args.session_expires_after,
            **({"times": args.fault_times} if args.fault_times is not None else {}),
        ),
        oscar_port=args.oscar_port,
        etma_port=args.etma_port,
        verbose=args.verbose,
        signon=args.signon,
        signon_port=args.signon_port,
    )
    sites.etma_markup = args.markup
    sites.etma_viewstate_bytes = args.viewstate_bytes
    sites.etma_hostile = attacks
    return sites


def _knobs(sites: PracticeSites) -> list[str]:
    """What is turned away from an ordinary site, one line each, for the start-up message."""
    lines = []
    if sites.latency:
        lines.append(f"latency {sites.latency * 1000:g} ms per request")
    for pi, kind in sites.faults.per_pi.items():
        times = "" if sites.faults.times >= 1_000_000 else f" ({sites.faults.times}x)"
        lines.append(f"fault {kind} on {pi}'s download{times}")
    if sites.faults.session_expires_after:
        lines.append(f"eTMA sessions end after {sites.faults.session_expires_after} requests")
    if sites.etma_markup != "classic":
        lines.append(f"eTMA markup: {sites.etma_markup}")
    if sites.etma_viewstate_bytes:
        lines.append(f"__VIEWSTATE of {sites.etma_viewstate_bytes} bytes")
    lines += [f"attack {attack} on {pi}" for pi, attack in sites.etma_hostile.items()]
    if sites.signon:
        lines.append(
            f"sign-on: {sites.signon}, an expired or missing session goes to the sign-on host"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Start the sites, print where they are and how to log in, and wait for Ctrl-C."""
    sites = build_sites(parse_args(argv))
    cohort = sites.cohort
    try:
        sites.start()
    except OSError as error:
        print(
            f"Could not start the practice sites: {error}. "
            "Is another copy running? Try --oscar-port/--etma-port/--signon-port."
        )
        return 1
    with_files = sum(1 for student in cohort.students if student.files)
    print("Practice sites running (Ctrl-C to stop)")
    print(f"  OSCAR work allocation: {sites.allocation_url}")
    print(f"  OSCAR marks:           {sites.oscar_url.rstrip('/')}{marks_path(sites.cohort)}")
    print(f"      login: {sites.OSCAR_LOGIN[0]} / {sites.OSCAR_LOGIN[1]}")
    print(f"  eTMA admin (EAB) tab:  {sites.etma_url}etma/admin")
    print(f"      login: {sites.ETMA_LOGIN[0]} / {sites.ETMA_LOGIN[1]}")
    if sites.signon:
        print(f"  Sign-on host ({sites.signon}): {sites.signon_url}")
        print(f"      login: {sites.SIGNON_LOGIN[0]} / {sites.SIGNON_LOGIN[1]}")
    print(
        f"  Cohort: {len(cohort.students)} students of {cohort.module} {cohort.assignment}, "
        f"{with_files} with submissions (seed {cohort.seed})"
    )
    for line in _knobs(sites):
        print(f"  {line}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("\nStopping.")
    finally:
        sites.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
