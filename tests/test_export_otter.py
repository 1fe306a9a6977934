"""`course export otter` with the real otter-grader: `otter assign` accepts the master notebooks,
`otter run` gives every submission the score `course grade` gives it (to 1e-6 of the exercise's
points) and the same feedback, the student notebook holds nothing hidden, and a one-line
`builtins` patch changes otter's verdict but not ours."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from autograder.exports import leakcheck
from autograder.exports.otter import export_otter
from autograder.exports.requirements import declared
from conftest import ROOT
from export_submissions import (BIN, ENV, EXPORTED, IMPORT_PATCH, baseline, cache_dir, lost_feedback,  # noqa: F401
                                run_tool, same_score, submissions, with_answer, without_numbers)



@pytest.fixture(scope="session")
def otter_export(course, tmp_path_factory):
    """The otter export of the core exercises, flows and diffusion (written once per session)."""
    out = tmp_path_factory.mktemp("otter-export")
    export_otter(ROOT, course, out, [course.exercise(e) for e in EXPORTED], declared(ROOT), log=lambda *_: None)
    return out


@pytest.fixture(scope="session")
def assigned(otter_export):
    """exercise id -> (student notebook, autograder zip), `otter assign` run once per exercise."""
    done = {}

    def assign(exercise_id):
        if exercise_id not in done:
            folder = otter_export / exercise_id
            run_tool("otter", "assign", f"{exercise_id}.ipynb", "dist", cwd=folder)
            zips = sorted((folder / "dist" / "autograder").glob(f"{exercise_id}-autograder_*.zip"))
            assert len(zips) == 1, zips
            done[exercise_id] = (folder / "dist" / "student" / f"{exercise_id}.ipynb", zips[0])
        return done[exercise_id]

    return assign


def _is_answer(cell) -> bool:
    return "otter_answer_cell" in cell.get("metadata", {}).get("tags", [])


def otter_run(assignment, source: str, folder: Path) -> dict:
    """results.json of `otter run` on the student notebook with `source` as its answer."""
    student, autograder = assignment
    folder.mkdir(parents=True)
    exercise_id = student.stem
    nbformat.write(with_answer(student, source, _is_answer), folder / f"{exercise_id}.ipynb")
    run_tool("otter", "run", "-a", str(autograder), "-o", str(folder), "--no-logo", f"{exercise_id}.ipynb", cwd=folder)
    return json.loads((folder / "results.json").read_text(encoding="utf-8"))


def question(results: dict, name: str) -> dict:
    [found] = [t for t in results["tests"] if t["name"] == name]
    return found


@pytest.mark.parametrize("exercise_id", EXPORTED)
def test_otter_scores_and_feedback_equal_course_grade(exercise_id, assigned, course, cache_dir, tmp_path):
    assignment = assigned(exercise_id)
    points = course.exercise(exercise_id).points
    for label, source in submissions(exercise_id).items():
        expected = baseline(course, exercise_id, source, cache_dir, tmp_path)
        results = otter_run(assignment, source, tmp_path / label)
        graded = question(results, exercise_id)
        if label in ("reference", "stub"):  # the public checks (worth no points) run too
            assert question(results, "Public Tests")["status"] == ("passed" if label == "reference" else "failed")
        assert graded["max_score"] == pytest.approx(points, abs=1e-6 * points), label
        assert same_score(graded["score"], expected["score"], points), \
            f"{exercise_id}/{label}: otter {graded['score']} vs course grade {expected['score']}\n{graded['output']}"
        for name, feedback in lost_feedback(expected):
            assert f"{name}" in graded["output"] and feedback in without_numbers(graded["output"]), \
                f"{exercise_id}/{label}: otter's feedback lacks {name!r}: {feedback!r}\n{graded['output']}"
        if not lost_feedback(expected):
            assert "All test cases passed" in graded["output"], graded["output"]


def test_otter_student_notebook_holds_nothing_hidden(assigned):
    """The student side of `otter assign` passes the release's leak check: no answer, no hidden
    check, no reference output; the answer cell is the course's stub."""
    student, _ = assigned("vae")
    assert leakcheck.scan(student.parent, leakcheck.secrets(ROOT)) == []
    [answer] = [c for c in nbformat.read(student, as_version=4).cells if _is_answer(c)]
    stub = (ROOT / "exercises" / "vae" / "vae.py").read_text(encoding="utf-8")
    assert answer.source.strip() == stub.split("\n", 1)[1].strip()  # the stub without its generated-by line
    assert "otter_case" not in student.read_text(encoding="utf-8")


def test_a_builtins_patch_changes_otters_verdict_but_not_course_grade(assigned, course, cache_dir, tmp_path):
    """In otter the checks run in the student's kernel: one line appended to the stub earns full
    marks there, while `course grade` (checks outside the student's process) still gives 0."""
    patched = submissions("gmm")["stub"] + IMPORT_PATCH
    expected = baseline(course, "gmm", patched, cache_dir, tmp_path)
    assert expected["score"] == 0
    graded = question(otter_run(assigned("gmm"), patched, tmp_path / "patched"), "gmm")
    assert graded["score"] == pytest.approx(course.exercise("gmm").points)


def test_the_export_cli_writes_master_notebooks(tmp_path):
    out = tmp_path / "otter"
    done = subprocess.run([str(BIN / "course"), "export", "otter", str(out), "--exercise", "iwae"],
                          capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (out / "iwae" / "iwae.ipynb").is_file() and (out / "README.md").is_file()
    assert (out / "iwae" / "course_reference" / "iwae" / "manifest.json").is_file()
    assert not (out / "gmm").exists()
    shutil.rmtree(out)
