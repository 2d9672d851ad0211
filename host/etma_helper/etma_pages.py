"""Reading eTMA's pages by meaning, not by ids.

The real markup is not public, so nothing here names an id or a class: the search form is the form
with a student-PI field and a module field, the download form is the form with a file-type
drop-down, the confirmation code is the code-shaped text that follows its label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Tag

PI_MEANING = re.compile(r"\bpi\b|personal\s*id|student\s*(id|pi|number)|studentpi|student_pi", re.I)
MODULE_MEANING = re.compile(r"module|course", re.I)
CODE_LABEL = re.compile(r"confirmation\s*code", re.I)
CODE_TOKEN = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,31}$", re.I)
DOWNLOAD_MEANING = re.compile(r"download|zip|file", re.I)
ERROR_MEANING = re.compile(r"error|not found|no student|no record|invalid|unknown", re.I)
NO_FILES_MEANING = re.compile(r"no files|nothing (has been )?submitted|not submitted", re.I)
TEXT_INPUT_TYPES = {"text", "search", "", None}


@dataclass(frozen=True)
class Form:
    """A form ready to submit: absolute action, method, and the values it would send."""

    action: str
    method: str
    fields: tuple[tuple[str, str], ...] = ()

    def payload(self, **overrides: str) -> list[tuple[str, str]]:
        """The fields a browser would submit, with some values replaced."""
        sent = [(name, overrides.get(name, value)) for name, value in self.fields]
        present = {name for name, _ in self.fields}
        sent += [(name, value) for name, value in overrides.items() if name not in present]
        return sent


@dataclass(frozen=True)
class SearchForm:
    """eTMA's admin-tab form that takes a module code and one student PI."""

    form: Form
    module_field: str
    pi_field: str


@dataclass(frozen=True)
class StudentPage:
    """What a student's page says: their code, their files, how to download them."""

    code: str | None
    download: Form | None
    files: tuple[str, ...] = ()
    problem: str | None = None
    nothing_submitted: bool = False
    notes: list[str] = field(default_factory=list)


def parse(html: str | bytes) -> BeautifulSoup:
    """Parse a page with the standard library's parser (no compiled dependencies)."""
    return BeautifulSoup(html, "html.parser")


def looks_like_login(soup: BeautifulSoup) -> bool:
    """A login page is any page asking for a password."""
    return soup.find("input", attrs={"type": re.compile("^password$", re.I)}) is not None


def _words(tag: Tag) -> str:
    return " ".join(tag.get_text(" ", strip=True).split())


def _meaning(control: Tag, soup: BeautifulSoup) -> str:
    """Everything that tells a person what a form control is for."""
    parts = [control.get(attr, "") for attr in ("name", "id", "title", "placeholder", "aria-label")]
    control_id = control.get("id")
    if control_id:
        label = soup.find("label", attrs={"for": control_id})
        if label:
            parts.append(_words(label))
    wrapping = control.find_parent("label")
    if wrapping:
        parts.append(_words(wrapping))
    cell = control.find_parent(["td", "dd", "li", "p", "div"])
    if cell is not None:
        previous = cell.find_previous_sibling(["td", "th", "dt"])
        if previous is not None:
            parts.append(_words(previous))
    previous_text = control.find_previous(string=True)
    if previous_text:
        parts.append(previous_text.strip()[-60:])
    return " ".join(str(p) for p in parts if p)


def _form_fields(form: Tag) -> tuple[tuple[str, str], ...]:
    """The name/value pairs a browser would send for this form, before any typing."""
    fields: list[tuple[str, str]] = []
    for control in form.find_all(["input", "select", "textarea"]):
        name = control.get("name")
        if not name or control.has_attr("disabled"):
            continue
        if control.name == "select":
            options = control.find_all("option")
            chosen = next(
                (o for o in options if o.has_attr("selected")), options[0] if options else None
            )
            if chosen is not None:
                fields.append((name, chosen.get("value", _words(chosen))))
            continue
        if control.name == "textarea":
            fields.append((name, control.get_text()))
            continue
        kind = (control.get("type") or "text").lower()
        if kind in ("submit", "button", "image", "reset", "file"):
            continue
        if kind in ("checkbox", "radio") and not control.has_attr("checked"):
            continue
        fields.append((name, control.get("value", "on" if kind in ("checkbox", "radio") else "")))
    submit = form.find(["input", "button"], attrs={"type": re.compile("^submit$", re.I)})
    if submit is None:
        submit = form.find("button", attrs={"type": None})
    if submit is not None and submit.get("name"):
        fields.append((submit["name"], submit.get("value", "")))
    return tuple(fields)


