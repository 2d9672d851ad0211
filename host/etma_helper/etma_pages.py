"""Reading eTMA's pages by meaning, not by ids.

The real markup is not public, so nothing here names an id or a class, and every site-specific word
comes from the site profile: the search form is the form with a student-PI field and a module field,
the download form is the form with a file-type drop-down and a button, the confirmation code is the
code-shaped word that follows its label. Each reader takes a page as bytes (so the page's own
declared encoding is honoured), text, or an already parsed soup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Comment, NavigableString, Tag
from bs4.dammit import EncodingDetector

from .records import clean_name
from .site_profile import SiteProfile

Page = str | bytes | BeautifulSoup

TEXT_INPUT_TYPES = {"text", "search", ""}
# Browsers read pages labelled Latin-1 or ASCII as windows-1252 (the WHATWG encoding standard),
# and old systems often send curly quotes or dashes from that range under those labels.
LATIN1_LABELS = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii"}
# What may stand between a label and its value: "Code: X", "Code - X", "Code \u2013 X".
STRIP = " :=-\u2013\u2014\u00a0\t\r\n"
PASSWORD = re.compile("^password$", re.I)
REFRESH = re.compile("^refresh$", re.I)


@dataclass(frozen=True)
class Form:
    """A form ready to submit: absolute action, method, and the values it would send."""

    action: str
    method: str
    fields: tuple[tuple[str, str], ...] = ()
    choices: tuple[str, ...] = ()  # each drop-down's chosen option as "name = value (label)"

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
    page_url: str = ""


@dataclass(frozen=True)
class StudentPage:
    """What a student's page says: their code, their files, how to download them."""

    code: str | None
    download: Form | None
    files: tuple[str, ...] = ()
    problem: str | None = None
    nothing_submitted: bool = False
    notes: list[str] = field(default_factory=list)  # what the reader looked for and missed
    name: str | None = None  # the student's name, as the page shows it
    submitted: str | None = None  # when the student submitted, ISO 8601 ("2024-03-11T14:22")
    late: bool | None = None  # the page's late flag
    #: the words that follow the code label, code or not (a page quoting the session cookie
    #: there is believed in nothing: see EtmaSession.student_page)
    code_text: str = ""


def parse(html: Page, encoding: str | None = None) -> BeautifulSoup:
    """Parse a page with the standard library's parser (no compiled dependencies).

    ``encoding`` is the charset the server declared in its Content-Type header, which wins over
    the page's own meta tag as it does in a browser; without either, the bytes are sniffed.
    """
    if isinstance(html, BeautifulSoup):
        return html
    if isinstance(html, bytes):
        declared = encoding or EncodingDetector.find_declared_encoding(html, is_html=True)
        if declared and declared.lower() in LATIN1_LABELS:
            declared = "windows-1252"
        return BeautifulSoup(html, "html.parser", from_encoding=declared)
    return BeautifulSoup(html, "html.parser")


def _tags(root: Tag, *names: str) -> list[Tag]:
    """Every tag under ``root`` with one of these names, in document order: what
    ``root.find_all([names])`` finds, without building Beautiful Soup's general matcher (the
    page readers search many times per student)."""
    return [node for node in root.descendants if isinstance(node, Tag) and node.name in names]


def _first_tag(root: Tag, *names: str) -> Tag | None:
    """The first tag under ``root`` with one of these names (``root.find([names])``)."""
    for node in root.descendants:
        if isinstance(node, Tag) and node.name in names:
            return node
    return None


def _attr_matches(tag: Tag, name: str, pattern: re.Pattern[str]) -> bool:
    value = tag.get(name)
    return isinstance(value, str) and pattern.search(value) is not None


def _profile(profile: SiteProfile | None) -> SiteProfile:
    return profile if profile is not None else SiteProfile.builtin()


