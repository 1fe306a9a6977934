"""Each bad submission gets a clear status and what can be graded is staged; nothing raises, nothing escapes."""

import io
import os
import zipfile

import nbformat
import pytest

from autograder.classroom.layouts import Entry, Student, Submission
from autograder.classroom.staging import MAX_MEMBERS, fresh_folder, stage, status_of
from conftest import solution_source

REFERENCE = solution_source("gmm")


@pytest.fixture
def gmm(course):
    return [course.exercise("gmm")]


def zip_bytes(files: dict, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def staged(tmp_path, exercises, files: dict = None, entry_path=None):
    """Stage a plain-layout submission made of `files` (name -> bytes), or of the item at `entry_path`."""
    if entry_path is None:
        entry_path = tmp_path / "alice"
        for name, data in (files or {}).items():
            (entry_path / name).parent.mkdir(parents=True, exist_ok=True)
            (entry_path / name).write_bytes(data)
        entry_path.mkdir(exist_ok=True)
    submission = Submission("alice", (Student("alice"),), (Entry("", entry_path),), "plain", entry_path.name)
    return stage(submission, fresh_folder(tmp_path / "staged"), exercises)


def codes(result):
    return [code for code, _ in result.problems]


def test_a_clean_submission_is_ok_and_its_source_kept(tmp_path, gmm):
    result = staged(tmp_path, gmm, {"gmm.py": REFERENCE.encode()})
    assert status_of(result.problems) == "ok"
    assert result.sources["gmm"] == ("gmm.py", REFERENCE)


def test_content_hash_follows_content_not_location(tmp_path, gmm):
    first = staged(tmp_path / "a", gmm, {"gmm.py": REFERENCE.encode()})
    again = staged(tmp_path / "b", gmm, {"gmm.py": REFERENCE.encode()})
    changed = staged(tmp_path / "c", gmm, {"gmm.py": (REFERENCE + "\n# edited\n").encode()})
    assert first.content_hash == again.content_hash != changed.content_hash


def test_corrupt_zip(tmp_path, gmm):
    (tmp_path / "alice.zip").write_bytes(b"PK\x03\x04 truncated nonsense")
    result = staged(tmp_path, gmm, entry_path=tmp_path / "alice.zip")
    assert codes(result) == ["corrupt-zip"] and "not a readable zip" in result.problems[0][1]


def test_zip_bomb_by_ratio_is_not_unpacked(tmp_path, gmm):
    (tmp_path / "alice.zip").write_bytes(zip_bytes({"gmm.py": REFERENCE, "padding.bin": b"\0" * (20 << 20)}))
    result = staged(tmp_path, gmm, entry_path=tmp_path / "alice.zip")
    assert "zip-bomb" in codes(result)
    assert not any(result.folder.iterdir())


def test_zip_with_too_many_members(tmp_path, gmm):
    (tmp_path / "alice.zip").write_bytes(zip_bytes({f"f{i}.txt": "" for i in range(MAX_MEMBERS + 1)}))
    assert "zip-bomb" in codes(staged(tmp_path, gmm, entry_path=tmp_path / "alice.zip"))


def test_zip_with_an_unsafe_path(tmp_path, gmm):
    (tmp_path / "alice.zip").write_bytes(zip_bytes({"../../escape.py": "x = 1", "gmm.py": REFERENCE}))
    result = staged(tmp_path, gmm, entry_path=tmp_path / "alice.zip")
    assert "corrupt-zip" in codes(result) and "unsafe path" in result.problems[0][1]
    assert not (tmp_path / "escape.py").exists()


def test_zip_of_a_folder_is_unwrapped(tmp_path, gmm):
    (tmp_path / "alice.zip").write_bytes(zip_bytes({"hw1/gmm.py": REFERENCE, "__MACOSX/hw1/._gmm.py": "junk"}))
    result = staged(tmp_path, gmm, entry_path=tmp_path / "alice.zip")
    assert status_of(result.problems) == "ok" and result.sources["gmm"][0] == "gmm.py"


def test_symlink_in_a_zip_is_skipped(tmp_path, gmm):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("gmm.py")
        link.external_attr = (0o120777 << 16)
        archive.writestr(link, "/etc/passwd")
    (tmp_path / "alice.zip").write_bytes(buffer.getvalue())
    result = staged(tmp_path, gmm, entry_path=tmp_path / "alice.zip")
    assert "symlink" in codes(result) and "gmm" not in result.sources


def test_non_json_notebook(tmp_path, gmm):
    result = staged(tmp_path, gmm, {"gmm.ipynb": b"this is not json {"})
    assert codes(result) == ["bad-notebook"]


def test_non_utf8_source(tmp_path, gmm):
    result = staged(tmp_path, gmm, {"gmm.py": "# Größe\n".encode("latin-1") + REFERENCE.encode()})
    assert codes(result) == ["not-utf8"] and "not UTF-8" in result.problems[0][1]


def test_missing_file(tmp_path, gmm):
    result = staged(tmp_path, gmm, {"GMM_final.py": REFERENCE.encode()})
    assert codes(result) == ["missing-file"] and "no gmm.py or gmm.ipynb" in result.problems[0][1]


def test_file_in_a_sub_folder_is_graded_there(tmp_path, gmm):
    result = staged(tmp_path, gmm, {"code/gmm.py": REFERENCE.encode(), "README.md": b"hi"})
    assert codes(result) == ["subfolder"] and result.sources["gmm"][0] == "code/gmm.py"


def test_symlinked_file_and_folder_are_not_followed(tmp_path, gmm):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "gmm.py").write_text(REFERENCE)
    folder = tmp_path / "alice"
    folder.mkdir()
    (folder / "gmm.py").symlink_to(secret / "gmm.py")
    (folder / "more").symlink_to(secret)
    result = staged(tmp_path, gmm, entry_path=folder)
    assert codes(result).count("symlink") == 2 and "gmm" not in result.sources
    assert status_of(result.problems) == "missing-file; symlink"


def test_fifo_is_skipped_without_hanging(tmp_path, gmm):
    folder = tmp_path / "alice"
    folder.mkdir()
    os.mkfifo(folder / "gmm.py")
    assert "symlink" in codes(staged(tmp_path, gmm, entry_path=folder))


def test_empty_submission(tmp_path, gmm):
    result = staged(tmp_path, gmm, {})
    assert codes(result) == ["empty"]


def test_two_files_for_one_exercise_names_the_one_graded(tmp_path, gmm):
    notebook = nbformat.writes(nbformat.v4.new_notebook()).encode()
    result = staged(tmp_path, gmm, {"gmm.py": REFERENCE.encode(), "gmm.ipynb": notebook})
    assert codes(result) == ["two-files"] and "graded gmm.py, not gmm.ipynb" in result.problems[0][1]


def test_statuses_are_ordered_worst_first():
    assert status_of([("subfolder", ""), ("corrupt-zip", ""), ("subfolder", "")]) == "corrupt-zip; subfolder"
    assert status_of([]) == "ok"
