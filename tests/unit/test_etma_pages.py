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


# --- the same facts in other markup, read with the built-in profile ---------------------------


def test_search_form_found_in_divs_with_new_ids_uppercase_tags_and_an_absolute_action():
    html = """<DIV class=outer><div class=inner><FORM METHOD="Post" id="zz" ACTION=
      " https://other.example/cgi/find ">
      <INPUT TYPE="HIDDEN" NAME="student_pi" VALUE="ignored">
      <div class=row><span>Course</span><div><div><INPUT NAME="c_1" ID="k9"></div></div></div>
      <div class=row><span>Personal identifier</span><INPUT id=k8 TYPE=TEXT name=c_2></div>
      <BUTTON>Find</BUTTON></FORM></div></DIV>"""
    found = find_search_form(html, BASE)
    assert found is not None
    assert (found.module_field, found.pi_field) == ("c_1", "c_2")
    assert found.form.action == "https://other.example/cgi/find"
    assert found.form.method == "post"


def test_search_form_found_by_aria_labels_and_definition_lists():
    html = """<form action=s><dl><dt>Module</dt><dd><input name=a></dd></dl>
      <span id=l2>Student number</span><input aria-labelledby=l2 name=b></form>"""
    found = find_search_form(html, BASE)
    assert found is not None and (found.module_field, found.pi_field) == ("a", "b")


def test_code_read_from_a_definition_list_with_its_label_split_over_tags():
    html = "<dl><dt><b>Confirmation</b> <i>code</i></dt><dd><span><strong>zx81-0002</strong>"
    assert read_student_page(html + "</span></dd></dl>", BASE).code == "ZX81-0002"


def test_page_in_windows_1252_declared_only_by_meta_tag_is_decoded_by_that_charset():
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
        "</head><body><p>Student\u2019s record</p><p>Confirmation\xa0code: <b>AB12-CD34</b></p>"
        "</body></html>"
    ).encode("windows-1252")
    soup = parse(html)
    assert "Student\u2019s record" in soup.get_text()
    assert read_student_page(html, BASE).code == "AB12-CD34"


def test_page_labelled_latin_1_is_read_as_windows_1252_as_browsers_do():
    html = b'<meta charset="ISO-8859-1"><p>It\x92s here. Confirmation code \x96 QW12-ER34</p>'
    page = read_student_page(html, BASE)
    assert page.code == "QW12-ER34"
    assert "It\u2019s here" in parse(html).get_text()


def test_charset_from_the_http_header_wins_over_the_meta_tag():
    html = '<meta charset="windows-1252"><p>Caf\u00e9</p>'.encode()
    assert "Caf\u00e9" in parse(html, "utf-8").get_text()


def test_download_form_chosen_by_its_button_words_among_several_drop_down_forms():
    html = """<form action=/sort><select name=order><option>name</option></select>
      <input type=submit value=Sort></form>
      <FORM ACTION="http://etma.example/get" METHOD=POST><SELECT NAME=kind>
      <OPTION VALUE=pdf>PDF</OPTION><OPTION VALUE=zip SELECTED>Zip</OPTION></SELECT>
      <BUTTON>Get the files</BUTTON></FORM>"""
    page = read_student_page(html, BASE)
    assert page.download.action == "http://etma.example/get"
    assert page.download.payload() == [("kind", "zip")]
    assert page.download.choices == ("kind = zip (Zip)",)


def test_student_page_in_a_div_layout_gives_code_files_and_form():
    html = """<div id=wrap><div class=rec><div class=k>Confirmation code</div>
      <div class=v><div><span>JK45-LM67</span></div></div></div>
      <ul><li>TMA02_report.docx</li><li>analysis.py</li></ul>
      <form action=dl method=post><input name=t type=hidden value=1>
      <select name=ft><option value=zip>Zip</option></select><input type=image alt=Download>
      </form></div>"""
    page = read_student_page(html, BASE)
    assert page.code == "JK45-LM67"
    assert page.files == ("TMA02_report.docx", "analysis.py")
    assert page.download.action == "https://etma.example/admin/dl"


def test_a_code_is_not_a_word_of_prose_after_the_label():
    page = read_student_page("<p>Confirmation code: none issued yet</p>", BASE)
    assert page.code is None
    assert page.notes[0].startswith("found the code label")


