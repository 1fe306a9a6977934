"""Wall time of `course grade` on an exercise's reference solution: the median of several runs.

    .venv/bin/python bench/grade_time.py gmm [--runs 5]

Each run is a fresh `course grade` process (interpreter start, sandbox, every
hidden check), as an instructor or Gradescope would run it.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def time_grading(exercise: str, runs: int) -> list[float]:
    course_bin = Path(sys.executable).with_name("course")
    with tempfile.TemporaryDirectory() as folder:
        for solution in (ROOT / "solutions" / exercise).glob("*.py"):
            shutil.copy(solution, folder)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run([str(course_bin), "grade", folder, "--exercise", exercise, "--device", "cpu",
                            "--output", f"{folder}/results.json", "--quiet"], check=True, cwd=ROOT)
            times.append(time.perf_counter() - started)
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("exercises", nargs="+")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    for exercise in args.exercises:
        times = time_grading(exercise, args.runs)
        print(f"{exercise}: median {statistics.median(times):.2f} s wall over {len(times)} runs "
              f"(min {min(times):.2f}, max {max(times):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
