"""``profile check``: try a site profile against the live eTMA and say what it found and missed.

It walks the same path as a real fetch (search page, search form, one student's page) with the
user's own cookies, but stops short of downloading, and reports each step with a hint for the
profile key to change when something is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from .etma_session import EtmaSession, SearchFormMissing, SessionExpired, StudentFailed
from .records import Cookie
from .site_profile import SiteProfile

LOG_IN_AGAIN = (
    "log in to eTMA in the browser again, export its cookies (cookies.txt) and re-run the check"
)


@dataclass(frozen=True)
class CheckResult:
    """One item the check looked for: did the profile find it, what it found, what to do."""

    item: str
    found: bool
    detail: str = ""
    hint: str = ""
    #: something a page may well not show (the student's name, a submission date): missing it
    #: is noted, not a failure of the profile
    optional: bool = False


def check_profile(
    etma_url: str,
    cookies: tuple[Cookie, ...],
    profile: SiteProfile | None,
    module: str,
    pi: str,
) -> list[CheckResult]:
    """Load the live pages with the user's cookies and report field by field."""
    profile = profile if profile is not None else SiteProfile.builtin()
    with EtmaSession(etma_url, cookies, profile=profile, retries=1) as session:
        return _check(session, module, pi)


def _check(session: EtmaSession, module: str, pi: str) -> list[CheckResult]:
    results = [CheckResult("profile", True, f"{session.profile.name} ({session.profile.source})")]
    try:
        search = session.search_form()
    except SessionExpired as err:
        return [*results, CheckResult("eTMA page reached", False, str(err), LOG_IN_AGAIN)]
    except SearchFormMissing as err:
        return [
            *results,
            CheckResult("eTMA page reached", True, err.page_url),
            CheckResult(
                "search form found",
                False,
                "; ".join(err.forms) or "the page has no forms",
                "name the fields in search_form.module_field and search_form.pi_field, "
                "or set search_page.path to the page that holds the form",
            ),
        ]
    except StudentFailed as err:
        return [*results, CheckResult("eTMA page reached", False, str(err), "check --etma-url")]
    results += [
        CheckResult("eTMA page reached", True, search.page_url),
        CheckResult(
            "search form found",
            True,
            f"module field {search.module_field!r}, PI field {search.pi_field!r}, "
            f"{search.form.method.upper()} to {search.form.action}",
        ),
    ]
    try:
        page = session.student_page(module, pi)
    except SessionExpired as err:
        return [*results, CheckResult("student page reached", False, str(err), LOG_IN_AGAIN)]
    except StudentFailed as err:
        return [*results, CheckResult("student page reached", False, str(err))]
    if page.code is None and page.download is None and not page.nothing_submitted:
        why = "; ".join(page.notes)
        hint = f"check the module and PI; if the student exists, the profile missed it: {why}"
        return [
            *results,
            CheckResult("student page reached", False, f"eTMA says: {page.problem}", hint),
        ]
    results.append(CheckResult("student page reached", True, f"{module} {pi}"))
    code_note = next((n for n in page.notes if "code" in n), "")
    results.append(
        CheckResult(
            "confirmation code found",
            page.code is not None,
            page.code or code_note,
            "" if page.code else "adjust student_page.code_label or student_page.code_token",
        )
    )
    results += _optional_facts(page)
    if page.download is not None:
        choice = "; ".join(page.download.choices) or "no drop-down"
        detail = f"{page.download.method.upper()} to {page.download.action}, {choice}"
        results.append(CheckResult("download form found", True, detail))
    elif page.nothing_submitted:
        results.append(
            CheckResult(
                "download form found",
                False,
                "eTMA says no files have been submitted",
                "check again with a student who has submitted",
            )
        )
    else:
        results.append(
            CheckResult(
                "download form found",
                False,
                "no form with a drop-down and a matching button",
                "adjust download_form.button_words or download_form.needs_select",
            )
        )
    return results


def _optional_facts(page) -> list[CheckResult]:
    """The student's name, submission date and late flag: found, or not shown (optional)."""
    late = {True: "late", False: "on time", None: None}[page.late]
    facts = (
        ("student name found", page.name, "student_page.name_label"),
        ("submission date found", page.submitted, "student_page.submitted_label"),
        ("late flag found", late, "student_page.late_label"),
    )
    return [
        CheckResult(item, True, value, optional=True)
        if value
        else CheckResult(
            item,
            False,
            "not shown on this student's page (optional)",
            f"if eTMA shows it, adjust {key}",
            optional=True,
        )
        for item, value, key in facts
    ]


def format_report(results: list[CheckResult]) -> str:
    """A plain-text table: one row per item, with the hint under any item that was missed."""
    width = max(len(r.item) for r in results)
    lines = []
    for result in results:
        mark = "ok     " if result.found else "-      " if result.optional else "MISSING"
        lines.append(f"{result.item.ljust(width)}  {mark}  {result.detail}")
        if result.hint:
            lines.append(f"{' ' * (width + 11)}→ {result.hint}")
    return "\n".join(lines)
