"""Our grader against the peers on the same content: `course grade` vs `otter run` vs `nbgrader autograde`.

    .venv/bin/python bench/peers.py [--exercise gmm] [--runs 3]

One submission (the exercise's reference as the student's answer) graded per run, each tool a fresh
process; set-up (`otter assign`, `nbgrader generate_assignment`) is done once and not timed. The
default exercise, gmm, has unit checks only (no training smoke test, whose cost is the same in
every grader). Needs the `graders` extra (otter-grader, nbgrader) in the venv.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.config import load_course  # noqa: E402
from autograder.exports.nbgrader import export_nbgrader  # noqa: E402
from autograder.exports.otter import export_otter  # noqa: E402
from autograder.exports.requirements import declared  # noqa: E402
from autograder.grading import reference_path  # noqa: E402

BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}  # nbgrader runs the venv's alembic
FENCES = ("# BEGIN SOLUTION", "# END SOLUTION")


def tool(name: str, *args, cwd: Path) -> float:
    """Run the venv's `name` and return its wall seconds; raise with its output when it fails."""
    started = time.perf_counter()
    done = subprocess.run([str(BIN / name), *args], cwd=cwd, env=ENV, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{name} {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds


def with_answer(notebook_path: Path, source: str, is_answer) -> nbformat.NotebookNode:
    notebook = nbformat.read(notebook_path, as_version=4)
    [answer] = [cell for cell in notebook.cells if is_answer(cell)]
    answer.source = source
    return notebook


def answer_source(exercise) -> str:
    text = reference_path(ROOT, exercise.id, exercise.module_name).read_text(encoding="utf-8")
    return "".join(line for line in text.splitlines(keepends=True) if line.strip() not in FENCES)


def time_course_grade(exercise, scratch: Path, runs: int) -> list[float]:
    folder = scratch / "course"
    folder.mkdir()
    (folder / exercise.student_file).write_text(answer_source(exercise), encoding="utf-8")
    return [tool("course", "grade", str(folder), "--exercise", exercise.id, "--device", "cpu", "--output",
                 str(folder / "results.json"), "--quiet", cwd=ROOT) for _ in range(runs)]


def time_otter(course, exercise, scratch: Path, runs: int) -> list[float]:
    out = scratch / "otter"
    export_otter(ROOT, course, out, [exercise], declared(ROOT), log=lambda *_: None)
    folder = out / exercise.id
    tool("otter", "assign", f"{exercise.id}.ipynb", "dist", cwd=folder)
    [autograder] = sorted((folder / "dist" / "autograder").glob(f"{exercise.id}-autograder_*.zip"))
    student = folder / "dist" / "student" / f"{exercise.id}.ipynb"
    notebook = with_answer(student, answer_source(exercise),
                           lambda cell: "otter_answer_cell" in cell.get("metadata", {}).get("tags", []))
    times = []
    for run in range(runs):
        target = scratch / f"otter-run-{run}"
        target.mkdir()
        nbformat.write(notebook, target / f"{exercise.id}.ipynb")
        times.append(tool("otter", "run", "-a", str(autograder), "-o", str(target), "--no-logo",
                          f"{exercise.id}.ipynb", cwd=target))
    return times


def time_nbgrader(course, exercise, scratch: Path, runs: int) -> list[float]:
    folder = scratch / "nbgrader"
    export_nbgrader(ROOT, course, folder, [exercise], log=lambda *_: None)
    tool("nbgrader", "generate_assignment", exercise.id, cwd=folder)
    release = folder / "release" / exercise.id / f"{exercise.id}.ipynb"
    notebook = with_answer(release, answer_source(exercise),
                           lambda cell: cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "answer")
    times = []
    for run in range(runs):
        student = f"student{run}"
        target = folder / "submitted" / student / exercise.id
        target.mkdir(parents=True)
        nbformat.write(notebook, target / f"{exercise.id}.ipynb")
        times.append(tool("nbgrader", "autograde", exercise.id, "--student", student, cwd=folder))
    return times


def measure(exercise_id="gmm", runs=3) -> dict:
    course = load_course(ROOT / "course.yml")
    exercise = course.exercise(exercise_id)
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as scratch:
        scratch = Path(scratch)
        times = {"course grade": time_course_grade(exercise, scratch, runs),
                 "otter run": time_otter(course, exercise, scratch, runs),
                 "nbgrader autograde": time_nbgrader(course, exercise, scratch, runs)}
        shutil.rmtree(scratch, ignore_errors=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    ours = medians["course grade"]
    return {"exercise": exercise_id, "runs": runs, "median_s": medians,
            "speedup": {name: seconds / ours for name, seconds in medians.items() if name != "course grade"}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exercise", default="gmm")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    figures = measure(args.exercise, args.runs)
    for name, seconds in figures["median_s"].items():
        ratio = figures["speedup"].get(name)
        print(f"{name}: median {seconds:.2f} s" + (f" ({ratio:.2f}x ours)" if ratio else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