def _as_form(form: Tag, base_url: str) -> Form:
    return Form(
        action=urljoin(base_url, form.get("action") or base_url),
        method=(form.get("method") or "get").lower(),
        fields=_form_fields(form),
    )


def find_search_form(html: str | bytes, base_url: str) -> SearchForm | None:
    """Find the form that asks for a module code and a student PI."""
    soup = parse(html)
    for form in soup.find_all("form"):
        pi_field = module_field = None
        for control in form.find_all("input"):
            if (control.get("type") or "text").lower() not in TEXT_INPUT_TYPES:
                continue
            meaning = _meaning(control, soup)
            if pi_field is None and PI_MEANING.search(meaning):
                pi_field = control.get("name")
            elif module_field is None and MODULE_MEANING.search(meaning):
                module_field = control.get("name")
        if pi_field and module_field:
            return SearchForm(_as_form(form, base_url), module_field, pi_field)
    return None


def find_admin_link(html: str | bytes, base_url: str) -> str | None:
    """On a landing page, the link to the admin (EAB) tab that holds the search form."""
    soup = parse(html)
    for link in soup.find_all("a", href=True):
        if re.search(r"\badmin\b|\beab\b", _words(link) + " " + link["href"], re.I):
            return urljoin(base_url, link["href"])
    return None


def _confirmation_code(soup: BeautifulSoup) -> str | None:
    for label in soup.find_all(string=CODE_LABEL):
        after_label = CODE_LABEL.split(str(label), maxsplit=1)[-1].strip(" :\u00a0\t\n")
        candidates = [after_label] if after_label else []
        for following in label.find_all_next(string=True, limit=6):
            candidates.append(following.strip(" :\u00a0\t\n"))
        for text in candidates:
            word = text.split(maxsplit=1)[0] if text else ""
            # a code, not a word of prose: it has a digit or a dash, or is all capitals
            if CODE_TOKEN.match(word) and (re.search(r"[\d-]", word) or word.isupper()):
                return word.upper()
    return None


def _download_form(soup: BeautifulSoup, base_url: str) -> Form | None:
    for form in soup.find_all("form"):
        has_select = form.find("select") is not None
        submit = form.find(["input", "button"], attrs={"type": re.compile("^submit$", re.I)})
        submit_words = (submit.get("value", "") + _words(submit)) if submit else ""
        action = form.get("action", "")
        if has_select and (submit is not None or DOWNLOAD_MEANING.search(action)):
            return _as_form(form, base_url)
        if DOWNLOAD_MEANING.search(submit_words) and DOWNLOAD_MEANING.search(action + submit_words):
            return _as_form(form, base_url)
    return None


def _submitted_files(soup: BeautifulSoup) -> tuple[str, ...]:
    names = []
    for cell in soup.find_all(["td", "li"]):
        text = _words(cell)
        if re.fullmatch(r"[^/\\<>:|?*]{1,80}\.[A-Za-z0-9]{1,5}", text):
            names.append(text)
    return tuple(names)


def read_student_page(html: str | bytes, base_url: str) -> StudentPage:
    """Read a student's page: the code, the download form, or why there is neither."""
    soup = parse(html)
    code = _confirmation_code(soup)
    download = _download_form(soup, base_url)
    text = _words(soup.body or soup)
    nothing_submitted = bool(NO_FILES_MEANING.search(text)) and download is None
    problem = None
    if code is None and download is None:
        for text in (soup.body or soup).find_all(string=ERROR_MEANING):
            words = _words(text.parent)
            if len(words) < 300:
                problem = words
                break
        problem = problem or "eTMA's page for this student shows no confirmation code."
    return StudentPage(
        code=code,
        download=download,
        files=_submitted_files(soup),
        problem=problem,
        nothing_submitted=nothing_submitted,
    )
