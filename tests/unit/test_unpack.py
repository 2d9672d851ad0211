"""Unpacking students' zips: every hostile name stays inside the folder; bombs are refused."""

import stat
import zipfile

import pytest

from etma_helper.safe_names import safe_component, safe_relative_path
from etma_helper.unpack import UnsafeZip, ZipLimits, move_into, unpack


def make_zip(path, members, *, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members:
            if isinstance(name, zipfile.ZipInfo):
                archive.writestr(name, data)
            else:
                archive.writestr(name, data)
    return path


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("../../etc/passwd", ("etc", "passwd")),
        ("/abs/file.txt", ("abs", "file.txt")),
        ("C:\\Windows\\evil.txt", ("Windows", "evil.txt")),
        ("a/./b/../c.txt", ("a", "b", "c.txt")),
        ("CON.txt", ("_CON.txt",)),
        ("report?.docx", ("report_.docx",)),
        ("trailing. ", ("trailing",)),
    ],
)
def test_names_are_made_safe(raw, expected):
    assert safe_relative_path(raw) == expected


def test_over_long_names_are_cut_keeping_the_extension():
    name = safe_component("x" * 300 + ".ipynb")
    assert len(name.encode()) <= 120 and name.endswith(".ipynb")


def test_traversal_and_absolute_members_land_inside(tmp_path):
    archive = make_zip(tmp_path / "a.zip", [("../../escape.txt", b"1"), ("/root.txt", b"2")])
    dest = tmp_path / "out"
    files = [f.path for f in unpack(archive, dest)]
    assert sorted(files) == ["escape.txt", "root.txt"]
    assert not (tmp_path / "escape.txt").exists()
    assert (dest / "escape.txt").read_bytes() == b"1"


def test_symlink_members_are_not_written(tmp_path):
    link = zipfile.ZipInfo("link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = make_zip(tmp_path / "a.zip", [(link, "/etc/passwd"), ("real.txt", b"ok")])
    assert [f.path for f in unpack(archive, tmp_path / "out")] == ["real.txt"]
    assert not (tmp_path / "out" / "link").exists()


def test_names_differing_only_in_case_both_survive(tmp_path):
    archive = make_zip(tmp_path / "a.zip", [("Report.txt", b"1"), ("report.txt", b"2")])
    files = [f.path for f in unpack(archive, tmp_path / "out")]
    assert files == ["Report.txt", "report (2).txt"]


def test_zip_bomb_refused_by_ratio(tmp_path):
    archive = make_zip(tmp_path / "bomb.zip", [("zeros.bin", b"\0" * 5_000_000)])
    with pytest.raises(UnsafeZip, match="zip bomb"):
        unpack(archive, tmp_path / "out")


def test_too_many_entries_refused(tmp_path):
    archive = make_zip(tmp_path / "many.zip", [(f"f{i}.txt", b"x") for i in range(30)])
    with pytest.raises(UnsafeZip, match="30 files"):
        unpack(archive, tmp_path / "out", ZipLimits(max_entries=20))


def test_total_size_limit_counts_real_bytes(tmp_path):
    archive = make_zip(
        tmp_path / "big.zip", [("a.bin", bytes(range(256)) * 100)], compression=zipfile.ZIP_STORED
    )
    with pytest.raises(UnsafeZip, match="allowed size"):
        unpack(archive, tmp_path / "out", ZipLimits(max_total_bytes=1000))


def test_not_a_zip_is_a_clear_failure(tmp_path):
    bogus = tmp_path / "x.zip"
    bogus.write_bytes(b"<html>login</html>")
    with pytest.raises(UnsafeZip, match="not a valid zip"):
        unpack(bogus, tmp_path / "out")


def test_utf8_names_without_the_flag_are_read_as_utf8(tmp_path):
    path = tmp_path / "legacy.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("placeholder")
        archive.writestr(info, b"n")
    raw = path.read_bytes().replace(b"placeholder", "Zoë_not.tx".encode())
    path.write_bytes(raw)
    assert [f.path for f in unpack(path, tmp_path / "out")] == ["Zoë_not.tx"]


def test_move_into_keeps_the_tutors_own_files(tmp_path):
    staging, folder = tmp_path / "staging", tmp_path / "P1234567"
    (staging / "code").mkdir(parents=True)
    (staging / "code" / "a.py").write_text("new")
    folder.mkdir()
    (folder / "my_marking_notes.txt").write_text("mine")
    move_into(staging, folder, ["code/a.py"])
    assert (folder / "code" / "a.py").read_text() == "new"
    assert (folder / "my_marking_notes.txt").read_text() == "mine"


def test_move_into_a_new_folder_moves_every_file_and_leaves_staging_empty(tmp_path):
    members = [("a.txt", b"1"), ("code/b.py", b"2"), ("x/y/z.md", b"3")]
    archive = make_zip(tmp_path / "s.zip", members)
    staging, folder = tmp_path / "stage" / "files", tmp_path / "module" / "P1234567"
    folder.parent.mkdir()
    files = unpack(archive, staging)
    move_into(staging, folder, [f.path for f in files])
    moved = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert moved == ["a.txt", "code/b.py", "x/y/z.md"]
    assert (folder / "x" / "y" / "z.md").read_bytes() == b"3"
    assert not staging.exists()


def test_move_into_a_folder_whose_parent_is_missing_creates_it(tmp_path):
    staging, folder = tmp_path / "staging", tmp_path / "new" / "module" / "P1234567"
    (staging / "code").mkdir(parents=True)
    (staging / "code" / "a.py").write_text("new")
    move_into(staging, folder, ["code/a.py"])
    assert (folder / "code" / "a.py").read_text() == "new"


def test_a_file_and_a_folder_of_the_same_name_fail_with_a_reason(tmp_path):
    archive = make_zip(tmp_path / "clash.zip", [("a", b"file"), ("a/b.txt", b"inside")])
    with pytest.raises(UnsafeZip, match="clashes with another entry"):
        unpack(archive, tmp_path / "out")
