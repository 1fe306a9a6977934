"""Which isolation student code gets, said in the results; a refusal, with the fix, where none is safe.

The red-team tests (tests/test_redteam_*.py) attack both levels; these check how the level is chosen.
"""

import json
import os
import subprocess
import sys
import threading

import pytest

from autograder import sandbox, sandbox_users
from conftest import ROOT
from redteam import bubblewrap_available, grade, mode_env, private_course, sandbox_python

REFERENCE = (ROOT / "solutions/gmm/gmm.py").read_text(encoding="utf-8")
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs a root grader")


def reference_submission(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "gmm.py").write_text(REFERENCE)
    return tmp_path / "sub"


def grade_in_place(tmp_path, env, *extra):
    """`course grade` on the reference from this checkout (whose files every user can read)."""
    output = tmp_path / "results.json"
    done = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", str(reference_submission(tmp_path)),
                           "--exercise", "gmm", "--output", str(output), "--device", "cpu", "--quiet", *extra],
                          cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300)
    return done, (json.loads(output.read_text()) if done.returncode == 0 else None)


@pytest.mark.skipif(not bubblewrap_available(), reason="bubblewrap does not work here")
def test_bubblewrap_is_used_when_it_works(tmp_path):
    done, results = grade_in_place(tmp_path, {})
    assert done.returncode == 0, done.stderr
    assert results["score"] == pytest.approx(20)
    assert "weaker isolation" not in results["output"] and "NOT ISOLATED" not in results["output"]


@root_only
def test_fallback_refuses_when_the_sandbox_user_cannot_run_python(tmp_path):
    """The machine's own Python lives in root's home: the sandbox user cannot run it, and the grader says what to do."""
    done, _ = grade_in_place(tmp_path, {"COURSE_SANDBOX": "fallback", "COURSE_SANDBOX_PYTHON": ""})
    assert done.returncode == 2
    message = done.stderr
    if "cannot run" not in message:
        pytest.skip("this machine's Python is readable by other users")
    assert "course sandbox-python" in message and "--no-isolation" in message and "bubblewrap" in message


@root_only
def test_fallback_refuses_when_the_course_is_readable(tmp_path):
    done, _ = grade_in_place(tmp_path, {"COURSE_SANDBOX": "fallback", "COURSE_SANDBOX_PYTHON": str(sandbox_python())})
    assert done.returncode == 2
    assert "can read" in done.stderr and str(ROOT / "solutions") in done.stderr and "chmod 700" in done.stderr


@root_only
def test_fallback_grades_and_says_it_is_weaker(tmp_path):
    graded = grade(private_course(tmp_path / "private"), reference_submission(tmp_path), "fallback",
                   tmp_path / "results.json")
    assert graded.returncode == 0, graded.stderr
    assert graded.results["score"] == pytest.approx(20)
    assert "weaker isolation" in graded.results["output"]


def test_no_isolation_grades_and_says_so(tmp_path):
    done, results = grade_in_place(tmp_path, {"COURSE_SANDBOX": "fallback", "COURSE_SANDBOX_PYTHON": ""}, "--no-isolation")
    assert done.returncode == 0, done.stderr
    assert results["score"] == pytest.approx(20)
    assert "NOT ISOLATED (--no-isolation)" in results["output"]


@root_only
def test_sandbox_python_hides_banned_modules_from_exercises_that_ban_them():
    python = str(sandbox_python())
    mode_env("fallback")
    probe = "from sklearn.mixture import GaussianMixture; import numpy; print('ok')"
    with sandbox_users.sandbox_user() as uid:
        banned = sandbox.run_as(uid, [python, "-I", "-c", probe])
        gid = os.stat(os.path.dirname(python) + "/../base/lib/python3.11/site-packages/sklearn/mixture").st_gid
        allowed = sandbox.run_as(uid, [python, "-I", "-c", probe], groups=(gid,))
    assert banned.returncode != 0 and "ImportError" in banned.stderr
    assert allowed.returncode == 0 and allowed.stdout.strip() == "ok", allowed.stderr


@root_only
def test_concurrent_sandboxes_get_different_users_and_everything_is_killed():
    borrowed, release = [], threading.Event()

    def borrow():
        with sandbox_users.sandbox_user() as uid:
            borrowed.append(uid)
            release.wait(10)

    threads = [threading.Thread(target=borrow) for _ in range(3)]
    for thread in threads:
        thread.start()
    while len(borrowed) < 3:
        pass
    release.set()
    for thread in threads:
        thread.join()
    assert len(set(borrowed)) == 3
    with sandbox_users.sandbox_user() as uid:
        started = sandbox.run_as(uid, ["/bin/sh", "-c", "for i in 1 2 3; do (setsid sleep 600 >/dev/null 2>&1 &); done; echo forked"])
        assert started.stdout.strip() == "forked"
        assert len(sandbox_users.processes_of(uid)) == 3  # daemons in sessions of their own, parents gone
        left = f"/tmp/course-test-{uid}"
        open(left, "w").close()
        os.chown(left, uid, uid)
    assert sandbox_users.processes_of(uid) == []
    assert not os.path.exists(left)
