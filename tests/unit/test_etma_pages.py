"""Reading eTMA pages by meaning: the same facts survive very different markup."""

from etma_helper.etma_pages import (
    find_admin_link,
    find_search_form,
    looks_like_login,
    parse,
    read_student_page,
)

BASE = "https://etma.example/admin/"


def test_search_form_found_by_labels_not_ids():
    html = """<form action="find.do" method="POST"><input type=hidden name=tab value=eab>
      <label for=a1>Course code</label><input id=a1 name=f1>
      <label for=a2>Student PI</label><input id=a2 name=f2 type=text>
      <input type=submit value=Go></form>"""
    found = find_search_form(html, BASE)
    assert found is not None
    assert (found.module_field, found.pi_field) == ("f1", "f2")
    assert found.form.action == "https://etma.example/admin/find.do"
    assert found.form.method == "post"
    assert ("tab", "eab") in found.form.payload(f1="TM351", f2="P1")


def test_search_form_found_in_a_table_layout_by_neighbouring_cells():
    html = """<table><tr><td>Module:</td><td><input name="x"></td></tr>
      <tr><td>Personal identifier:</td><td><input name="y"></td></tr></table>
      <form><input name=q placeholder=Search></form>"""
    assert find_search_form(html, BASE) is None  # inputs outside any form do not count
    html = "<form action='/s'>" + html.split("<form>")[0] + "</form>"
    found = find_search_form(html, BASE)
    assert found is not None and (found.module_field, found.pi_field) == ("x", "y")
    assert found.form.method == "get" and found.form.action == "https://etma.example/s"


def test_search_form_ignores_unrelated_forms():
    html = """<form action=/logout><input name=user></form>
      <form action=/search><input name=course_code><input name=student_pi></form>"""
    found = find_search_form(html, BASE)
    assert found.form.action == "https://etma.example/search"


def test_admin_link_found_on_a_landing_page():
    html = "<a href='/home'>Home</a> <a href='tabs/eab.jsp'>EAB / Admin</a>"
    assert find_admin_link(html, BASE) == "https://etma.example/admin/tabs/eab.jsp"


def test_code_read_from_table_cell_after_its_label():
    page = read_student_page(
        "<table><tr><th>Confirmation code</th><td><b>k7m2-q9xd</b></td></tr></table>", BASE
    )
    assert page.code == "K7M2-Q9XD"


def test_code_read_from_the_same_line_as_its_label():
    page = read_student_page("<p>Your confirmation code: AB12CD34 (keep it)</p>", BASE)
    assert page.code == "AB12CD34"


def test_download_form_payload_takes_hidden_fields_and_the_only_option():
    html = """<p>Confirmation code: <span>ZX81-0001</span></p>
      <form method=post action="/etma/download"><input type=hidden name=token value=abc>
      <select name=ft><option value="zip">Zipped files</option></select>
      <input type=submit name=go value=Download></form>"""
    page = read_student_page(html, BASE)
    assert page.download is not None
    assert page.download.action == "https://etma.example/etma/download"
    assert page.download.payload() == [("token", "abc"), ("ft", "zip"), ("go", "Download")]


def test_error_page_served_with_200_gives_its_own_words():
    page = read_student_page("<h2>Error: no student record found for P0000000</h2>", BASE)
    assert page.code is None and page.download is None
    assert "no student record found" in page.problem


def test_page_without_download_form_says_nothing_submitted():
    html = "<p>Confirmation code: QQ11-2233</p><p>No files have been submitted.</p>"
    page = read_student_page(html, BASE)
    assert page.code == "QQ11-2233" and page.download is None and page.nothing_submitted


def test_login_page_recognised_by_its_password_field():
    assert looks_like_login(parse("<form><input name=u><input type=PASSWORD name=p></form>"))
    assert not looks_like_login(parse("<form><input name=u></form>"))
