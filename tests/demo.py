"""The demo: practice sites, the installed helper and Chromium with the extension.

With a screen, Chromium opens on the practice OSCAR page for you to try; without one, the demo
drives the same real browser headless through the whole flow and prints what it fetched.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import time

from selenium.common.exceptions import WebDriverException

from tests import practice_extension
from tests.browsers import signed_in
from tests.browsers.chromium import ChromiumSession
from tests.browsers.helper_install import REPO, HelperInstall, install_helper
from tests.sites import DEMO_ETMA_PORT, DEMO_OSCAR_PORT, Cohort, PracticeSites

OUTPUT = REPO / "demo-output"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=50.0,
        help="delay the practice sites add to every request",
    )
    screen = parser.add_mutually_exclusive_group()
    screen.add_argument("--headless", action="store_true", help="even if there is a screen")
    screen.add_argument("--headed", action="store_true", help="even if DISPLAY is not set")
    return parser.parse_args(argv)


def start_sites(students: int, latency: float) -> PracticeSites:
    cohort = Cohort(size=students, seed=351, module="TM351", assignment="TMA02")
    try:
        sites = PracticeSites(cohort, oscar_port=DEMO_OSCAR_PORT, etma_port=DEMO_ETMA_PORT)
        sites.start()
    except OSError:  # demo ports busy: any free ones will do
        sites = PracticeSites(cohort).start()
    sites.latency = latency
    return sites


def run_headless(browser: ChromiumSession, sites: PracticeSites, install: HelperInstall) -> int:
    print("No screen: the demo clicks through the flow in headless Chromium.\n")
    browser.open_allocation(sites)
    started = time.monotonic()
    browser.press("select-all")
    browser.press("download")
    summary = browser.wait_for_message("codes in", timeout=600)
    seconds = time.monotonic() - started
    states = browser.wait_for_finished_rows(len(browser.row_states()), timeout=60)
    print(f"The page says, after {seconds:.1f} s: {summary}\n")
    folder = install.download_root / "TM351" / "TMA02"
    for pi, state in sorted(states.items()):
        student_dir = folder / pi
        files = (
            sorted(
                p.relative_to(student_dir).as_posix() for p in student_dir.rglob("*") if p.is_file()
            )
            if student_dir.is_dir()
            else []
        )
        print(f"  {pi}  {state:<7} {len(files)} files  {', '.join(files)[:70]}")
    codes = folder / "confirmation_codes.csv"
    print(f"\nConfirmation codes ({codes}):")
    with open(codes, newline="", encoding="utf-8") as table:
        for row in csv.DictReader(table):
            print(f"  {row['PI']}  {row['Code']:<10} {row['Status']}")
    print(f"\nFiles are in {folder}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    headed = args.headed or (bool(os.environ.get("DISPLAY")) and not args.headless)
    shutil.rmtree(OUTPUT, ignore_errors=True)
    sites = start_sites(args.students, args.latency_ms / 1000)
    print(f"OSCAR (practice): {sites.oscar_url}   login {' / '.join(sites.OSCAR_LOGIN)}")
    print(f"eTMA  (practice): {sites.etma_url}   login {' / '.join(sites.ETMA_LOGIN)}")
    install = install_helper(OUTPUT / "home", browsers=("chromium",))
    print(f"Helper installed in {install.prefix}; files will go to {install.download_root}")
    # The practice build: extension/ plus the practice sites (tests/practice_extension.py).
    extension = practice_extension.build(OUTPUT / "extension")
    print(f"Extension (practice build) in {extension}")
    browser = signed_in(
        ChromiumSession.start(install, headless=not headed, extension=extension, test_flags=False),
        sites,
    )
    try:
        if not headed:
            return run_headless(browser, sites, install)
        browser.open_allocation(sites)
        print(
            "\nChromium is open on the OSCAR work-allocation page: tick students (or Select all)"
            " and press Download scripts. Close the browser or press Ctrl-C to stop."
        )
        while browser.driver.window_handles:  # until the person closes the browser
            time.sleep(1)
    except (KeyboardInterrupt, WebDriverException):  # Ctrl-C, or the user closed the browser
        pass
    finally:
        try:
            browser.quit()
        finally:
            sites.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