def looks_like_login(
    soup: BeautifulSoup, profile: SiteProfile | None = None, url: str = ""
) -> bool:
    """A login page asks for a password, sits at an address with sign-in words, or hands the
    browser on to a sign-on step: a form carrying a sign-on message (a SAML response or request,
    by the profile's ``login_page.handoff_fields``), a form the page posts by itself to another
    site, or a refresh to another site. ``url`` is the page's own address."""
    profile = _profile(profile)
    if url and profile.login_url_words.search(urlsplit(url).path):
        return True
    password = any(_attr_matches(tag, "type", PASSWORD) for tag in _tags(soup, "input"))
    if profile.login_password_field and password:
        return True
    if url and _refreshes_elsewhere(soup, url):
        return True
    return any(_hands_off(form, soup, profile, url) for form in soup.find_all("form"))


def _refreshes_elsewhere(soup: BeautifulSoup, url: str) -> bool:
    """The page sends the browser on to another site by itself (``<meta http-equiv=refresh>``),
    as a redirect would."""
    for meta in (tag for tag in _tags(soup, "meta") if _attr_matches(tag, "http-equiv", REFRESH)):
        found = re.search(r"url\s*=\s*['\"]?([^'\">\s]+)", str(meta.get("content") or ""), re.I)
        if found and _site(urljoin(url, found.group(1))) != _site(url):
            return True
    return False


def _hands_off(form: Tag, soup: BeautifulSoup, profile: SiteProfile, url: str) -> bool:
    """True if ``form`` is a sign-on step meant for the browser, not a page of eTMA's.

    Identity providers answer with a form of hidden fields that their page submits by itself (a
    button shows only without scripts). A form a person fills or presses (a log-out button, a
    search elsewhere) is never one, whatever it carries.
    """
    if _first_tag(form, "select", "textarea") is not None:
        return False
    for control in _tags(form, "input", "button"):
        kind = (control.get("type") or ("submit" if control.name == "button" else "text")).lower()
        if kind != "hidden" and not any(parent.name == "noscript" for parent in control.parents):
            return False
    names = (str(control.get("name") or "") for control in _tags(form, "input"))
    if any(profile.login_handoff_fields.search(name) for name in names):
        return True
    if not url:
        return False
    action = urljoin(url, (form.get("action") or "").strip() or url)
    return _site(action) != _site(url) and _submits_itself(soup)


def _site(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or ""), port or (443 if scheme == "https" else 80)


def _submits_itself(soup: BeautifulSoup) -> bool:
    """The page's own script submits a form (an ``onload`` or a script calling ``submit()``)."""
    body = soup.find("body")
    scripts = [str(body.get("onload") or "")] if body is not None else []
    scripts += [script.get_text() for script in soup.find_all("script")]
    return any(re.search(r"\.submit\s*\(", text) for text in scripts)


def _words(tag: Tag) -> str:
    return " ".join(tag.get_text(" ", strip=True).split())


def _previous_text(control: Tag) -> str:
    """The nearest visible words before a control (its label, in most layouts)."""
    text = control.find_previous(string=lambda s: bool(s.strip()) and not isinstance(s, Comment))
    return " ".join(str(text).split())[-60:] if text else ""


def _meaning(control: Tag, soup: BeautifulSoup) -> str:
    """Everything that tells a person what a form control is for."""
    parts = [control.get(attr, "") for attr in ("name", "id", "title", "placeholder", "aria-label")]
    for label_id in str(control.get("aria-labelledby", "")).split():
        labelled_by = soup.find(id=label_id)
        if labelled_by:
            parts.append(_words(labelled_by))
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
    parts.append(_previous_text(control))
    return " ".join(str(p) for p in parts if p)


def _submit_control(form: Tag) -> Tag | None:
    """The button that submits the form (a ``<button>`` with no type submits too)."""
    for control in _tags(form, "input", "button"):
        kind = (control.get("type") or ("submit" if control.name == "button" else "text")).lower()
        if kind in ("submit", "image"):
            return control
    return None


