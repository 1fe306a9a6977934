"""`course check`: an exercise's public checks (plain pytest files) run on a student's file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from autograder.config import Exercise

TIME_LIMIT_S = 300


def run_public_checks(root: Path, exercise: Exercise, student_file: Path) -> int:
    """Run exercises/<id>/test_*.py against `student_file`; 0 when every public check passes."""
    folder = root / "exercises" / exercise.id
    tests = sorted(folder.glob("test_*.py"))
    if not tests:
        print(f"exercise {exercise.id} has no public checks in {folder}", file=sys.stderr)
        return 2
    print(f"Public checks of '{exercise.title}' on {student_file}")
    print("(the hidden checks used for grading test more than these)\n")
    env = {**os.environ, "COURSE_STUDENT_FILE": str(student_file.resolve())}
    command = [sys.executable, "-m", "pytest", *map(str, tests), "-q", "--tb=line", "--no-header",
               "-p", "no:cacheprovider", "-o", "addopts=", "-o", "console_output_style=classic",
               "--rootdir", str(folder.parent)]
    try:
        done = subprocess.run(command, env=env, cwd=folder, timeout=TIME_LIMIT_S)
    except subprocess.TimeoutExpired:
        print(f"\nthe public checks did not finish within {TIME_LIMIT_S} s (an endless loop?)")
        return 1
    print("\nall public checks pass" if done.returncode == 0 else "\nsome public checks fail: see above")
    return 0 if done.returncode == 0 else 1
