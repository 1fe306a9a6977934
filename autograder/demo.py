"""`course demo` (what `make demo` runs): validate course.yml, grade the reference and a flawed
sample submission, print both score tables, grade a made class with `grade-all`, and build the
lecture site."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from autograder import report
from autograder.config import Course
from autograder.grading import grade_submission, isolation_for
from autograder.isolation import IsolationRefused

SAMPLES = Path(__file__).resolve().parent / "samples"


def _reference_submission(root: Path, course: Course, folder: Path) -> Path:
    for exercise in course.exercises:
        source = root / "solutions" / exercise.id / exercise.student_file
        if source.is_file():
            shutil.copy(source, folder / exercise.student_file)
    return folder


def _grade_class(root: Path, course: Course) -> None:
    """A made class of twelve (autograder/classroom/madeclass.py) as a Gradescope export, graded with two jobs."""
    from autograder.classroom import madeclass
    from autograder.classroom.commands import grade_all

    target = root / "class-demo"
    shutil.rmtree(target / "submissions", ignore_errors=True)
    export = madeclass.write_class(root, course, target / "submissions", layout="gradescope")
    print("\n=== A class of 12 (class-demo/submissions: a Gradescope export) graded with "
          "`course grade-all class-demo/submissions -o class-demo/out --exercise gmm --jobs 2` ===\n", flush=True)
    for student in madeclass.students(root):
        print(f"  {student.name:<20} {student.about}")
    print(flush=True)
    grade_all(root, course, export, target / "out", jobs=2, exercise_ids=["gmm"])
    print(f"open {target / 'out' / 'report.html'} in a browser for the class report")


def run(root: Path, course: Course, args) -> int:
    from autograder.cli import cmd_validate

    cmd_validate(args)
    graded = [e.id for e in course.exercises]
    try:
        isolation_for(root)
        own_code_only = False
    except IsolationRefused as refused:  # the demo grades the course's own files: say so, and grade them anyway
        print(f"\nnote: {refused}\nThe demo grades only the course's own files, so it runs them without isolation.",
              flush=True)
        own_code_only = True
    with tempfile.TemporaryDirectory(prefix="course-demo-") as scratch:
        reference = _reference_submission(root, course, Path(scratch))
        for title, submission, exercises in (
            ("Reference solutions (every exercise)", reference, graded),
            ("Flawed sample submission (autograder/samples/flawed: gmm.py)", SAMPLES / "flawed", ["gmm"]),
        ):
            print(f"\n=== {title} ===\n", flush=True)
            result = grade_submission(course, root, submission, exercises, device="cpu",
                                      progress=lambda e: print(f"grading {e.id} ...", flush=True),
                                      no_isolation=own_code_only)
            print(report.render(result))
    _grade_class(root, course)
    if not getattr(args, "no_site", False):
        try:
            from autograder.site.build import build_site
        except ImportError:
            print("\n(the lecture site builder is not installed yet; skipping `course build`)")
            return 0
        print("\n=== Lecture site ===\n", flush=True)
        return build_site(root, course, root / "site")
    return 0
