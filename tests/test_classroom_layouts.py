"""The four class layouts, each read from a small made example of what the platform downloads."""

import datetime as dt

import pytest
import yaml

from autograder.classroom import layouts
from autograder.classroom.commands import expected_files, opened_class
from conftest import ROOT

EXPECTED = ["gmm.py", "gmm.ipynb", "vae.py", "vae.ipynb"]
BERLIN = "Europe/Berlin"


def write(path, text="x = 1\n"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_plain_folder_of_folders_and_zips(tmp_path):
    write(tmp_path / "alice" / "gmm.py")
    write(tmp_path / "bob.zip", b"PK...")
    write(tmp_path / ".DS_Store")
    (tmp_path / "__MACOSX").mkdir()
    assert layouts.detect(tmp_path) == "plain"
    found = layouts.read(tmp_path, "plain", EXPECTED)
    assert [(s.key, s.students[0].id, s.entries[0].path.name) for s in found] == [
        ("alice", "alice", "alice"), ("bob", "bob", "bob.zip")]
    assert all(s.submitted_at is None for s in found)


def test_plain_student_folder_that_is_a_symlink_is_not_followed(tmp_path):
    write(tmp_path / "elsewhere" / "gmm.py")
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "eve").symlink_to(tmp_path / "elsewhere")
    (student,) = layouts.read(tmp_path / "class", "plain", EXPECTED)
    assert student.entries == () and student.problems[0][0] == "symlink"


def gradescope_export(root):
    """Gradescope's "Export Submissions": Ruby-symbol keys, Ruby times, a group submission."""
    base = root / "assignment_4242_export"
    write(base / "submission_111" / "gmm.py")
    write(base / "submission_222" / "gmm.ipynb", "{}")
    (base / "submission_metadata.yml").write_text(
        "submission_111:\n"
        "  :submitters:\n"
        "  - :name: Ada Lovelace\n"
        "    :sid: '1815'\n"
        "    :email: ada@example.edu\n"
        "  :created_at: 2026-12-05 10:00:00.123456000 +01:00\n"
        "  :score: 0.0\n"
        "  :status: processed\n"
        "submission_222:\n"
        "  :submitters:\n"
        "  - :name: Pair One\n"
        "    :sid: '1'\n"
        "    :email: one@example.edu\n"
        "  - :name: Pair Two\n"
        "    :sid: '2'\n"
        "    :email: two@example.edu\n"
        "  :created_at: 2026-12-03 23:00:00.000000000 -08:00\n"
        "submission_333:\n"
        "  :submitters:\n"
        "  - :name: No Files\n"
        "    :sid: '3'\n"
        "  :created_at: 2026-12-01 09:00:00.000000000 +00:00\n",
        encoding="utf-8")
    return base


def test_gradescope_export_identity_time_and_groups(tmp_path):
    gradescope_export(tmp_path)
    assert layouts.detect(tmp_path) == "gradescope"
    by_key = {s.key: s for s in layouts.read(tmp_path, "gradescope", EXPECTED)}
    ada = by_key["submission_111"]
    assert ada.students == (layouts.Student("1815", "Ada Lovelace", "ada@example.edu"),)
    assert ada.submitted_at == dt.datetime(2026, 12, 5, 9, 0, 0, 123456, tzinfo=dt.timezone.utc)
    pair = by_key["submission_222"]
    assert [s.id for s in pair.students] == ["1", "2"]
    assert pair.submitted_at.utcoffset() == dt.timedelta(hours=-8)
    assert by_key["submission_333"].entries == () and by_key["submission_333"].problems[0][0] == "empty"


def test_gradescope_export_as_the_downloaded_zip(tmp_path):
    import shutil

    gradescope_export(tmp_path / "unzipped")
    shutil.make_archive(str(tmp_path / "export"), "zip", tmp_path / "unzipped")
    with opened_class(tmp_path / "export.zip") as folder:
        assert layouts.detect(folder) == "gradescope"
        assert len(layouts.read(folder, "gradescope", EXPECTED)) == 3


