"""The right-click menu on a student row, through the browser's own context menu, in Chromium and
in Firefox.

A headless browser cannot open its real menu (a WebDriver right-click there only fires the
page's ``contextmenu`` event), so these tests run the browser headed on a virtual screen (Xvfb):
the browser's right-click opens its real menu, and xdotool presses the keys that choose the
extension's item (``tests/browsers/screen.py``), which fires the real ``contextMenus.onClicked``
in the background.
"""

from __future__ import annotations

DOWNLOAD, CODE = 0, 1  # the row menu's items


def test_right_click_downloads_that_students_scripts(headed, screen, sites, cohort, installed):
    student = next(s for s in cohort.students[8:] if s.files)
    headed.open_allocation(sites)
    headed.choose_from_row_menu(screen, student.pi, DOWNLOAD)

    states = headed.wait_for_finished_rows(1)
    assert states[student.pi] == "done"
    module_folder = installed.download_root / "TM351" / "TMA02"
    folder = module_folder / student.pi
    assert sorted(p.name for p in folder.rglob("*") if p.is_file())
    assert [p.name for p in module_folder.iterdir() if p.is_dir()] == [student.pi]


def test_right_click_gets_that_students_code(headed, screen, sites, cohort):
    student = cohort.students[12]
    headed.open_allocation(sites)
    headed.choose_from_row_menu(screen, student.pi, CODE)

    headed.wait_for_rows(lambda s: s.get(student.pi) == "done", f"{student.pi} done")
    assert headed.status_text(student.pi) == f"Code {student.code}"


def test_a_page_cannot_point_the_row_menu_at_another_student(headed, screen, sites, cohort):
    chosen, other = cohort.students[16], cohort.students[17]
    headed.open_allocation(sites)
    # The page answers the tutor's real right-click with a made-up one on the next row, before
    # the tutor picks the menu item.
    headed.run(
        "(pi) => { const other = document.querySelector(`tr[data-etma-pi='${pi}'] td`);"
        " document.addEventListener('contextmenu', (event) => {"
        "  if (!event.isTrusted) return;"
        "  setTimeout(() => other.dispatchEvent(new MouseEvent('contextmenu',"
        "    {bubbles: true, cancelable: true, button: 2})), 0);"
        " }, true); }",
        other.pi,
    )
    headed.choose_from_row_menu(screen, chosen.pi, CODE)

    headed.wait_for_rows(lambda s: s.get(chosen.pi) == "done", f"{chosen.pi} done")
    assert headed.row_states().get(other.pi) in (None, "idle")
