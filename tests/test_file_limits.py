"""The kernel bounds what a sandbox writes where a root grader can set that up (`autograder.file_limits`).

The red-team attacks in tests/test_redteam_sandbox.py go through `course grade`; these look at each bound itself.
"""

import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from autograder import file_limits, sandbox, sandbox_users
from autograder.executor import describe_error
from conftest import ROOT

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs a root grader")
UID = sandbox_users.uid_range()[0]


@pytest.fixture
def box(tmp_path):
    folder = tmp_path / "box"
    folder.mkdir(mode=0o700)
    if not file_limits.bounded_box(folder, 1 << 20, 50, UID):
        pytest.skip("this machine does not let the grader mount a tmpfs")
    yield folder
    file_limits.release_box(folder)


@root_only
def test_the_box_refuses_bytes_past_its_budget(box):
    assert (box.stat().st_uid, oct(box.stat().st_mode & 0o777)) == (UID, "0o700")
    assert not file_limits.box_is_full(box)
    with pytest.raises(OSError) as refused, open(box / "hog", "wb") as handle:
        for _ in range(8):
            handle.write(b"x" * (256 << 10))
            handle.flush()
    assert refused.value.errno == errno.ENOSPC
    assert (box / "hog").stat().st_size <= 1 << 20
    assert file_limits.box_is_full(box)


@root_only
def test_the_box_refuses_entries_past_its_budget(box):
    with pytest.raises(OSError) as refused:
        for index in range(100):
            (box / f"empty-{index}").touch()
    assert refused.value.errno == errno.ENOSPC
    assert len(os.listdir(box)) == 50
    assert file_limits.box_is_full(box)


@root_only
def test_releasing_the_box_leaves_an_empty_folder(tmp_path):
    folder = tmp_path / "box"
    folder.mkdir()
    if not file_limits.bounded_box(folder, 1 << 20, 50, UID):
        pytest.skip("this machine does not let the grader mount a tmpfs")
    (folder / "left").write_text("behind")
    file_limits.release_box(folder)
    assert os.listdir(folder) == [] and not os.path.ismount(folder)
    file_limits.release_box(folder)  # nothing mounted: nothing happens


@root_only
def test_a_box_a_killed_grader_left_mounted_is_released_when_its_uid_is_borrowed_again(tmp_path):
    """Only boxes of the uid held (no live grader can be using it): another uid's box stays."""
    first, last = sandbox_users.uid_range()
    with sandbox_users.sandbox_user() as uid:
        other = last + 1  # outside the pool: never a live grader's
        boxes = {}
        for owner in (uid, other):
            box = tmp_path / f"course-grade-{owner}" / "box"
            box.mkdir(parents=True)
            if not file_limits.bounded_box(box, 1 << 20, 50, owner):
                pytest.skip("this machine does not let the grader mount a tmpfs")
            boxes[owner] = box
        try:
            assert file_limits.release_stale_boxes(uid) == [str(boxes[uid])]
            assert not boxes[uid].parent.exists() and os.path.ismount(boxes[other])
        finally:
            for box in boxes.values():
                file_limits.release_box(box)


@root_only
def test_a_sandbox_user_cannot_create_files_in_world_writable_folders_but_reaches_paths_through_them():
    if shutil.which("setfacl") is None:
        pytest.skip("setfacl (Debian package acl) is not installed")
    closed = file_limits.close_world_writable()
    temp = tempfile.gettempdir()
    assert temp in closed
    reachable = Path(tempfile.mkdtemp(prefix="course-file-limits-"))
    try:
        reachable.chmod(0o755)
        (reachable / "note").write_text("readable")
        (reachable / "note").chmod(0o644)
        with sandbox_users.sandbox_user() as uid:  # held: a grader beside this test borrows (and kills) the others
            for folder in closed:
                made = sandbox.run_as(uid, ["touch", os.path.join(folder, f"course-file-limits-{os.getpid()}")])
                assert made.returncode != 0 and "Permission denied" in made.stderr, (folder, made)
            listed = sandbox.run_as(uid, ["ls", temp])
            assert listed.returncode != 0, "the sandbox can list /tmp"
            read = sandbox.run_as(uid, ["cat", str(reachable / "note")])
            assert read.stdout == "readable", read
    finally:
        shutil.rmtree(reachable)


@root_only
def test_the_shared_group_is_outside_the_pool_and_the_banned_module_groups():
    from autograder.sandbox_python import BANNED_GID

    first, last = sandbox_users.uid_range()
    gid = sandbox_users.shared_gid()
    assert gid is not None and not first <= gid <= last and gid < BANNED_GID


@pytest.mark.parametrize("message, problem", [
    ("[Errno 28] No space left on device: 'hog/3'", "files"),
    ("[Errno 27] File too large", "files"),
    ("[Errno 2] No such file or directory: 'data.npz'", "exception"),
])
def test_a_write_the_kernel_refused_is_charged_to_the_files_limit(message, problem):
    kind, feedback = describe_error({"type": "OSError", "message": message, "where": {"function": "fit_gmm"}})
    assert kind == problem
    assert ("wrote more than" in feedback) == (problem == "files") and message in feedback


def test_a_check_that_leaks_every_descriptor_still_gets_its_error_recorded(tmp_path):
    """The runner frees a spare descriptor before writing a result: code at the open-files limit is told so."""
    student = tmp_path / "leaky.py"
    student.write_text("import os\ndef leak():\n    while True:\n        os.open(os.devnull, os.O_RDONLY)\n")
    probes = tmp_path / "leaky_probes.py"
    probes.write_text("from autograder.sandboxed.probekit import ProbeSet\nPROBES = ProbeSet()\n\n"
                      "@PROBES.probe()\ndef leaks(module, inputs, device):\n    module.leak()\n")
    (tmp_path / "inputs").mkdir()
    (tmp_path / "out").mkdir()
    script = ("import resource, sys; resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64)); "
              f"sys.path[:0] = [{str(ROOT)!r}, {str(tmp_path)!r}]; "
              "from autograder.sandboxed.runner import run_probes; "
              f"sys.exit(run_probes('leaky_probes', {str(student)!r}, 'leaky', {str(tmp_path / 'inputs')!r}, "
              f"{str(tmp_path / 'out')!r}, ['leaks']))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    error = json.loads((tmp_path / "out" / "leaks.json").read_text())["error"]
    kind, feedback = describe_error(error)
    assert "opened more files at once than the sandbox allows" in feedback and "Too many open files" in feedback


def test_a_result_that_could_not_be_written_is_not_blamed_on_exit():
    from autograder.executor import _ended
    from autograder.sandboxed.runner import UNWRITABLE

    message = _ended(UNWRITABLE)
    assert "could not be written" in message and "exit()" not in message
