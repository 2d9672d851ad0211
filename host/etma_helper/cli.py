"""The command line: the same engine as the browser's, for a terminal."""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import replace
from pathlib import Path

from . import __version__
from .config import Settings, config_path
from .errors import ErrorCode, ProtocolError
from .protocol import MODULE_PATTERN, check_etma_url, normalise_assignment, normalise_pi
from .records import Job

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NEEDS_LOGIN, EXIT_INTERRUPTED = 0, 1, 2, 3, 4
EXIT_DISK_FULL = 5
EXIT_WRONG_ADDRESS = 6
EXIT_CODES_HELP = """\
exit codes:
  0  every student done, or with nothing submitted on eTMA
  1  some students failed (the summary says why)
  2  bad usage
  3  the eTMA session ended: log in again, export fresh cookies and run the same command
     (finished students are skipped)
  4  interrupted (Ctrl-C)
  5  the disk is nearly full: free some space and run the same command
  6  the eTMA address is wrong or cannot be reached: nothing was fetched; check --etma-url"""

# A PI anywhere in pasted text: a letter and seven digits standing alone (OSCAR's table, a list).
PI_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]\d{7}(?![A-Za-z0-9])")


class UsageError(Exception):
    """Something on the command line that the user must fix."""


def pis_from_text(text: str) -> list[str]:
    """Every PI in a text, in order, once: a plain list or a table copied from OSCAR."""
    return list(dict.fromkeys(match.upper() for match in PI_IN_TEXT.findall(text)))


def _read_pis(args: argparse.Namespace) -> list[str]:
    pis: list[str] = []
    for raw in args.pis or []:
        try:
            pis.append(normalise_pi(raw))
        except ValueError:
            raise UsageError(f"{raw!r} is not a student PI (a letter and seven digits).") from None
    if args.pis_file:
        try:
            text = Path(args.pis_file).read_text(encoding="utf-8", errors="replace")
        except OSError as err:
            raise UsageError(f"Cannot read {args.pis_file}: {err.strerror}.") from None
        found = pis_from_text(text)
        if not found:
            raise UsageError(f"No student PIs (such as P1234567) found in {args.pis_file}.")
        pis.extend(found)
    if not pis:
        raise UsageError("Name the students: --pis P1234567 … or --pis-file FILE.")
    return list(dict.fromkeys(pis))


def _module(raw: str) -> str:
    module = raw.strip().upper()
    if not MODULE_PATTERN.match(module):
        raise UsageError(f"{raw!r} is not a module code (letters then digits: TM351).")
    return module


def _site(args: argparse.Namespace):
    """The eTMA address and the cookies for it, checked."""
    from .cookies_txt import CookiesFileError, load_cookies_txt

    try:
        etma_url = check_etma_url(args.etma_url)
    except ProtocolError as err:
        raise UsageError(err.message) from None
    try:
        cookies = load_cookies_txt(Path(args.cookies), etma_url)
    except (OSError, CookiesFileError) as err:
        raise UsageError(f"Cannot read the cookies file {args.cookies}: {err}") from None
    if not cookies:
        raise UsageError(
            f"{args.cookies} holds no cookies for {etma_url}: log in to eTMA in your browser, "
            "export its cookies (cookies.txt) and try again."
        )
    return etma_url, cookies


def _assignment(raw: str | None) -> str:
    try:
        return normalise_assignment(raw or "")
    except ValueError:
        raise UsageError(f"{raw!r} is not an assignment (such as TMA02).") from None


def _build_job(args: argparse.Namespace) -> Job:
    module = _module(args.module)
    assignment = _assignment(args.assignment)
    etma_url, cookies = _site(args)
    return Job(
        action=args.command,
        etma_url=etma_url,
        module=module,
        assignment=assignment,
        pis=tuple(_read_pis(args)),
        cookies=cookies,
        force=getattr(args, "force", False),
    )


class ProgressBar:
    """A tqdm bar on stderr, advanced as each student reaches a final state."""

    def __init__(self, total: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="student", file=sys.stderr, dynamic_ncols=True)

    def __call__(self, record) -> None:
        if record.state == "working":
            return
        self.bar.update(1)
        self.bar.set_postfix_str(f"{record.pi} {record.state}", refresh=False)

    def close(self) -> None:
        self.bar.close()


HOW_WORDS = {
    "fetched": "fetched from eTMA",
    "already_downloaded": "already there from an earlier run",
    "copied": "copied from an earlier download in another folder (checked)",
    "fetched_again": "fetched again (an earlier download elsewhere was missing or changed)",
}
#: How the summary names each final state.
STATE_WORDS = {
    "done": "done",
    "not_submitted": "nothing submitted",
    "failed": "failed",
    "needs_login": "not fetched (eTMA session ended)",
    "cancelled": "cancelled",
}
#: Students failing for the same reason are listed one per line up to this many; more share a
#: line (a full disk fails everyone left with one reason).
MAX_LISTED_PER_REASON = 3


def _students(count: int) -> str:
    return f"{count} student{'' if count == 1 else 's'}"


