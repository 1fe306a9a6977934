"""What students read: every exercise README says the same things in the same words, and only what is so.

- the section "Submitting and checking your work" is SUBMITTING below, word for word, with the
  exercise's names, points and the measured run time of its public checks filled in;
- the table "How it is graded (N points)" lists every hidden check with its points as the grader
  scales them, and N is the exercise's points in course.yml;
- no student-facing file (README, stub, public checks, notebooks) points to what students do not
  get: docs/, autograder/, tests/ or solutions/.
"""

from __future__ import annotations

import re

import pytest

from autograder.checking import load_checks
from autograder.config import load_course
from conftest import ROOT

COURSE = load_course(ROOT / "course.yml")
EXERCISES = [e.id for e in COURSE.exercises]
# `course check <id>` on the reference, CPU seconds on the 2-core development machine (bench/check_time.py).
CHECK_SECONDS = {"gmm": 2, "vae": 4, "iwae": 4, "autoencoder": 4, "gan": 5, "dcgan": 4, "pixelcnn": 5, "pixelrnn": 4,
                 "flows": 4, "diffusion": 4}

SUBMITTING = """## Submitting and checking your work

**What to submit.** Your `{file}`, or a notebook `{notebook}` with the same functions, in your
submission folder or .zip (it may hold other exercises' files too). If both are there, `{file}` is
graded and your results say so. From a notebook only the definitions are graded (functions,
classes, and the imports and constants they use): top-level code such as experiments, plots and
training loops is not run, and feedback points to notebook cells ("cell 7, line 3").

**Public checks.** `course check {id}`, run in the folder that holds your file (or
`course check {id} path/to/{file}`, a notebook too), runs the checks in `{test}` in about
{seconds} seconds. They test each function on small inputs and catch a few common mistakes; when
one fails, the summary shows the line of your code where it went wrong. Passing them does not
mean full marks.

**Hidden checks.** Grading ({points} points) runs more checks on a sandboxed copy of your file:
other shapes, sizes and seeds, hard inputs such as extreme values, the properties the docstrings
promise (shapes, dtypes, devices, gradients), the common mistakes, which the feedback names, and,
where the exercise has one, a short training run of a model built from your functions. A function
that calls another of your functions is judged again with a stand-in for the other (a function of
the same interface, given to the reference's version too), so one mistake costs points only once. Arrays and tensors you return keep the dtype of the inputs,
and tensors their device (computing in float64 inside is fine).

**When you see the feedback.** After you submit: on Gradescope a few minutes later, or, if your
instructor grades the class with `course grade-all`, on the feedback page they share with you.
"""


def submitting_section(exercise_id: str) -> str:
    exercise = COURSE.exercise(exercise_id)
    return SUBMITTING.format(file=exercise.student_file, notebook=f"{exercise.module_name}.ipynb", id=exercise.id,
                             test=f"test_{exercise.module_name}.py", seconds=CHECK_SECONDS[exercise.id],
                             points=f"{exercise.points:g}")


def grading_table(exercise_id: str) -> str:
    """The README's table: every hidden check, in order, with its points as the grader scales them."""
    exercise, checks = COURSE.exercise(exercise_id), load_checks(exercise_id)
    scale = exercise.points / checks.total_points
    rows = "".join(f"| {check.name.replace('|', chr(92) + '|')} | {check.points * scale:g} |\n" for check in checks.checks)
    return f"## How it is graded ({exercise.points:g} points)\n\n| hidden check | points |\n|---|---:|\n{rows}"


def readme(exercise_id: str) -> str:
    return (ROOT / "exercises" / exercise_id / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_readme_says_how_to_submit_and_check_in_the_same_words(exercise_id):
    expected = submitting_section(exercise_id)
    assert expected in readme(exercise_id), f"exercises/{exercise_id}/README.md should hold, word for word:\n{expected}"


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_readme_grading_table_lists_every_check_with_its_points(exercise_id):
    expected = grading_table(exercise_id)
    assert expected in readme(exercise_id), f"exercises/{exercise_id}/README.md should hold:\n{expected}"


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_every_points_figure_in_the_readme_is_the_exercises(exercise_id):
    text = readme(exercise_id)
    figures = {float(n) for n in re.findall(r"\((\d+(?:\.\d+)?) points\)", text)}
    assert figures == {COURSE.exercise(exercise_id).points}, figures


STUDENT_FACING = ["README.md", "*.py", "*.ipynb"]
HIDDEN = re.compile(r"(?<![\w./-])(docs|autograder|tests|solutions)/")


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_student_facing_files_never_point_to_what_students_do_not_get(exercise_id):
    folder = ROOT / "exercises" / exercise_id
    files = [path for pattern in STUDENT_FACING for path in folder.glob(pattern)]
    files.append(ROOT / "exercises" / "conftest.py")
    pointers = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
                for path in files for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if HIDDEN.search(line)]
    assert not pointers, "\n".join(pointers)


def test_the_course_readme_lists_every_exercise_with_its_points():
    """The top-level README's table of exercises (what each grades, points, grading time) has a row for every
    exercise in course.yml, flows and diffusion included, with course.yml's points."""
    rows = dict(re.findall(r"^\| `(\w+)` \| [^|]+ \| (\d+(?:\.\d+)?) \|", (ROOT / "README.md").read_text(encoding="utf-8"),
                           flags=re.MULTILINE))
    assert {e.id: float(rows.get(e.id, "nan")) for e in COURSE.exercises} == {e.id: e.points for e in COURSE.exercises}


def test_fit_gmm_stopping_rule_is_stated_alike_in_readme_stub_and_lecture():
    """Issue 17: does the iteration that stops still run its M-step? Yes (scikit-learn's rule, which the grader
    compares with: tests/test_gmm_grading.py names a fit that skips it), and all three places say so."""
    notes = (ROOT / "lectures" / "02-gmm" / "notes.md").read_text(encoding="utf-8")
    stub = (ROOT / "exercises" / "gmm" / "gmm.py").read_text(encoding="utf-8")
    assert "2. M-step, always — also in the iteration that stops;" in readme("gmm")
    assert "3. stop if t ≥ 2 and |ℓ_t − ℓ_(t−1)| < `tol`." in readme("gmm")
    assert "2. M-step (always, also in the iteration that stops);" in stub
    assert "the M-step of the iteration that converges is still applied" in " ".join(notes.split())
