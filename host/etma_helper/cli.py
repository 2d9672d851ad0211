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

THIRD_MARKING_EXIT_CODES = """\
exit codes:
  0  written
  2  bad usage or bad input (every problem is listed with its row; nothing was written)"""

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


def _rule(args: argparse.Namespace):
    """The third-marking rule from --threshold, --boundaries and --bands."""
    from .marks_file import parse_number
    from .third_marking import DEFAULT_BAND_NAMES, Bands, Rule, RuleError

    def number(raw: str, what: str):
        try:
            return parse_number(raw)
        except ValueError:
            raise UsageError(f"{what} {raw!r} is not a number.") from None

    threshold = number(args.threshold, "--threshold")
    boundaries = tuple(
        number(part, "--boundaries: the boundary") for part in args.boundaries.split(",")
    )
    if args.bands:
        names = tuple(name.strip() for name in args.bands.split(","))
    elif len(boundaries) == len(DEFAULT_BAND_NAMES) - 1:
        names = DEFAULT_BAND_NAMES
    else:
        raise UsageError(
            f"{len(boundaries)} boundaries need their band names: --bands with "
            f"{len(boundaries) + 1} names, highest first."
        )
    try:
        return Rule(threshold=threshold, bands=Bands(boundaries, names))
    except RuleError as err:
        raise UsageError(str(err)) from None


def _read_marks(raw: str):
    from .marks_file import MarksFileError, read_marks

    try:
        return read_marks(Path(raw).expanduser())
    except MarksFileError as err:
        raise UsageError(f"the marks in {raw} cannot be used:\n{err.describe()}") from None


def _output(raw: str, suffix: str, *inputs: str | None) -> Path:
    """Where a table goes: a ``suffix`` file, not one of the inputs, its folder made if need be."""
    out = Path(raw).expanduser()
    if out.suffix.lower() != suffix:
        raise UsageError(f"--out names a {suffix} file, not {raw!r}.")
    for given in inputs:
        if given and Path(given).expanduser().resolve() == out.resolve():
            raise UsageError(f"--out {raw} would write over an input; name another file.")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"Cannot make the folder {out.parent}: {err.strerror}.") from None
    return out


def _flags(args: argparse.Namespace) -> int:
    from .marks_file import write_csv
    from .third_marking import FLAG_COLUMNS, decide_all, flag_rows

    rule = _rule(args)
    decisions = decide_all(_read_marks(args.marks), rule)
    out = _output(args.out, ".csv", args.marks)
    try:
        write_csv(out, FLAG_COLUMNS, flag_rows(decisions))
    except OSError as err:
        raise UsageError(f"Cannot write {out}: {err.strerror}.") from None
    flagged = [d for d in decisions if d.third_marking]
    incomplete = [d for d in decisions if not d.complete]
    print(
        f"{_students(len(decisions))}: {len(flagged)} for third marking, "
        f"{len(incomplete)} with marks incomplete."
    )
    width = max((len(d.pi) for d in flagged + incomplete), default=0)
    for decision in flagged + incomplete:
        print(f"  {decision.pi:<{width}}  {decision.reason}")
    print(f"Flags: {out}")
    return EXIT_OK


def _worksheet(args: argparse.Namespace) -> int:
    from .marks_file import MarksFileError
    from .worksheet import read_codes, write_worksheet

    rule = _rule(args)
    students = _read_marks(args.marks)
    codes = {}
    if args.codes:
        try:
            codes = read_codes(Path(args.codes).expanduser())
        except MarksFileError as err:
            raise UsageError(
                f"the codes in {args.codes} cannot be used:\n{err.describe()}"
            ) from None
    out = _output(args.out, ".xlsx", args.marks, args.codes)
    try:
        written = write_worksheet(out, students, rule, codes=codes, include_all=args.all)
    except MarksFileError as err:
        raise UsageError(f"the earlier worksheet is kept as it is:\n{err.describe()}") from None
    except OSError as err:
        raise UsageError(f"Cannot write {out}: {err.strerror}.") from None
    which = "every student" if args.all else "the students for third marking"
    print(f"Worksheet: {_students(written.rows)} ({which}).")
    if written.kept:
        print(f"Kept what was typed for {_students(written.kept)} from the earlier worksheet.")
    print(f"  {written.xlsx}\n  {written.csv}")
    return EXIT_OK