def _print_summary(summary, records) -> None:
    """What happened, for a person: the counts, the students a tutor must know about (codes
    found, nothing submitted, failures), where files and the codes table are, and what next."""
    print(f"\n{summary.action}: {summary.module} {summary.assignment}".rstrip() + ",", end="")
    print(f" {summary.seconds:.1f} s")
    for state, count in summary.counts.items():
        if count:
            print(f"  {STATE_WORDS.get(state, state):<34}{count:>6}")
    skipped = summary.how.get("already_downloaded", 0) + summary.how.get("copied", 0)
    if skipped:
        print(
            f"\nSkipped {_students(skipped)} already downloaded by an earlier run "
            "(--force fetches them again)."
        )
    if summary.action == "codes":
        _print_codes(records)
    _print_not_submitted(records)
    _print_failed(records)
    if summary.action == "download":
        print(f"\nFiles:  {summary.folder}")
        for how, words in HOW_WORDS.items():
            if summary.how.get(how):
                print(f"  {summary.how[how]:>6} {words}")
        for folder in summary.copied_from:
            print(f"         copied from {folder}")
    if summary.codes_csv:
        print(f"Codes:  {summary.codes_csv} (and .xlsx)")
    if summary.stopped_because:
        print(f"\nStopped: {summary.stopped_because}")
    if summary.outcome == "needs_login":
        waiting = summary.counts.get("needs_login", 0)
        print(
            f"\nThe eTMA session ended before {_students(waiting)} could be fetched: log in to "
            "eTMA again, export fresh cookies and run the same command; finished students are "
            "skipped."
        )


def _name_width(records) -> int:
    return min(max((len(r.name) for r in records), default=0), 40)


def _print_codes(records) -> None:
    """The codes found, in the job's (OSCAR's) order, to type or check by eye."""
    found = [r for r in records if r.state == "done" and r.code]
    if not found:
        return
    width = max(_name_width(found), len("Name"))
    print(f"\nCodes found ({len(found)}):")
    print(f"  {'PI':<10} {'Name':<{width}}  Code")
    for record in found:
        print(f"  {record.pi:<10} {record.name[:40]:<{width}}  {record.code}")


def _print_not_submitted(records) -> None:
    nothing = [r for r in records if r.state == "not_submitted"]
    if not nothing:
        return
    width = _name_width(nothing)
    print(f"\nNothing submitted on eTMA ({len(nothing)}):")
    for record in nothing:
        late = "  (eTMA marks it late)" if record.late else ""
        print(f"  {record.pi:<10} {record.name[:40]:<{width}}{late}".rstrip())


def _print_failed(records) -> None:
    """Failed students with their reasons; many sharing one reason share a line. Students not
    fetched because the session ended or the job was cancelled are counted, not listed."""
    failed = [r for r in records if r.state == "failed"]
    if not failed:
        return
    by_reason: dict[str, list] = {}
    for record in failed:
        by_reason.setdefault(record.reason, []).append(record)
    print("\nStudents not done:")
    print(f"  {'PI':<10} {'status':<8} reason")
    for reason, group in by_reason.items():
        if len(group) <= MAX_LISTED_PER_REASON:
            for record in group:
                print(f"  {record.pi:<10} {'failed':<8} {reason}")
            continue
        print(f"  {_students(len(group))} failed: {reason}")
        pis = [record.pi for record in group]
        for start in range(0, len(pis), 8):
            print("    " + " ".join(pis[start : start + 8]))


def _fetch(args: argparse.Namespace) -> int:
    # Scripts, codes, the ledger and the log are students' personal data: private to the user.
    umask = os.umask(0o077)
    try:
        return _run_job(args)
    finally:
        os.umask(umask)


def _run_job(args: argparse.Namespace) -> int:
    from .batch import BatchRunner
    from .site_profile import ProfileError

    job = _build_job(args)
    settings = Settings.load()
    if args.out:
        settings = replace(settings, download_root=Path(args.out).expanduser())
    if args.concurrency:
        settings = replace(settings, concurrency=args.concurrency)
    if args.profile:
        settings = replace(settings, profile=Path(args.profile))
    records = []
    bar = ProgressBar(len(job.pis))

    def emit(record) -> None:
        bar(record)
        if record.state != "working":
            records.append(record)

    try:
        runner = BatchRunner(job, settings, emit=emit)
    except ProtocolError as err:
        bar.close()
        raise UsageError(err.message) from None
    except ProfileError as err:
        bar.close()
        raise UsageError(str(err)) from None
    try:
        summary = runner.run()
    except ProtocolError as err:
        bar.close()
        if err.code != ErrorCode.WRONG_ETMA_ADDRESS:
            raise UsageError(err.message) from None
        print(
            f"etma-helper: Check the eTMA address (--etma-url): {err.params['etma_url']} "
            f"{err.params['problem']}. Nothing was fetched ({_students(len(job.pis))} left "
            "as they were).",
            file=sys.stderr,
        )
        return EXIT_WRONG_ADDRESS
    except KeyboardInterrupt:
        runner.cancel()
        bar.close()
        print("\nInterrupted: nothing half-downloaded was kept; run again to finish.")
        return EXIT_INTERRUPTED
    bar.close()
    place = {pi: index for index, pi in enumerate(job.pis)}
    records.sort(key=lambda record: place[record.pi])  # OSCAR's order, not the finishing order
    _print_summary(summary, records)
    if summary.outcome == "disk_full":
        return EXIT_DISK_FULL
    if summary.outcome == "needs_login":
        return EXIT_NEEDS_LOGIN
    finished = summary.counts.get("done", 0) + summary.counts.get("not_submitted", 0)
    return EXIT_OK if finished == len(job.pis) else EXIT_FAILED


