"""Wall time and peak memory of a simulated Gradescope run: the figures behind the README's
Gradescope settings (memory, timeout).

    .venv/bin/python bench/gradescope_run.py [--exercise NAME ...] [--submission reference|stub]

Exports the course with `course export gradescope`, lays out /autograder in a temporary folder,
and runs the zip's `run_autograder` on the reference solutions (every exercise by default),
sampling the resident memory of its whole process tree every 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.config import load_course  # noqa: E402
from autograder.exports.gradescope import export_gradescope  # noqa: E402


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            pass
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercise", action="append", help="exercises of the assignment (default: all)")
    parser.add_argument("--submission", choices=("reference", "stub"), default="reference")
    args = parser.parse_args()
    course = load_course(ROOT / "course.yml")
    exercises = [course.exercise(e) for e in args.exercise] if args.exercise else list(course.exercises)
    with tempfile.TemporaryDirectory(prefix="gradescope-bench-") as scratch:
        root = Path(scratch) / "autograder"
        for folder in ("source", "submission", "results"):
            (root / folder).mkdir(parents=True)
        [zip_path] = export_gradescope(ROOT, course, Path(scratch) / "autograder.zip", exercises, log=lambda *_: None)
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(root / "source")
        for exercise in exercises:
            folder = "solutions" if args.submission == "reference" else "exercises"
            shutil.copy2(ROOT / folder / exercise.id / exercise.student_file, root / "submission")
        (root / "submission_metadata.json").write_text(json.dumps({"created_at": None}), encoding="utf-8")
        env = {**os.environ, "AUTOGRADER_ROOT": str(root), "COURSE_PYTHON": sys.executable}
        started = time.monotonic()
        process = psutil.Popen(["bash", str(root / "source" / "run_autograder")], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        peak = 0
        while process.poll() is None:
            peak = max(peak, tree_rss(process))
            time.sleep(0.05)
        wall = time.monotonic() - started
        results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    print(f"{len(exercises)} exercise(s), {args.submission}: score {results['score']:g}, "
          f"wall {wall:.1f} s, peak resident memory of the process tree {peak / 2**30:.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