def test_canvas_download_names_late_renames_and_anonymous(tmp_path):
    write(tmp_path / "lovelaceada_1815_900_gmm.py", "old = 1\n")
    write(tmp_path / "lovelaceada_1815_901_gmm-1.py", "new = 2\n")  # a re-upload Canvas renamed
    write(tmp_path / "lovelaceada_1815_902_notes-1.txt")  # not a course file: left as named
    write(tmp_path / "babbagecharles_LATE_1791_903_vae.py")
    write(tmp_path / "anon_x7Qp2_904_gmm.py")
    write(tmp_path / "babbagecharles_1791_text.html")  # a text entry, not a file upload
    assert layouts.detect(tmp_path) == "canvas"
    by_user = {s.students[0].id: s for s in layouts.read(tmp_path, "canvas", EXPECTED)}
    ada = by_user["1815"]
    assert ada.students[0].name == "lovelaceada" and not ada.marked_late
    assert {e.name: e.path.name for e in ada.entries} == {
        "gmm.py": "lovelaceada_1815_901_gmm-1.py", "notes-1.txt": "lovelaceada_1815_902_notes-1.txt"}
    assert ada.problems[0][0] == "two-files" and "gmm-1.py" in ada.problems[0][1]
    assert by_user["1791"].marked_late and by_user["1791"].submitted_at is None
    assert [e.name for e in by_user["anon_x7Qp2"].entries] == ["gmm.py"]


def test_nbgrader_submitted_tree_with_timestamps(tmp_path):
    base = tmp_path / "course" / "submitted"
    write(base / "ada" / "ps1" / "gmm.ipynb", "{}")
    write(base / "ada" / "ps1" / "timestamp.txt", "2026-12-05 10:30:00.000000 UTC")
    write(base / "bob" / "ps1" / "gmm.py")
    write(base / "bob" / "ps1" / "timestamp.txt", "2026-12-04 23:30:00.500000 CET")  # a zone dateutil cannot place
    for root in (tmp_path / "course", base):
        assert layouts.detect(root) == "nbgrader"
    by_key = {s.key: s for s in layouts.read(tmp_path / "course", "nbgrader", EXPECTED, BERLIN)}
    assert by_key["ada"].submitted_at == dt.datetime(2026, 12, 5, 10, 30, tzinfo=dt.timezone.utc)
    bob = by_key["bob"].submitted_at
    assert bob.replace(tzinfo=None) == dt.datetime(2026, 12, 4, 23, 30, 0, 500000) and bob.utcoffset() == dt.timedelta(hours=1)
    assert [e.path.name for e in by_key["ada"].entries] == ["ps1"]


def test_ambiguous_and_empty_folders_are_refused_with_a_hint(tmp_path):
    gradescope_export(tmp_path)
    write(tmp_path / "submitted" / "ada" / "ps1" / "gmm.py")
    with pytest.raises(layouts.LayoutError, match="more than one layout .* --layout"):
        layouts.detect(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(layouts.LayoutError, match="holds no submissions"):
        layouts.detect(tmp_path / "empty")


def test_keys_are_safe_folder_names_and_stay_unique():
    assert layouts.safe_key("alice") == "alice"
    odd = layouts.safe_key("../Ä bad/name")
    assert "/" not in odd and ".." not in odd and odd != layouts.safe_key("../A bad/name")


def test_expected_files_cover_scripts_and_notebooks(course):
    names = expected_files(course)
    assert "gmm.py" in names and "gmm.ipynb" in names and len(names) == 2 * len(course.exercises)


def test_gradescope_metadata_is_yaml_that_the_made_class_writes(tmp_path, course):
    from autograder.classroom import madeclass

    madeclass.write_class(ROOT, course, tmp_path / "gs", layout="gradescope")
    metadata = yaml.safe_load((tmp_path / "gs" / "submission_metadata.yml").read_text())
    assert all(":submitters" in info and ":created_at" in info for info in metadata.values())
    assert layouts.detect(tmp_path / "gs") == "gradescope"