def _profile_check(args: argparse.Namespace) -> int:
    from .profile_check import check_profile, format_report
    from .site_profile import ProfileError, SiteProfile

    module = _module(args.module)
    try:
        pi = normalise_pi(args.pi)
    except ValueError:
        raise UsageError(f"{args.pi!r} is not a student PI (a letter and seven digits).") from None
    etma_url, cookies = _site(args)
    try:
        profile = SiteProfile.load(Path(args.profile) if args.profile else Settings.load().profile)
    except ProfileError as err:
        raise UsageError(str(err)) from None
    results = check_profile(etma_url, cookies, profile, module, pi)
    print(format_report(results))
    return EXIT_OK if all(r.found or r.optional for r in results) else EXIT_FAILED


def _doctor(args: argparse.Namespace) -> int:
    from . import doctor

    return doctor.main(args.prefix)


def _config(args: argparse.Namespace) -> int:
    settings = Settings.load()
    if args.download_root or args.concurrency:
        settings = replace(
            settings,
            download_root=args.download_root or settings.download_root,
            concurrency=args.concurrency or settings.concurrency,
        )
        print(f"saved {settings.save()}")
    print(f"settings file: {config_path()}")
    print(f"download root: {settings.download_root}")
    print(f"concurrency:   {settings.concurrency}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="etma-helper",
        description="Fetch students' scripts and confirmation codes from eTMA.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"etma-helper {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    out_help = {
        "download": "download root: scripts go to DIR/<module>/<assignment>/<PI>/, beside the "
        "codes table (default: the helper's settings)",
        "codes": "where the codes table goes: DIR/<module>/<assignment>/confirmation_codes.csv "
        "and .xlsx (default: the helper's download root)",
    }
    for name, summary in (
        ("download", "download and unpack students' scripts (and their codes)"),
        ("codes", "collect students' confirmation codes only (nothing is downloaded)"),
    ):
        command = commands.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=EXIT_CODES_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_argument(
            "--etma-url",
            required=True,
            help="the eTMA page with the admin tab's module + PI search form",
        )
        command.add_argument("--module", required=True, help="module code, such as TM351")
        command.add_argument("--assignment", help="assignment, such as TMA02")
        command.add_argument("--pis", nargs="+", metavar="PI", help="student PIs")
        command.add_argument(
            "--pis-file",
            metavar="FILE",
            help="a file of PIs: a list, or text pasted from OSCAR's table",
        )
        command.add_argument(
            "--cookies",
            required=True,
            metavar="FILE",
            help="cookies.txt (Netscape format) exported from your browser",
        )
        command.add_argument("--out", metavar="DIR", help=out_help[name])
        command.add_argument(
            "--concurrency",
            type=int,
            choices=range(1, 17),
            metavar="1-16",
            help="students fetched at once (default: settings, 4)",
        )
        if name == "download":
            command.add_argument(
                "--force", action="store_true", help="fetch again students already downloaded"
            )
        command.add_argument(
            "--profile",
            metavar="FILE",
            help="site profile (JSON) for your eTMA (default: settings, then built-in)",
        )
        command.set_defaults(run=_fetch)
    profile = commands.add_parser("profile", help="check a site profile against the live site")
    profile_commands = profile.add_subparsers(dest="profile_command", required=True)
    check = profile_commands.add_parser(
        "check",
        help="load eTMA with your cookies and report what the profile finds, field by field",
        description="Reads the search page and one student's page (downloads nothing) and "
        "reports what the site profile found and what it missed.",
    )
    check.add_argument("--etma-url", required=True)
    check.add_argument("--module", required=True)
    check.add_argument("--pi", required=True, help="one student PI to look up")
    check.add_argument("--cookies", required=True, metavar="FILE")
    check.add_argument("--profile", metavar="FILE", help="default: settings, then built-in")
    check.set_defaults(run=_profile_check)
    doctor = commands.add_parser(
        "doctor", help="check each browser's registration, the launcher and a real hello"
    )
    doctor.add_argument(
        "--prefix", type=Path, default=None, help="install folder (default: this helper's)"
    )
    doctor.set_defaults(run=_doctor)
    config = commands.add_parser("config", help="show or change where files go")
    config.add_argument("--download-root", type=Path)
    config.add_argument("--concurrency", type=int, choices=range(1, 17), metavar="1-16")
    config.set_defaults(run=_config)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except UsageError as err:
        print(f"etma-helper: {err}", file=sys.stderr)
        return EXIT_USAGE