def test_login_page_recognised_by_its_address_when_it_has_no_password_field():
    soup = parse("<p>Choose how to sign in</p><a href=/sso/start>University login</a>")
    assert looks_like_login(soup, url="https://login.example/idp/signin?next=/etma")
    assert not looks_like_login(soup, url="https://etma.example/etma/authors")


# --- the student's name, submission date and late flag, read by meaning -------------------------

CLASSIC_SUBMITTED = """<table border=1>
  <tr><th>Student name</th><td>Zo\u00eb O'Brien</td></tr>
  <tr><th>PI</th><td>P1234567</td></tr>
  <tr><th>Confirmation code:</th><td><b>K7M2-Q9XD</b></td></tr>
  <tr><th>Date submitted</th><td>11/03/2024 14:22</td></tr>
  <tr><th>Late submission</th><td>Yes</td></tr></table>
  <form method=post action=/download><select name=t><option>zip</option></select>
  <input type=submit value=Download></form>"""

VARIANT_SUBMITTED = """<div class=rec><H2>Ravi Singh</H2><DL>
  <DT>Student name</DT><DD>Ravi  Singh</DD><DT>PI</DT><DD>X7654321</DD>
  <DT>Confirmation\u00a0code</DT><DD><STRONG>AB12-CD34</STRONG></DD>
  <DT>Received</DT><DD>Mon 4 Mar 2024, 09:05</DD><DT>Late?</DT><DD>no</DD></DL></div>
  <FORM METHOD=post ACTION=/dl><SELECT NAME=fmt><OPTION>Zip</OPTION></SELECT>
  <BUTTON TYPE=submit>Get files</BUTTON></FORM>"""

CLASSIC_NOTHING = """<table border=1>
  <tr><th>Student name</th><td>Ada Lovelace</td></tr>
  <tr><th>Date submitted</th><td>Not submitted</td></tr></table>
  <p>No files have been submitted for this assignment.</p>"""


def test_name_submission_date_and_late_flag_are_read_from_a_table():
    page = read_student_page(CLASSIC_SUBMITTED, BASE)
    assert page.name == "Zo\u00eb O'Brien"
    assert page.submitted == "2024-03-11T14:22"
    assert page.late is True
    assert page.code == "K7M2-Q9XD" and page.download is not None


def test_name_submission_date_and_late_flag_are_read_from_a_definition_list():
    page = read_student_page(VARIANT_SUBMITTED, BASE)
    assert page.name == "Ravi Singh"  # spaces collapsed
    assert page.submitted == "2024-03-04T09:05"
    assert page.late is False


def test_a_page_with_nothing_submitted_has_no_submission_date():
    page = read_student_page(CLASSIC_NOTHING, BASE)
    assert page.nothing_submitted and page.code is None and page.download is None
    assert page.name == "Ada Lovelace"
    assert page.submitted is None and page.late is None


def test_dates_in_other_shapes_are_read_day_first():
    for shown, expected in (
        ("2024-03-11 14:22", "2024-03-11T14:22"),
        ("11.03.2024", "2024-03-11"),
        ("11 March 2024 at 9:05", "2024-03-11T09:05"),
        ("Monday, 11-Mar-2024 14:22", "2024-03-11T14:22"),
        ("1/3/2024 2:05 pm", "2024-03-01T14:05"),
        ("1st March 2024, 12:30am", "2024-03-01T00:30"),
    ):
        page = read_student_page(f"<p>Date submitted: {shown}</p>", BASE)
        assert page.submitted == expected, shown
    for not_a_date in ("31/02/2024", "soon", "13/13/2024 10:00"):
        page = read_student_page(f"<p>Date submitted: {not_a_date}</p>", BASE)
        assert page.submitted is None, not_a_date


def test_an_empty_name_cell_does_not_take_the_next_label():
    html = "<table><tr><th>Student name</th><td></td></tr><tr><th>PI</th><td>P1</td></tr></table>"
    assert read_student_page(html, BASE).name is None


def test_a_name_with_control_characters_or_too_long_is_not_taken():
    long_name = "A" * 201
    for bad in ("Ada\x1b[31m Lovelace", long_name):
        html = f"<table><tr><th>Student name</th><td>{bad}</td></tr></table>"
        assert read_student_page(html, BASE).name is None, bad
