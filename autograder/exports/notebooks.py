"""What the otter and nbgrader notebooks of an exercise are made of.

Both exports give each exercise one notebook: its instructions, one answer cell holding the
whole student file (so a line number in feedback is the line of the student's `.py` file), a
cell running the public checks, and one hidden test per check of `autograder/checks/<id>/`,
worth that check's points scaled as `course grade` scales them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.checking import Check, load_checks
from autograder.config import Course, Exercise
from autograder.exports.rendering import render
from autograder.grading import check_maxima

PUBLIC_CHECKS_FUNCTION = "run_public_checks"
KERNEL_SPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


@dataclass(frozen=True)
class GradedCheck:
    check: Check
    points: float  # its share of the exercise's points in course.yml, as `course grade` gives it


def graded_checks(exercise: Exercise) -> list[GradedCheck]:
    checks = load_checks(exercise.id)
    return [GradedCheck(c, p) for c, p in zip(checks.checks, check_maxima(exercise, checks))]


def public_tests(root: Path, exercise: Exercise) -> list[Path]:
    return sorted((root / "exercises" / exercise.id).glob("test_*.py"))


def instructions(root: Path, course: Course, exercise: Exercise, how: str) -> str:
    """The exercise's README, introduced for a notebook (`how` says how to submit it)."""
    readme = (root / "exercises" / exercise.id / "README.md").read_text(encoding="utf-8")
    intro = (f"*{course.title}, {course.term}: {exercise.title} ({exercise.points:g} points).* "
             f"Write your `{exercise.student_file}` in the answer cell below: it holds the whole file. "
             f"{how}\n\n---\n\n")
    return intro + readme


def solution_source(root: Path, exercise: Exercise) -> str:
    return (root / "solutions" / exercise.id / exercise.student_file).read_text(encoding="utf-8")


def public_checks(root: Path, exercise: Exercise) -> str:
    """The source of `run_public_checks(env)`: pytest on the exercise's public checks, with the
    `student` fixture made from the notebook's definitions. Needs only pytest (no course package)."""
    tests = [path.name for path in public_tests(root, exercise)]
    return render("public_checks.py.j2", function=PUBLIC_CHECKS_FUNCTION, exercise_id=exercise.id,
                  module=exercise.module_name, tests=tests).rstrip() + "\n"


@dataclass(frozen=True)
class Name:
    """An argument of `call` written as it is (a variable), not as a literal."""

    source: str


def call(function: str, *arguments) -> str:
    """`function(arg, ...)` with each argument a Python literal (`repr`), or a `Name` as it is."""
    return f"{function}({', '.join(a.source if isinstance(a, Name) else repr(a) for a in arguments)})"