def _form_fields(form: Tag) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The name/value pairs a browser would send for this form before any typing, and the
    chosen option of each drop-down (for reports)."""
    fields: list[tuple[str, str]] = []
    choices: list[str] = []
    for control in _tags(form, "input", "select", "textarea"):
        name = control.get("name")
        if not name or control.has_attr("disabled"):
            continue
        if control.name == "select":
            options = control.find_all("option")
            chosen = next(
                (o for o in options if o.has_attr("selected")), options[0] if options else None
            )
            if chosen is not None:
                value = chosen.get("value", _words(chosen))
                fields.append((name, value))
                choices.append(f"{name} = {value} ({_words(chosen)})")
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
    submit = _submit_control(form)
    if submit is not None and submit.get("name"):
        fields.append((submit["name"], submit.get("value", "")))
    return tuple(fields), tuple(choices)


def _as_form(form: Tag, base_url: str) -> Form:
    fields, choices = _form_fields(form)
    return Form(
        action=urljoin(base_url, (form.get("action") or "").strip() or base_url),
        method=(form.get("method") or "get").strip().lower(),
        fields=fields,
        choices=choices,
    )


def _text_inputs(form: Tag) -> list[Tag]:
    return [
        control
        for control in form.find_all("input")
        if control.get("name") and (control.get("type") or "").strip().lower() in TEXT_INPUT_TYPES
    ]


def find_search_form(
    html: Page, base_url: str, profile: SiteProfile | None = None
) -> SearchForm | None:
    """Find the form that asks for a module code and a student PI.

    A field name given in the profile wins; otherwise each text field is judged by its meaning.
    """
    profile = _profile(profile)
    soup = parse(html)
    for form in soup.find_all("form"):
        inputs = _text_inputs(form)
        names = {control["name"] for control in inputs}
        pi_field = profile.pi_field if profile.pi_field in names else None
        module_field = profile.module_field if profile.module_field in names else None
        for control in inputs:
            if control["name"] in (pi_field, module_field):
                continue
            meaning = _meaning(control, soup)
            if pi_field is None and not profile.pi_field and profile.pi_meaning.search(meaning):
                pi_field = control["name"]
            elif (
                module_field is None
                and not profile.module_field
                and profile.module_meaning.search(meaning)
            ):
                module_field = control["name"]
        if pi_field and module_field:
            return SearchForm(_as_form(form, base_url), module_field, pi_field, base_url)
    return None


def find_admin_link(html: Page, base_url: str, profile: SiteProfile | None = None) -> str | None:
    """On a landing page, the link to the admin (EAB) tab that holds the search form."""
    profile = _profile(profile)
    for link in parse(html).find_all("a", href=True):
        if profile.search_link_words.search(_words(link) + " " + link["href"]):
            return urljoin(base_url, link["href"].strip())
    return None


def describe_forms(html: Page, base_url: str) -> list[str]:
    """One line per form on a page, with its text fields and what they seem to mean.

    For reports when the search form is not found, so the user can name the right fields in
    their profile.
    """
    soup = parse(html)
    lines = []
    for form in soup.find_all("form"):
        action = urljoin(base_url, (form.get("action") or "").strip() or base_url)
        fields = ", ".join(
            f"{control['name']!r} ({_meaning(control, soup)[:60]})"
            for control in _text_inputs(form)
        )
        lines.append(f"form to {action}: text fields {fields or 'none'}")
    return lines


class _PageText:
    """A parsed page's strings, listed once, and the elements each label names, found once.

    Reading a student's page looks for five labels (the code's twice); searching the whole
    document for each, through Beautiful Soup's general matcher, cost as much as parsing it.
    """

    def __init__(self, soup: BeautifulSoup) -> None:
        self.soup = soup
        # What soup.find_all(string=...) searches: every non-empty string, comments included.
        self.strings = [
            node for node in soup.descendants if isinstance(node, NavigableString) and node
        ]
        self._labels: dict[re.Pattern[str], list[Tag]] = {}

    def label_elements(self, label: re.Pattern[str]) -> list[Tag]:
        """The innermost elements whose words match ``label``, even across inline tags."""
        if label not in self._labels:
            self._labels[label] = self._find_label_elements(label)
        return self._labels[label]

    def _find_label_elements(self, label: re.Pattern[str]) -> list[Tag]:
        found = [text.parent for text in self.strings if label.search(text)]
        if not found:
            # The label may be split over several tags ("<b>Confirmation</b> code"): take the
            # smallest elements whose words match, those with no matching element inside.
            matching = [
                tag
                for tag in self.soup.descendants
                if isinstance(tag, Tag) and label.search(_words(tag))
            ]
            outer = {id(parent) for tag in matching for parent in tag.parents}
            found = [tag for tag in matching if id(tag) not in outer]
        return [tag for tag in found if tag.name not in ("title", "script", "style", "option")]


def _strings_after(element: Tag, limit: int) -> list[NavigableString]:
    """The first ``limit`` non-empty strings after ``element`` in the document, comments too:
    ``element.find_all_next(string=True, limit=limit)`` without building a matcher each time."""
    found: list[NavigableString] = []
    for node in element.next_elements:
        if isinstance(node, NavigableString) and node:
            found.append(node)
            if len(found) == limit:
                break
    return found


def _confirmation_code(page_text: _PageText, profile: SiteProfile) -> tuple[str | None, str]:
    """The code and, when there is none, why not."""
    labels = page_text.label_elements(profile.code_label)
    for element in labels:
        after_label = profile.code_label.split(_words(element), maxsplit=1)[-1].lstrip(STRIP)
        candidates = [after_label] if after_label else []
        for following in _strings_after(element, 12):
            if element not in following.parents and following.lstrip(STRIP):
                candidates.append(following.lstrip(STRIP))
            if len(candidates) >= 4:
                break
        for text in candidates:
            word = text.split(maxsplit=1)[0].rstrip(".,;)]") if text else ""
            # a code, not a word of prose: it has a digit or a dash, or is all capitals
            if profile.code_token.fullmatch(word) and (re.search(r"[\d-]", word) or word.isupper()):
                return word.upper(), ""
    if labels:
        return None, "found the code label, but no word after it matched student_page.code_token"
    return None, "no text on the page matched student_page.code_label"


def _download_form(soup: BeautifulSoup, base_url: str, profile: SiteProfile) -> Form | None:
    """The form with a file-type drop-down and a button; by the button's words if several."""
    candidates = []
    for form in soup.find_all("form"):
        submit = _submit_control(form)
        if submit is None or (profile.download_needs_select and _first_tag(form, "select") is None):
            continue
        words = " ".join(
            [submit.get("value", ""), submit.get("alt", ""), _words(submit), form.get("action", "")]
        )
        if profile.download_button_words.search(words):
            return _as_form(form, base_url)
        candidates.append(form)
    # A lone drop-down form is the download form whatever its button says.
    return _as_form(candidates[0], base_url) if len(candidates) == 1 else None


