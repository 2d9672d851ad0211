"""The practice OSCAR site: login, work allocation, marks, and unlocking third marking.

Unlocking works as an old postback does: each row's "Unlock third marking" form posts one
student's code to ``/oscar/confirm``, and OSCAR answers with the whole work-allocation page again,
its answer in a line above the table ("Third marking unlocked for P…", or why not). So every
other code typed into the page and not yet sent is gone, as on the real system. A wrong code, an
empty one or a form sent from another site (an ``Origin`` that is not OSCAR's own) is refused with
OSCAR's words, on a normal 200 page.

``?form=page`` lays the page out as an ASP.NET page would: one form around the whole table, a
code field and a button per row, named by the student's PI; the button pressed says whose code
is meant, and the page comes back in the same layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from . import marks as marks_pages
from .base import PageHandler, esc, login_form_html, safe_next
from .cohort import Student
from .sessions import SessionStore
from .signon import serve_signon_return

LOGIN_PATH = "/oscar/login"
HOME_PATH = "/oscar/"


def assignment_label(assignment: str) -> str:
    """How OSCAR writes an assignment: ``TMA02`` -> ``TMA 02``."""
    letters = assignment.rstrip("0123456789")
    return f"{letters} {assignment[len(letters) :]}" if letters != assignment else assignment


# How long after the page has loaded a ``?late=1`` work-allocation page shows its table: well after
# the extension's content script has run (at document_idle), as on a page that renders from script.
LATE_TABLE_DELAY_MS = 2000


def late_table(table_html: str) -> str:
    """The table kept in a <template> (not part of the document) and put into the page by the
    page's own script ``LATE_TABLE_DELAY_MS`` after load. The page records when, in
    ``window.lateTableShownAt`` (on the performance timeline's clock)."""
    return (
        f'<div id="late-table"><template>{table_html}</template><p>Loading students…</p></div>'
        "<script>"
        "addEventListener('load', () => setTimeout(() => {"
        "  const box = document.getElementById('late-table');"
        "  box.replaceChildren(box.querySelector('template').content.cloneNode(true));"
        "  window.lateTableShownAt = performance.now();"
        f"}}, {LATE_TABLE_DELAY_MS}));"
        "</script>"
    )


@dataclass(frozen=True)
class UnlockRequest:
    """One "Unlock third marking" request as OSCAR received it."""

    pi: str
    code: str
    #: the request's Origin header ("" when it had none, as from a script outside a browser)
    origin: str
    unlocked: bool


class OscarHandler(PageHandler):
    """Request handler for OSCAR (Online Score Capture for Assessment Records)."""

    site_name = "OSCAR - Online Score Capture for Assessment Records"
    session_cookie = "OSCAR_SESSION"
    service = "oscar"
    home_path = HOME_PATH

    @property
    def sessions(self) -> SessionStore:
        return self.sites.oscar_sessions

    def route(self, method: str, path: str) -> None:
        if serve_signon_return(self, method, path):
            return
        if path == LOGIN_PATH:
            self.login_post() if method == "POST" else self.login_get()
            return
        if not self.sites.oscar_sessions.use(self.cookie(self.session_cookie)):
            self.redirect_to_login(LOGIN_PATH)
            return
        if path in ("/", "/oscar"):
            self.redirect(HOME_PATH)
        elif path == HOME_PATH:
            self.home()
        elif path == "/oscar/workAllocation":
            self.work_allocation()
        elif path == "/oscar/marks":
            self.marks()
        elif path == marks_pages.ASSIGNMENT_MARKS_PATH:
            marks_pages.assignment_marks_page(self)
        elif path == marks_pages.THIRD_MARKS_PATH:
            marks_pages.third_marks_page(self, method)
        elif path == "/oscar/confirm" and method == "POST":
            self.confirm()
        else:
            self.not_found()

    def login_get(self, error: str | None = None) -> None:
        next_path = safe_next(self.query.get("next") or self.form.get("next"), HOME_PATH)
        self.send_page("Sign in", login_form_html(LOGIN_PATH, next_path, error, "Sign in to OSCAR"))

    def login_post(self) -> None:
        if (self.form.get("username"), self.form.get("password")) != self.sites.OSCAR_LOGIN:
            self.login_get("Your username or password was not recognised.")
            return
        token = self.sites.oscar_sessions.create()
        self.redirect(
            safe_next(self.form.get("next"), HOME_PATH), (self.session_cookie_header(token),)
        )

    def home(self) -> None:
        cohort = self.sites.cohort
        link = self.sites.allocation_path
        label = f"{cohort.module} {assignment_label(cohort.assignment)}"
        self.send_page(
            "Home",
            (
                "<h2>Welcome to OSCAR</h2><p>Your work allocations:</p>"
                f'<ul><li><a href="{esc(link)}">Work allocation: {esc(label)}</a></li>'
                f'<li><a href="{esc(marks_pages.marks_path(cohort))}">Marks: {esc(label)}</a>'
                "</li></ul>"
            ),
        )

    def work_allocation(self) -> None:
        module = self.query.get("module", "").strip().upper()
        assignment = self.query.get("assignment", "").strip().upper().replace(" ", "")
        self._allocation_page(module, assignment, page_form=self.query.get("form") == "page")

    def _allocation_page(
        self, module: str, assignment: str, answer: str = "", *, page_form: bool = False
    ) -> None:
        """The work-allocation page for ``module`` and ``assignment``; ``answer`` (HTML) is
        OSCAR's answer to the form just sent, shown above the table. ``page_form``: one form
        around the whole table (see the module's docstring), else one form per row."""
        cohort = self.sites.cohort
        if module != cohort.module or assignment != cohort.assignment:
            shown = module or "(none)"
            self.send_page(
                "Work allocation",
                f"<h2>Work allocation</h2><p>No allocation found for module {esc(shown)}</p>",
            )
            return
        rows = "".join(
            self._allocation_row(student, index, page_form)
            for index, student in enumerate(cohort.students)
        )
        title = f"Module {cohort.module} – Assignment {assignment_label(cohort.assignment)}"
        table = (
            '<table border="1" cellpadding="3" cellspacing="0" class="allocation">'
            '<tr bgcolor="#cccccc"><th>Student name</th><th>PI</th><th>Assignment</th>'
            "<th>Marks</th><th>Third-mark confirmation code</th></tr>"
            f"{rows}</table>"
        )
        if page_form:
            hidden = "".join(
                f'<input type="hidden" name="{key}" value="{esc(value)}">'
                for key, value in (
                    ("module", module),
                    ("assignment", assignment),
                    ("layout", "page"),
                )
            )
            form = '<form method="post" action="/oscar/confirm" name="aspnetForm">'
            table = f"{form}{hidden}{table}</form>"
        if self.query.get("late"):
            table = late_table(table)
        self.send_page(
            "Work allocation",
            (
                f"<h2>Work allocation</h2><h3>{esc(title)}</h3>{answer}"
                f"<p>{len(cohort.students)} students allocated.</p>{table}"
            ),
        )

    def _allocation_row(self, student: Student, index: int, page_form: bool = False) -> str:
        cohort = self.sites.cohort
        ids = {"module": cohort.module, "assignment": cohort.assignment, "pi": student.pi}
        marks_link = f"/oscar/marks?{urlencode(ids)}"
        if student.pi in self.sites.unlocked:
            unlock = "<i>Third marking unlocked</i>"
        elif page_form:
            field_id = f"code_{student.pi}"
            unlock = (
                f'<input type="text" name="code_{esc(student.pi)}" id="{field_id}" size="10" '
                'title="Confirmation code"> '
                f'<input type="submit" name="unlock_{esc(student.pi)}" '
                'value="Unlock third marking">'
            )
        else:
            field_id = f"code_{student.pi}"
            hidden = "".join(
                f'<input type="hidden" name="{key}" value="{esc(value)}">'
                for key, value in ids.items()
            )
            unlock = (
                '<form method="post" action="/oscar/confirm">'
                f'{hidden}<label for="{field_id}"><font size="-1">Confirmation code</font></label> '
                f'<input type="text" name="confirmation_code" id="{field_id}" size="10" '
                'title="Confirmation code"> '
                '<input type="submit" value="Unlock third marking"></form>'
            )
        shade = ' bgcolor="#eeeeee"' if index % 2 else ""
        return (
            f"<tr{shade}><td>{esc(student.name)}</td><td>{esc(student.pi)}</td>"
            f"<td>{esc(assignment_label(cohort.assignment))}</td>"
            f'<td><a href="{esc(marks_link)}">First and second marks</a></td>'
            f"<td>{unlock}</td></tr>"
        )

    def _student_or_error(self, values: dict[str, str]) -> Student | None:
        cohort = self.sites.cohort
        pi = values.get("pi", "").strip().upper()
        module = values.get("module", "").strip().upper()
        try:
            if module != cohort.module:
                raise KeyError(module)
            return cohort.student(pi)
        except KeyError:
            self.send_page(
                "Error",
                f"<h2>Error</h2><p>No student {esc(pi or '(none)')} "
                f"in the allocation for module {esc(module or '(none)')}</p>",
            )
            return None

    def marks(self) -> None:
        student = self._student_or_error(self.query)
        if student is not None:
            marks_pages.student_marks_page(self, student)

    def confirm(self) -> None:
        """One student's "Unlock third marking": OSCAR checks the code and answers with the
        work-allocation page again, its answer above the table."""
        module = self.form.get("module", "").strip().upper()
        assignment = self.form.get("assignment", "").strip().upper().replace(" ", "")
        origin = self.headers.get("Origin", "")
        if origin and origin != f"http://{self.headers.get('Host', '')}":
            # A form sent from another site's page: refused, as a CSRF check would.
            self.send_page(
                "Confirmation",
                "<h2>Confirmation</h2><p><b>This form was not sent from OSCAR's own page.</b></p>",
                status=403,
            )
            return
        page_form = self.form.get("layout") == "page"
        values = self.form
        if page_form:
            # The page-wide form: the button pressed names the student, and their field the code.
            pressed = [name[len("unlock_") :] for name in self.form if name.startswith("unlock_")]
            pi = pressed[0] if len(pressed) == 1 else ""
            values = {**self.form, "pi": pi, "confirmation_code": self.form.get(f"code_{pi}", "")}
        student = self._student_or_error(values)
        if student is None:
            return
        typed = values.get("confirmation_code", "").strip().upper()
        unlocked = False
        if student.pi in self.sites.unlocked:
            answer = refusal(f"Third marking is already unlocked for {student.pi}.", kind="note")
        elif not typed:
            answer = refusal(f"Enter the confirmation code for {student.pi}.")
        elif typed != self.sites.oscar_code(student.pi).upper():
            answer = refusal(f"The confirmation code is not correct for {student.pi}.")
        else:
            self.sites.mark_unlocked(student.pi)
            unlocked = True
            answer = (
                f"<p><b>Third marking unlocked for {esc(student.pi)}</b> ({esc(student.name)}).</p>"
            )
        self.sites.record_unlock_request(UnlockRequest(student.pi, typed, origin, unlocked))
        self._allocation_page(module, assignment, answer, page_form=page_form)


def refusal(text: str, kind: str = "error") -> str:
    """OSCAR's answer line for a code it did not take: red for an error, plain for a note."""
    if kind == "note":
        return f"<p><b>{esc(text)}</b></p>"
    return f'<p><font color="#cc0000"><b>{esc(text)}</b></font></p>'
