"""`course check`: an exercise's public checks (plain pytest files) run on a student's file.

Which file: PATH when given (a file, or a folder holding the exercise's file); otherwise the
exercise's file in the current folder (a copy of the exercise folder); otherwise, inside the
course, exercises/<id>/<file>. The first line of the output always names the file checked.
A notebook is checked as the module the grader would import from it (autograder.notebooks), and
failures name its cells. Failures show the student's own line (exercises/conftest.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.config import Exercise

TIME_LIMIT_S = 300


class NothingToCheck(Exception):
    """No file to check could be found: the message says where we looked and what to do."""


def file_to_check(root: Path, exercise: Exercise, path: str | None, cwd: Path) -> tuple[Path, str]:
    """(the file to check, why that one) for `course check EXERCISE [PATH]` run in `cwd`."""
    names = (exercise.student_file, f"{exercise.module_name}.ipynb")
    if path:
        chosen = Path(path)
        if chosen.is_dir():
            found = [chosen / name for name in names if (chosen / name).is_file()]
            if not found:
                raise NothingToCheck(f"no {' or '.join(names)} in {chosen}")
            return found[0], f"the {found[0].name} in {chosen}"
        if not chosen.is_file():
            raise NothingToCheck(f"no such file: {chosen}")
        return chosen, "the file you named"
    for name in names:
        if (cwd / name).is_file():
            return cwd / name, "the file in the current folder"
    try:
        cwd.resolve().relative_to(root.resolve())
    except ValueError:
        raise NothingToCheck(f"no {' or '.join(names)} in the current folder ({cwd}): run `course check "
                             f"{exercise.id}` in the folder that holds your file, or name it: `course check "
                             f"{exercise.id} path/to/{exercise.student_file}`") from None
    default = root / "exercises" / exercise.id / exercise.student_file
    return default, f"no {exercise.student_file} in the current folder, so the course's copy in exercises/{exercise.id}/"


def run_public_checks(root: Path, exercise: Exercise, student_file: Path, why: str = "") -> int:
    """Run exercises/<id>/test_*.py against `student_file`; 0 when every public check passes."""
    folder = root / "exercises" / exercise.id
    tests = sorted(folder.glob("test_*.py"))
    if not tests:
        print(f"exercise {exercise.id} has no public checks in {folder}", file=sys.stderr)
        return 2
    shown = student_file.resolve()
    print(f"Checking {shown}" + (f" ({why})" if why else ""))
    print(f"with the public checks of '{exercise.title}' (the hidden checks used for grading test more)\n")
    with tempfile.TemporaryDirectory(prefix="course-check-") as scratch:
        env = {**os.environ, "COURSE_STUDENT_FILE": str(shown), "COURSE_STUDENT_LABEL": student_file.name}
        if student_file.suffix == ".ipynb":
            env.update(_notebook_module(student_file, exercise.module_name, Path(scratch)))
        command = [sys.executable, "-m", "pytest", *map(str, tests), "-q", "--tb=no", "-rN", "--no-header",
                   "-p", "no:cacheprovider", "-o", "addopts=", "-o", "console_output_style=classic",
                   "--rootdir", str(folder.parent)]
        try:
            done = subprocess.run(command, env=env, cwd=folder, timeout=TIME_LIMIT_S)
        except subprocess.TimeoutExpired:
            print(f"\nthe public checks did not finish within {TIME_LIMIT_S} s (an endless loop?)")
            return 1
    print("\nall public checks pass" if done.returncode == 0 else "\nsome public checks fail: see above")
    return 0 if done.returncode == 0 else 1


def _notebook_module(notebook: Path, module_name: str, scratch: Path) -> dict:
    """Environment for checking a notebook: the module the grader would import, and its lines' cells."""
    from autograder.notebooks import convert

    converted = convert(notebook)
    module = scratch / f"{module_name}.py"
    module.write_text(converted.source, encoding="utf-8")
    cells = scratch / "cells.json"
    cells.write_text(json.dumps(converted.origins), encoding="utf-8")
    for note in converted.notes(notebook.name):
        print(f"note: {note}\n")
    return {"COURSE_STUDENT_FILE": str(module), "COURSE_STUDENT_CELLS": str(cells)}