def _worksheet_check(args: argparse.Namespace) -> int:
    from .marks_file import MarksFileError, shown_number
    from .worksheet import read_worksheet

    students = _read_marks(args.marks)
    try:
        found = read_worksheet(Path(args.worksheet).expanduser(), students)
    except MarksFileError as err:
        raise UsageError(f"the worksheet cannot be used:\n{err.describe()}") from None
    print(f"{_students(len(found))} with third marks, every mark within its maximum:")
    for third in found.values():
        marks = ", ".join(f"{q} {shown_number(m)}" for q, m in third.marks)
        comment = f"; comment of {len(third.comment)} characters" if third.comment else ""
        print(f"  row {third.row:<4} {third.pi}  {marks}{comment}")
    return EXIT_OK


def _add_rule_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--threshold",
        default="15",
        metavar="PERCENT",
        help="third marking when the totals differ by more than this (default 15)",
    )
    command.add_argument(
        "--boundaries",
        default="85,70,55,40",
        metavar="B1,B2,…",
        help="grade boundaries in percent, highest first (default 85,70,55,40); a total on a "
        "boundary is in the band above it",
    )
    command.add_argument(
        "--bands",
        metavar="NAME1,NAME2,…",
        help="band names, highest first, one more than the boundaries "
        "(default Pass 1,Pass 2,Pass 3,Pass 4,Fail)",
    )


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
    flags = commands.add_parser(
        "flags",
        help="who needs third marking, and why, from both markers' marks",
        description="Reads a marks table (CSV or .xlsx, one row per student per question: "
        "PI, question, max, weight (optional), first, second) and writes one row per student: "
        "both totals, the difference, both bands, whether third marking is needed and why. "
        "Bad input is reported row by row and nothing is written.",
        epilog=THIRD_MARKING_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    flags.add_argument("--marks", required=True, metavar="FILE", help="marks.csv or marks.xlsx")
    flags.add_argument("--out", required=True, metavar="FILE", help="flags.csv to write")
    _add_rule_options(flags)
    flags.set_defaults(run=_flags)
    worksheet = commands.add_parser(
        "worksheet",
        help="write the third-marking worksheet (.xlsx and .csv) to fill in",
        description="Writes one row per student for third marking (every student with --all): "
        "PI, name, confirmation code, both markers' marks, totals, difference and reason, and "
        "empty third-mark and comment columns to fill in. Written again over an earlier "
        "worksheet, it keeps the third marks and comments typed there.",
        epilog=THIRD_MARKING_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    worksheet.add_argument("--marks", required=True, metavar="FILE", help="marks.csv or .xlsx")
    worksheet.add_argument(
        "--out", required=True, metavar="FILE", help="DIR/third_marking.xlsx (a .csv goes beside)"
    )
    worksheet.add_argument(
        "--codes",
        metavar="FILE",
        help="a codes table (confirmation_codes.csv or .xlsx) for names and confirmation codes",
    )
    worksheet.add_argument("--all", action="store_true", help="every student, not only flagged")
    _add_rule_options(worksheet)
    worksheet.set_defaults(run=_worksheet)
    check_sheet = commands.add_parser(
        "worksheet-check",
        help="check a filled worksheet against the marks and list its third marks",
        description="Reads a filled third-marking worksheet (.xlsx or .csv) and reports every "
        "problem by row (a PI not in the marks, a mark that is no number or is over its "
        "maximum, a formula, a comment over OSCAR's length), or lists the third marks.",
        epilog=THIRD_MARKING_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check_sheet.add_argument("--worksheet", required=True, metavar="FILE")
    check_sheet.add_argument("--marks", required=True, metavar="FILE", help="marks.csv or .xlsx")
    check_sheet.set_defaults(run=_worksheet_check)
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
