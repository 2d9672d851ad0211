"""The practice eTMA site: admin (EAB) search, student page with code, zip download, faults."""

from __future__ import annotations

import base64
import functools
import random
import select
import shutil
import socket
import struct
import time
from collections.abc import Iterator

from . import hostile
from .base import HTML_TYPE, PageHandler, esc, login_form_html, safe_next
from .cohort import Student
from .sessions import SessionStore
from .signon import serve_signon_return

LOGIN_PATH = "/etma/login"
ADMIN_PATH = "/etma/admin"
CHUNK = 64 * 1024
STALL_SECONDS = 30.0
# The form fields each markup uses: the variant renames every one, as another site would.
FIELDS = {
    "classic": {"module": "course_code", "pi": "student_pi", "token": "token", "type": "file_type"},
    "variant": {"module": "crs", "pi": "ident", "token": "dl_token", "type": "fmt"},
}


class EtmaHandler(PageHandler):
    """Request handler for the eTMA file handler."""

    site_name = "eTMA System - Electronic assignment file handler"
    session_cookie = "ETMA_SESSION"
    service = "etma"
    home_path = ADMIN_PATH

    @property
    def sessions(self) -> SessionStore:
        return self.sites.etma_sessions

    def count_hit(self, method: str, path: str) -> None:
        self.sites.count_etma_hit(method, path)

    def _dispatch(self, method: str) -> None:
        with self.sites.etma_request(self.client_address[1]):
            super()._dispatch(method)

    @property
    def variant(self) -> bool:
        """Serve the same facts in other markup (divs, new names, absolute actions, cp1252)."""
        return self.sites.etma_markup == "variant"

    def field(self, meaning: str) -> str:
        """The name this markup gives the form field for ``meaning``."""
        return FIELDS["variant" if self.variant else "classic"][meaning]

    def send_page(
        self,
        title: str,
        body_html: str,
        status: int = 200,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        """The variant is windows-1252, declared only by its meta tag, as old systems do."""
        if not self.variant:
            super().send_page(title, body_html, status, headers)
            return
        page = self.page_html(title, body_html).replace("charset=utf-8", "charset=windows-1252")
        body = page.encode("windows-1252", errors="xmlcharrefreplace")
        self.send_body(status, "text/html", body, headers)

    def route(self, method: str, path: str) -> None:
        if serve_signon_return(self, method, path):
            return
        if path == LOGIN_PATH:
            self.login_post() if method == "POST" else self.login_get()
            return
        limit = self.sites.faults.session_expires_after
        if not self.sites.etma_sessions.use(self.cookie(self.session_cookie), limit):
            self.redirect_to_login(LOGIN_PATH)
            return
        if path in ("/", "/etma", "/etma/"):
            self.redirect(ADMIN_PATH)
        elif path == ADMIN_PATH:
            self.admin()
        elif path in ("/etma/student", "/etma/download") and method != "POST":
            # These pages only answer their forms; a bookmark lands back on the search.
            self.redirect(ADMIN_PATH)
        elif path == "/etma/student":
            self.student_page()
        elif path == "/etma/download":
            self.download()
        else:
            self.not_found()

    def login_get(self, error: str | None = None) -> None:
        next_path = safe_next(self.query.get("next") or self.form.get("next"), ADMIN_PATH)
        self.send_page(
            "Sign in", login_form_html(LOGIN_PATH, next_path, error, "Sign in to the eTMA System")
        )

    def login_post(self) -> None:
        if (self.form.get("username"), self.form.get("password")) != self.sites.ETMA_LOGIN:
            self.login_get("Invalid username or password.")
            return
        token = self.sites.etma_sessions.create()
        self.redirect(
            safe_next(self.form.get("next"), ADMIN_PATH), (self.session_cookie_header(token),)
        )

    def _tabs(self, active: str) -> str:
        cells = []
        for name in ("Tutor", "EAB/admin"):
            colour = "#ffffcc" if name == active else "#dddddd"
            cells.append(f'<td bgcolor="{colour}"><b>{name}</b></td>')
        return f'<table cellpadding="4" cellspacing="2"><tr>{"".join(cells)}</tr></table>'

    def admin(self) -> None:
        if self.variant:
            self.send_page("EAB/admin", self._tabs("EAB/admin") + self._variant_admin())
            return
        viewstate = _viewstate_input(self.sites.etma_viewstate_bytes)
        self.send_page(
            "EAB/admin",
            self._tabs("EAB/admin")
            + (
                "<h2>EAB/admin: find a student's submission</h2>"
                '<form method="post" action="student" name="eabForm">'
                f"{viewstate}"
                '<input type="hidden" name="tab" value="eab">'
                '<table border="0" cellpadding="3">'
                '<tr><td><label for="course_code">Module code</label></td>'
                '<td><input type="text" name="course_code" id="course_code" size="8"></td></tr>'
                '<tr><td><label for="student_pi">Student PI</label></td>'
                '<td><input type="text" name="student_pi" id="student_pi" size="10"></td></tr>'
                '<tr><td></td><td><input type="submit" value="Search"></td></tr>'
                "</table></form>"
            ),
        )

    def _variant_admin(self) -> str:
        action = self.sites.etma_url.rstrip("/") + "/etma/student"
        return (
            "<DIV class='panel'><H2>Find a student\u2019s submission</H2>"
            f'<FORM ACTION="{action}" name="f0" METHOD="POST" id="x9">'
            f"{_viewstate_input(self.sites.etma_viewstate_bytes)}"
            '<INPUT name="sessionKey" TYPE="hidden" value="a1b2">'
            '<div class="row"><span class="lbl">Course</span>'
            '<div class="fld"><INPUT id="q1" name="crs" maxlength="8"></div></div>'
            '<div class="row"><span class="lbl">Personal identifier</span>'
            '<div class="fld"><INPUT NAME="ident" TYPE="TEXT" id="q2"></div></div>'
            "<div><BUTTON>Find student</BUTTON></div></FORM></DIV>"
        )

    def _lookup(self) -> tuple[str, str, Student | None]:
        """(module, PI, student) from the form; student is None when there is no record."""
        module = self.form.get(self.field("module"), "").strip().upper()
        pi = self.form.get(self.field("pi"), "").strip().upper()
        if module != self.sites.cohort.module:
            return module, pi, None
        try:
            return module, pi, self.sites.cohort.student(pi)
        except KeyError:
            return module, pi, None

    def _error(self, message: str) -> None:
        # Like the real system: an error is an ordinary page with status 200.
        if self.variant:
            self.send_page(
                "Error",
                f"<DIV class='msg'>Sorry \u2013 {esc(message)}.</DIV>"
                f"<div><a href='{ADMIN_PATH}'>New search</a></div>",
            )
            return
        self.send_page(
            "Error",
            self._tabs("EAB/admin") + f"<p><b>Error: {esc(message)}</b></p>"
            f'<p><a href="{ADMIN_PATH}">New search</a></p>',
        )

    def student_page(self) -> None:
        module, pi, student = self._lookup()
        if student is None:
            self._error(f"no student record found for {pi or '(none)'} on {module or '(none)'}")
            return
        attack = self.sites.hostile_attack(pi)
        if attack in hostile.PAGE_ATTACKS and self._page_attack(attack, student):
            return
        if self.variant:
            self._variant_student_page(module, student)
            return
        cohort = self.sites.cohort
        if student.files:
            submitted = cohort.submitted_at(student.pi).strftime("%d/%m/%Y %H:%M")
            late = "Yes" if cohort.is_late(student.pi) else "No"
            submission = (
                f"<tr><th>Date submitted</th><td>{submitted}</td></tr>"
                f"<tr><th>Late submission</th><td>{late}</td></tr>"
            )
        else:
            submission = "<tr><th>Date submitted</th><td>Not submitted</td></tr>"
        details = (
            '<table border="1" cellpadding="3" cellspacing="0">'
            f"<tr><th>Student name</th><td>{esc(student.name)}</td></tr>"
            f"<tr><th>PI</th><td>{esc(student.pi)}</td></tr>"
            f"<tr><th>Module</th><td>{esc(module)}</td></tr>"
            f"<tr><th>Assignment</th><td>{esc(cohort.assignment)}</td></tr>"
            f"<tr><th>Confirmation code:</th><td><b>{esc(student.code)}</b></td></tr>"
            f"{submission}</table>"
        )
        if not student.files:
            files = "<p>No files have been submitted for this assignment.</p>"
        else:
            rows = "".join(
                f"<tr><td>{esc(name)}</td><td>{_size_label(len(data))}</td><td>{submitted}</td></tr>"
                for name, data in student.files.items()
            )
            token = self.sites.issue_download_token()
            files = (
                "<h3>Submitted files</h3>"
                '<table border="1" cellpadding="3" cellspacing="0">'
                "<tr><th>Filename</th><th>Size</th><th>Submitted</th></tr>"
                f"{rows}</table>"
                '<form method="post" action="/etma/download" name="downloadForm">'
                f'<input type="hidden" name="course_code" value="{esc(module)}">'
                f'<input type="hidden" name="student_pi" value="{esc(student.pi)}">'
                f'<input type="hidden" name="token" value="{esc(token)}">'
                '<label for="file_type">File type</label> '
                '<select name="file_type" id="file_type">'
                '<option value="zip">Zipped student files</option></select> '
                '<input type="submit" value="Download"></form>'
            )
        self.send_page(
            "Student",
            self._tabs("EAB/admin")
            + f"<h2>Student record: {esc(student.name)}</h2>{details}{files}"
            f'<p><a href="{ADMIN_PATH}">New search</a></p>',
        )

    def _variant_student_page(self, module: str, student: Student) -> None:
        """Definition list and divs, the code label split by a no-break space, a <button>;
        the submission date written out ("Mon 11 Mar 2024, 14:22") and the late flag as yes/no."""
        cohort = self.sites.cohort
        facts = [
            ("Student name", student.name),
            ("PI", student.pi),
            ("Module", module),
            ("Assignment", cohort.assignment),
        ]
        if student.files:
            when = cohort.submitted_at(student.pi)
            facts += [
                ("Received", f"{when:%a} {when.day} {when:%b %Y, %H:%M}"),
                ("Late?", "yes" if cohort.is_late(student.pi) else "no"),
            ]
        details = "".join(f"<DT>{esc(k)}</DT><DD>{esc(v)}</DD>" for k, v in facts)
        code = (
            "<DT>Confirmation\u00a0code</DT>"
            f"<DD><span class='c'><STRONG>{esc(student.code)}</STRONG></span></DD>"
        )
        if not student.files:
            files = "<div class='note'>Nothing has been submitted yet.</div>"
        else:
            names = "".join(f"<LI>{esc(name)}</LI>" for name in student.files)
            action = self.sites.etma_url.rstrip("/") + "/etma/download"
            hidden = (
                (self.field("module"), module),
                (self.field("pi"), student.pi),
                (self.field("token"), self.sites.issue_download_token()),
            )
            files = (
                f"<div class='files'><H3>Files</H3><UL>{names}</UL>"
                f'<FORM METHOD="post" ACTION="{action}">'
                + "".join(f'<INPUT VALUE="{esc(v)}" TYPE="HIDDEN" NAME="{n}">' for n, v in hidden)
                + f'<SELECT NAME="{self.field("type")}">'
                '<OPTION VALUE="zip" SELECTED>Zip archive</OPTION></SELECT> '
                '<BUTTON TYPE="submit">Get files</BUTTON></FORM></div>'
            )
        self.send_page(
            "Student",
            self._tabs("EAB/admin")
            + f"<div class='rec'><H2>{esc(student.name)}</H2><DL>{details}{code}</DL></div>"
            + files,
        )

    def download(self) -> None:
        if not self.sites.is_download_token(self.form.get(self.field("token"))):
            self._error("your download request has expired; please search for the student again")
            return
        if self.form.get(self.field("type"), "zip") != "zip":
            self._error("unknown file type")
            return
        module, pi, student = self._lookup()
        if student is None:
            self._error(f"no student record found for {pi or '(none)'} on {module or '(none)'}")
            return
        if not student.files:
            self._error(f"No files have been submitted by {pi}")
            return
        fault = self.sites.faults.take(pi)
        if fault is not None:
            self._send_fault(fault, student)
            return
        attack = self.sites.hostile_attack(pi)
        if attack is not None and self._download_attack(attack, student):
            return
        path = self.sites.zip_path(pi)
        self._send_zip_headers(student, path.stat().st_size)
        with path.open("rb") as source:
            shutil.copyfileobj(source, self.wfile, CHUNK)

    # --- hostile mode (see hostile.py) ----------------------------------------------------------

    def _foreign(self, where: str) -> str:
        target = self.sites.hostile_redirect_to
        if not target:
            raise RuntimeError("set sites.hostile_redirect_to before serving a redirect attack")
        return f"{target.rstrip('/')}/collect?from={where}"

    def _page_attack(self, attack: str, student: Student) -> bool:
        """Serve a hostile student page; False when the attack belongs to the download."""
        secret = self.cookie(self.session_cookie) or ""
        if attack == "redirect_page":
            self.redirect(self._foreign("page"))
        elif attack == "echo_cookie_error":
            self._error(f"no student record found; your session is {self.session_cookie}={secret}")
        elif attack == "echo_cookie_code":
            self.send_page(
                "Student",
                self._tabs("EAB/admin") + f"<h2>Student record: {esc(student.name)}</h2>"
                f"<table><tr><th>Confirmation code:</th><td><b>{esc(secret)}</b></td></tr>"
                "</table><p>No files have been submitted for this assignment.</p>",
            )
        elif attack == "page_drip":
            self._drip(self.page_html("Student", f"<h2>Student record: {esc(student.name)}</h2>"))
        elif attack == "page_stall_headers":
            self._stall()
        elif attack in ("page_huge", "page_huge_unannounced"):
            self._huge_page(announced=attack == "page_huge")
        elif attack == "page_retry_after":
            self.send_page(
                "Service unavailable",
                "<h1>Service Unavailable</h1><p>Come back in an hour.</p>",
                status=503,
                headers=(("Retry-After", "3600"),),
            )
        else:
            return False
        return True

    def _client_gone(self) -> bool:
        """True once the helper has hung up (its end of the connection reads as closed)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _slow_over(self, started: float) -> bool:
        """True when a slow attack must end: out of time, the helper gone, or the sites stopping."""
        return (
            time.monotonic() - started > hostile.SLOW_ATTACK_SECONDS
            or self._client_gone()
            or self.sites.pause(0)
        )

    def _drip(self, page: str) -> None:
        """Headers at once, then the page one byte at a time."""
        body = page.encode()
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", HTML_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.flush()
        started = time.monotonic()
        for index in range(len(body)):
            if self._slow_over(started) or self.sites.pause(self.sites.hostile_drip_interval):
                return
            self.wfile.write(body[index : index + 1])
            self.wfile.flush()

    def _stall(self) -> None:
        """Read the request, answer nothing; end once the helper hangs up (or time is up)."""
        self.close_connection = True
        started = time.monotonic()
        while not self._slow_over(started):
            self.sites.pause(0.05)

    def _huge_page(self, announced: bool) -> None:
        """A page of ``hostile_huge_page_bytes``, streamed from a generator, never in memory."""
        size = self.sites.hostile_huge_page_bytes
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", HTML_TYPE)
        if announced:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        self._stream(_huge_page_chunks(size), size)

    def _stream(self, chunks: Iterator[bytes], limit: int, pause: float = 0.0) -> None:
        """Write chunks (``pause`` s apart) until ``limit`` bytes, the time limit, or the helper
        hanging up."""
        started, sent = time.monotonic(), 0
        for chunk in chunks:
            if sent >= limit or self._slow_over(started) or self.sites.pause(pause):
                return
            piece = chunk[: limit - sent]
            self.wfile.write(piece)
            sent += len(piece)

    def _download_attack(self, attack: str, student: Student) -> bool:
        """Serve a hostile download; False when the attack is not one for the download."""
        if attack == "redirect_download":
            self.redirect(self._foreign("download"))
            return True
        if attack in ("download_endless", "download_oversize"):
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            name = self.sites.cohort.zip_name(student.pi)
            self.send_header("Content-Disposition", f'attachment; filename="{name}"')
            if attack == "download_oversize":
                self.send_header("Content-Length", str(10 << 30))
            self.end_headers()
            self._stream(
                _endless_zip_chunks(),
                self.sites.hostile_stream_max_bytes,
                self.sites.hostile_stream_pause,
            )
            return True
        if attack in hostile.ZIP_ATTACKS:
            path = self.sites.hostile_zip_path(attack)
            disposition = None
        elif attack in hostile.DOWNLOAD_ATTACKS:
            path = self.sites.zip_path(student.pi)
            disposition = {
                "cd_traversal": 'attachment; filename="../../x.zip"',
                "cd_traversal_ext": "attachment; filename*=UTF-8''..%2F..%2Fx.zip",
                "cd_echo_cookie": 'attachment; filename="{}.zip"'.format(
                    self.cookie(self.session_cookie) or ""
                ),
            }[attack]
        else:
            return False
        self._send_zip_headers(student, path.stat().st_size, disposition)
        with path.open("rb") as source:
            shutil.copyfileobj(source, self.wfile, CHUNK)
        return True

    def _send_zip_headers(
        self, student: Student, length: int, disposition: str | None = None
    ) -> None:
        name = self.sites.cohort.zip_name(student.pi)
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Disposition", disposition or f'attachment; filename="{name}"')
        self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()

    def _send_fault(self, kind: str, student: Student) -> None:
        if kind == "http500":
            self.send_page(
                "Server error",
                "<h1>Internal Server Error</h1><p>The server "
                "encountered an internal error and could not complete your request.</p>",
                status=500,
            )
        elif kind == "reset":
            # Linger 0: closing sends a TCP reset instead of a polite end of stream.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
        elif kind == "login_page":
            self.send_page(
                "Sign in",
                login_form_html(LOGIN_PATH, ADMIN_PATH, None, "Sign in to the eTMA System"),
            )
        elif kind == "wrong_type":
            self.send_body(
                200,
                HTML_TYPE,
                self.page_html(
                    "Service unavailable",
                    "<h2>Service temporarily unavailable</h2><p>Please try again later.</p>",
                ).encode(),
            )
        else:
            self._send_broken_zip(kind, student)

    def _send_broken_zip(self, kind: str, student: Student) -> None:
        """Faults that promise a whole zip in the headers and then break that promise."""
        path = self.sites.zip_path(student.pi)
        length = path.stat().st_size
        self._send_zip_headers(student, length)
        if kind == "corrupt":
            # Right length, wrong bytes: no zip signature anywhere.
            pattern = (b"\x00corrupt-download\xff" * (CHUNK // 18 + 1))[:CHUNK]
            remaining = length
            while remaining > 0:
                piece = pattern[: min(CHUNK, remaining)]
                self.wfile.write(piece)
                remaining -= len(piece)
            return
        self.wfile.flush()
        self.close_connection = True
        if kind == "truncate":
            with path.open("rb") as source:
                remaining = length // 2
                while remaining > 0:
                    piece = source.read(min(CHUNK, remaining))
                    self.wfile.write(piece)
                    remaining -= len(piece)
        elif kind == "stall":
            # Waits on the sites' stop event, so stopping the servers is never held up.
            if self.sites.pause(STALL_SECONDS):
                return
            with path.open("rb") as source:
                shutil.copyfileobj(source, self.wfile, CHUNK)


def _huge_page_chunks(size: int) -> Iterator[bytes]:
    """An HTML page of exactly ``size`` bytes (most of it one comment), a chunk at a time."""
    head = b"<html><head><title>Student</title></head><body><h2>Student record</h2><!-- "
    tail = b" --></body></html>"
    filler = b"padding " * (CHUNK // 8)
    yield head
    left = size - len(head) - len(tail)
    while left > 0:
        piece = filler[:left]
        yield piece
        left -= len(piece)
    yield tail


def _endless_zip_chunks() -> Iterator[bytes]:
    """A local zip header, then zeros for ever: looks like a zip and never ends."""
    yield b"PK\x03\x04" + bytes(CHUNK - 4)
    zeros = bytes(CHUNK)
    while True:
        yield zeros


def _viewstate_input(size: int) -> str:
    """An ASP.NET-style hidden ``__VIEWSTATE`` field whose value is ``size`` bytes (none if 0)."""
    if size <= 0:
        return ""
    return (
        '<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" '
        f'value="{_viewstate_value(size)}">'
    )


@functools.lru_cache(maxsize=8)
def _viewstate_value(size: int) -> str:
    """``size`` characters of base64, the same every time (real ones are serialised state)."""
    raw = random.Random(size).randbytes(size * 3 // 4 + 3)
    return base64.b64encode(raw).decode("ascii")[:size]


def _size_label(size: int) -> str:
    return f"{size / 1024:.1f} KB" if size >= 1024 else f"{size} bytes"
