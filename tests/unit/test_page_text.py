"""The page reader's one-pass index finds what Beautiful Soup's own searches find.

``_PageText`` lists a page's strings once and finds each label's elements once (reading a
student's page looks for five labels). The definitions it must agree with are kept here, written
with Beautiful Soup's general searches, as the reader used them before the index.
"""

from __future__ import annotations

import re

import pytest
from bs4 import Comment

from etma_helper.etma_pages import (
    PASSWORD,
    _attr_matches,
    _first_tag,
    _PageText,
    _strings_after,
    _tags,
    _words,
    parse,
)
from etma_helper.site_profile import SiteProfile

PROFILE = SiteProfile.builtin()
LABELS = [
    PROFILE.code_label,
    PROFILE.name_label,
    PROFILE.submitted_label,
    PROFILE.late_label,
    re.compile(r"^Confirmation code$"),  # anchored: matches a whole tag's words only
    re.compile(r"x*"),  # matches the empty string too
]
PAGES = [
    "<table><tr><th>Confirmation code:</th><td><b>2JM2-KWRP</b></td></tr>"
    "<tr><th>Student name</th><td>Ann Lee</td></tr><tr><th>Late submission</th><td>No</td></tr>"
    "<tr><th>Date submitted</th><td>05/03/2024 23:32</td></tr></table>",
    "<p><b>Confirmation</b> code: <i>AB12-CD34</i></p>",  # a label split over tags
    "<div><span>Confirmation</span> <span>code</span></div><div>XY99-ZZ11</div>",
    "<div><div><b>Confirmation</b> <b>code</b></div></div>",  # nested: the innermost wins
    "<!-- Confirmation code: FAKE-1111 --><p>Confirmation code <b>REAL-2222</b></p>",
    "<script>var label = 'Confirmation code: JS00-0000'</script><p>nothing here</p>",
    "<title>Confirmation code</title><select><option>Confirmation code</option></select>",
    "<dl><dt>Confirmation code</dt><dd></dd><dt>Student name</dt><dd>Bo</dd></dl>",
    "<p>Confirmation code:</p><p>Confirmation code: AAAA-1111</p>",
    "<p></p>",
    "",
    '<form><input type="PassWord" name=p><noscript><button>Go</button></noscript>'
    "<select name=s><option>a</option></select><textarea name=t></textarea></form>",
    "<ul><li>a.txt</li><li><table><tr><td>b.txt</td></tr></table></li></ul>",
]


def reference_label_elements(soup, label):
    """The innermost elements whose words match ``label`` (the reader's definition)."""
    found = [text.parent for text in soup.find_all(string=label)]
    if not found:
        matching = [tag for tag in soup.find_all(True) if label.search(_words(tag))]
        found = [
            tag for tag in matching if not any(label.search(_words(c)) for c in tag.find_all(True))
        ]
    return [tag for tag in found if tag.name not in ("title", "script", "style", "option")]


@pytest.mark.parametrize("html", PAGES)
def test_label_elements_are_those_the_whole_page_searches_find(html):
    soup = parse(html)
    text = _PageText(soup)
    for label in LABELS:
        expected = reference_label_elements(soup, label)
        assert [id(tag) for tag in text.label_elements(label)] == [id(tag) for tag in expected]
        assert text.label_elements(label) is text.label_elements(label)  # found once


@pytest.mark.parametrize("html", PAGES)
def test_strings_after_an_element_are_those_find_all_next_finds(html):
    soup = parse(html)
    for element in soup.find_all(True):
        for limit in (1, 3, 12):
            expected = element.find_all_next(string=True, limit=limit)
            assert [id(s) for s in _strings_after(element, limit)] == [id(s) for s in expected]


def test_comments_count_as_strings_as_they_do_for_find_all():
    soup = parse("<p>a</p><!-- Confirmation code: X -->")
    assert any(isinstance(node, Comment) for node in _PageText(soup).strings)


@pytest.mark.parametrize("html", PAGES)
def test_tags_by_name_are_those_find_all_finds(html):
    soup = parse(html)
    for root in [soup, *soup.find_all(True)]:
        for names in (("td", "li"), ("input", "button"), ("input", "select", "textarea")):
            assert [id(t) for t in _tags(root, *names)] == [id(t) for t in root.find_all(names)]
            assert _first_tag(root, *names) is root.find(names)
        matched = [t for t in _tags(root, "input") if _attr_matches(t, "type", PASSWORD)]
        expected = root.find_all("input", attrs={"type": PASSWORD})
        assert [id(t) for t in matched] == [id(t) for t in expected]
