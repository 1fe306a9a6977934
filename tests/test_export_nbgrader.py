"""`course export nbgrader` with the real nbgrader: `generate_assignment` and `autograde` accept the
course directory, every submission in `submitted/` gets the score `course grade` gives it (to 1e-6
of the exercise's points) with the same feedback in its test cells, the released notebook holds
nothing hidden, and a one-line `builtins` patch changes nbgrader's verdict but not ours."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.exports import leakcheck
from autograder.exports.nbgrader import export_nbgrader
from conftest import ROOT
from export_submissions import (EXPORTED, IMPORT_PATCH, baseline, cache_dir, lost_feedback,  # noqa: F401
                                run_tool, same_score, submissions, with_answer, without_numbers)



@pytest.fixture(scope="session")
def released(course, tmp_path_factory):
    """exercise id -> its nbgrader course directory, exported and `generate_assignment`-ed once."""
    done = {}

    def release(exercise_id):
        if exercise_id not in done:
            folder = tmp_path_factory.mktemp(f"nbgrader-{exercise_id}")
            export_nbgrader(ROOT, course, folder, [course.exercise(exercise_id)], log=lambda *_: None)
            run_tool("nbgrader", "generate_assignment", exercise_id, cwd=folder)
            done[exercise_id] = folder
        return done[exercise_id]

    return release


def _is_answer(cell) -> bool:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "answer"


def autograde(folder: Path, exercise_id: str, sources: dict[str, str]) -> dict:
    """student -> (score, max score, autograded notebook) after `nbgrader autograde` of `sources`."""
    release = folder / "release" / exercise_id / f"{exercise_id}.ipynb"
    for student, source in sources.items():
        target = folder / "submitted" / student / exercise_id
        target.mkdir(parents=True)
        nbformat.write(with_answer(release, source, _is_answer), target / f"{exercise_id}.ipynb")
    only = [] if len(sources) > 1 else ["--student", next(iter(sources))]
    run_tool("nbgrader", "autograde", exercise_id, *only, cwd=folder)
    graded = {}
    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gradebook:
        for student in sources:
            submission = gradebook.find_submission(exercise_id, student)
            notebook = nbformat.read(folder / "autograded" / student / exercise_id / f"{exercise_id}.ipynb", 4)
            graded[student] = (submission.score, submission.max_score, notebook)
    return graded


def cell_text(notebook, grade_id: str) -> str:
    [cell] = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    parts = []
    for output in cell.get("outputs", []):
        parts += [output.get("text", ""), output.get("evalue", ""), output.get("data", {}).get("text/plain", "")]
    return "\n".join(parts)


# Flows goes through otter only: both exports grade in the kernel with the same code (exports/kernel.py, stored
# references, a class defined in a notebook cell), so diffusion (two smoke probes, the most checks) stands for both.
NBGRADER_EXERCISES = tuple(e for e in EXPORTED if e != "flows")


@pytest.mark.parametrize("exercise_id", NBGRADER_EXERCISES)
def test_nbgrader_scores_and_feedback_equal_course_grade(exercise_id, released, course, cache_dir, tmp_path):
    folder = released(exercise_id)
    points = course.exercise(exercise_id).points
    sources = submissions(exercise_id)
    graded = autograde(folder, exercise_id, sources)
    for label, source in sources.items():
        expected = baseline(course, exercise_id, source, cache_dir, tmp_path)
        score, max_score, notebook = graded[label]
        assert max_score == pytest.approx(points, abs=1e-6 * points), label
        assert same_score(score, expected["score"], points), \
            f"{exercise_id}/{label}: nbgrader {score} vs course grade {expected['score']}"
        names = [c["name"] for c in expected["checks"]]
        for name, feedback in lost_feedback(expected):
            text = cell_text(notebook, f"check_{names.index(name) + 1:02d}")
            assert feedback in without_numbers(text), f"{exercise_id}/{label}: nbgrader's cell for {name!r} lacks {feedback!r}:\n{text}"


def test_nbgrader_release_holds_nothing_hidden(released):
    """What students get passes the release's leak check; the hidden test code is stripped."""
    release = released("vae") / "release" / "vae"
    assert leakcheck.scan(release, leakcheck.secrets(ROOT)) == []
    text = (release / "vae.ipynb").read_text(encoding="utf-8")
    assert "nbgrader_score" not in text and "course_reference" not in text
    assert not list(release.rglob("*.npz"))


def test_a_builtins_patch_changes_nbgraders_verdict_but_not_course_grade(released, course, cache_dir, tmp_path):
    """In nbgrader the checks run in the student's kernel: one line appended to the stub earns
    full marks there, while `course grade` still gives 0."""
    patched = submissions("gmm")["stub"] + IMPORT_PATCH
    assert baseline(course, "gmm", patched, cache_dir, tmp_path)["score"] == 0
    score, max_score, _ = autograde(released("gmm"), "gmm", {"patched": patched})["patched"]
    assert score == pytest.approx(max_score) == pytest.approx(course.exercise("gmm").points)