def _submitted_files(soup: BeautifulSoup) -> tuple[str, ...]:
    names = []
    for cell in _tags(soup, "td", "li"):
        text = _words(cell)
        if re.fullmatch(r"[^/\\<>:|?*]{1,80}\.[A-Za-z0-9]{1,5}", text):
            names.append(text)
    return tuple(names)


# Elements that label a value rather than hold one: a value is never read past one of these.
LABEL_TAGS = ("th", "dt", "label", "legend", "caption")
MONTHS = {
    month: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for month in names
}
_TIME = r"(?:[\sT,]+(?:at\s+)?(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:\s*(?P<half>[ap])\.?m\.?)?)?"
# Dates as eTMA might write them, day first (a UK system): 11/03/2024, 2024-03-11, 11 Mar 2024,
# Monday, 11-Mar-2024 - each with an optional time; the groups are named.
DATE_SHAPES = (
    re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})" + _TIME, re.I),
    re.compile(r"\b(?P<day>\d{1,2})[/.-](?P<month>\d{1,2})[/.-](?P<year>\d{4})" + _TIME, re.I),
    re.compile(
        r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?[\s-]+(?P<month>[a-z]{3,9})\.?[\s-]+,?"
        r"(?P<year>\d{4})" + _TIME,
        re.I,
    ),
)
LATE_YES = re.compile(r"^(yes|y|true|late)\b", re.I)
LATE_NO = re.compile(r"^(no|n|false|on\s*time|not\s*late)\b", re.I)


