"""Page benchmark: the extension on a 2,000-row OSCAR allocation, in real headless Chromium.

Run from the repository root (not collected by pytest)::

    python tests/bench/injection.py

It opens the practice OSCAR page with 2,000 students, with the extension loaded and the helper
installed and registered as a user would, and reads the content script's own Performance API
measures:

* ``etma-helper:inject`` — adding the toolbar, a checkbox and a status cell to every row (median of
  ``--loads`` page loads);
* ``etma-helper:render`` — every batched paint of row updates; summed over a real codes job for
  500 students (1,000 progress events from the real helper), it is the main-thread time spent
  applying progress.

The last line printed is machine-readable::

    bench: inject_2000_rows_ms=X progress_500_updates_ms=Y
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run as a script: make ``tests`` importable
    sys.path.insert(0, str(REPO))

from tests.browsers import start_signed_in  # noqa: E402
from tests.browsers.helper_install import install_helper  # noqa: E402
from tests.sites import Cohort, PracticeSites  # noqa: E402

READ_MEASURES = "(name) => performance.getEntriesByName(name).map((entry) => entry.duration)"


def inject_times(browser, sites, loads: int) -> list[float]:
    """The injection measure of ``loads`` fresh loads of the allocation page."""
    times = []
    for _ in range(loads):
        browser.open_allocation(sites)
        measures = browser.wait(
            lambda: browser.run(READ_MEASURES, "etma-helper:inject"), "the inject measure", 30
        )
        times.append(measures[0])
    return times


def progress_time(browser, sites, cohort, students: int) -> tuple[list[float], float]:
    """Each paint's main-thread ms during a real codes job, and the job's seconds."""
    browser.open_allocation(sites)
    browser.tick(cohort.students[0].pi)
    browser.tick(cohort.students[students - 1].pi, shift=True)
    count = browser.toolbar_text("count")
    if not count.startswith(str(students)):
        raise RuntimeError(f"expected {students} selected, the toolbar says {count!r}")
    browser.run("() => performance.clearMeasures('etma-helper:render')")
    started = time.monotonic()
    browser.press("codes")
    browser.wait_for_message(f"{students} done", timeout=600)
    seconds = time.monotonic() - started
    return browser.run(READ_MEASURES, "etma-helper:render"), seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--progress-students", type=int, default=500)
    parser.add_argument("--loads", type=int, default=5, help="page loads for the median")
    args = parser.parse_args(argv)

    cohort = Cohort(size=args.rows, seed=351, module="TM351", assignment="TMA02")
    with PracticeSites(cohort) as sites, tempfile.TemporaryDirectory() as tmp:
        install = install_helper(Path(tmp) / "home", browsers=("chromium",))
        browser = start_signed_in("chromium", install, sites)
        try:
            injects = inject_times(browser, sites, args.loads)
            paints, job_seconds = progress_time(browser, sites, cohort, args.progress_students)
        finally:
            browser.quit()

    inject_ms = statistics.median(injects)
    render_ms = sum(paints)
    print(f"Extension on the OSCAR page, headless Chromium, {args.rows} rows")
    print(f"{'measure':<52}{'ms':>10}")
    print(f"{'inject controls into every row (median)':<52}{inject_ms:>10.1f}")
    print(f"  each load: {', '.join(f'{t:.1f}' for t in injects)}")
    label = f"apply {args.progress_students} students' progress (sum of paints)"
    print(f"{label:<52}{render_ms:>10.1f}")
    print(
        f"  {len(paints)} paints for {2 * args.progress_students} progress events, the longest "
        f"{max(paints):.1f} ms (a frame is 16.7 ms); the codes job took {job_seconds:.1f} s"
    )
    print("targets:")
    print(f"  inject < 100 ms: {'met' if inject_ms < 100 else 'MISSED'} ({inject_ms:.1f})")
    print(
        f"bench: inject_{args.rows}_rows_ms={inject_ms:.1f} "
        f"progress_{args.progress_students}_updates_ms={render_ms:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
