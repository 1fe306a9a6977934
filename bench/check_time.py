"""CPU time of `course check` (the public checks) on an exercise's reference solution: the median of several runs.

    .venv/bin/python bench/check_time.py gmm flows [--runs 3]

Each run is a fresh `course check EXERCISE PATH` process, as a student runs it. CPU seconds (user + sys of
the process and its children) rather than wall time, so a figure measured on a busy machine still holds;
the exercise READMEs state these figures, rounded up ("in about N seconds"), and
tests/test_exercise_readmes.py's CHECK_SECONDS records them.
"""

from __future__ import annotations

import argparse
import math
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_checks(exercise: str, runs: int) -> list[float]:
    solution = ROOT / "solutions" / exercise / f"{exercise}.py"
    times = []
    for _ in range(runs):
        before = _children_cpu()
        subprocess.run([sys.executable, "-m", "autograder.cli", "check", exercise, str(solution)], check=True, cwd=ROOT,
                       capture_output=True)
        times.append(_children_cpu() - before)
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("exercises", nargs="+")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    for exercise in args.exercises:
        times = time_checks(exercise, args.runs)
        median = statistics.median(times)
        print(f"{exercise}: median {median:.2f} CPU s over {len(times)} runs (min {min(times):.2f}, "
              f"max {max(times):.2f}); README: about {math.ceil(median)} seconds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