def parse_when(text: str) -> str | None:
    """The first date (and time) in ``text`` as ISO 8601 ("2024-03-11T14:22", or "2024-03-11"
    without a time), read day first; None when there is no real date in it."""
    for shape in DATE_SHAPES:
        found = shape.search(text)
        if found is None:
            continue
        part = found.groupdict()
        month = part["month"]
        number = MONTHS.get(month.lower()) if month.isalpha() else int(month)
        try:
            if number is None:
                raise ValueError(month)
            day = datetime(int(part["year"]), number, int(part["day"]))
            if part["hour"] is None:
                return day.strftime("%Y-%m-%d")
            hour = int(part["hour"])
            if part["half"]:  # 12-hour clock: 12 am is midnight, 12 pm noon
                hour = hour % 12 + (12 if part["half"].lower() == "p" else 0)
            return day.replace(hour=hour, minute=int(part["minute"])).strftime("%Y-%m-%dT%H:%M")
        except ValueError:
            continue
    return None


def _values_after(page_text: _PageText, label: re.Pattern[str], limit: int = 2) -> list[str]:
    """For each element labelled by ``label``: the texts that follow the label (its own words
    after the label, then the next strings), stopping at the next label-like element."""
    values = []
    for element in page_text.label_elements(label):
        found = []
        after_label = label.split(_words(element), maxsplit=1)[-1].lstrip(STRIP)
        if after_label:
            found.append(after_label)
        for following in _strings_after(element, 12):
            if len(found) >= limit:
                break
            if element in following.parents or isinstance(following, Comment):
                continue
            text = " ".join(following.split()).lstrip(STRIP)
            if not text:
                continue
            if any(parent.name in LABEL_TAGS for parent in following.parents):
                break  # the next label: this one's value was empty
            found.append(text)
        values.extend(found)
    return values


def _student_name(page_text: _PageText, profile: SiteProfile) -> str | None:
    for value in _values_after(page_text, profile.name_label, limit=1):
        name = clean_name(value)
        if name and not name.endswith(":"):
            return name
        return None
    return None


def _submitted(page_text: _PageText, profile: SiteProfile) -> str | None:
    for value in _values_after(page_text, profile.submitted_label):
        when = parse_when(value)
        if when:
            return when
    return None


def _late(page_text: _PageText, profile: SiteProfile) -> bool | None:
    for value in _values_after(page_text, profile.late_label, limit=1):
        if LATE_NO.match(value):
            return False
        if LATE_YES.match(value):
            return True
    return None


def read_student_page(html: Page, base_url: str, profile: SiteProfile | None = None) -> StudentPage:
    """Read a student's page: the code, the download form, or why there is neither."""
    profile = _profile(profile)
    soup = parse(html)
    page_text = _PageText(soup)
    code, code_note = _confirmation_code(page_text, profile)
    download = _download_form(soup, base_url, profile)
    body = soup.body or soup
    nothing_submitted = bool(profile.no_files.search(_words(body))) and download is None
    notes = [code_note] if code_note else []
    if download is None and not nothing_submitted:
        notes.append("no form with a drop-down and a button matching download_form.button_words")
    problem = None
    if code is None and download is None:
        for error in body.find_all(string=profile.error):
            if isinstance(error, Comment) or error.parent.name in ("script", "style", "title"):
                continue
            words = _words(error.parent)
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
        notes=notes,
        name=_student_name(page_text, profile),
        submitted=_submitted(page_text, profile),
        late=_late(page_text, profile),
        code_text=" ".join(_values_after(page_text, profile.code_label))[:500],
    )
