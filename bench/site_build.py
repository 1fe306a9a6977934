"""Wall and CPU time of `course build`, with the figure cache empty (a fresh clone) and warm (a rebuild).

    .venv/bin/python bench/site_build.py [--runs 3]

Each run is a fresh `course build` process into a temporary folder. The cold runs move
build/figure-cache aside first and put it back afterwards, so the cache is never lost.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "figure-cache"


def build_once(output: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the build process) of one `course build`."""
    course_bin = Path(sys.executable).with_name("course")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([str(course_bin), "build", "--output", str(output)], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        aside = Path(folder) / "figure-cache"
        results = {"cold (empty figure cache)": [], "warm (cached models and data)": []}
        for run in range(args.runs):
            if CACHE.exists():
                shutil.move(str(CACHE), aside)
            try:
                results["cold (empty figure cache)"].append(build_once(Path(folder) / f"cold{run}"))
            finally:
                if aside.exists():
                    shutil.rmtree(CACHE, ignore_errors=True)
                    shutil.move(str(aside), CACHE)
            results["warm (cached models and data)"].append(build_once(Path(folder) / f"warm{run}"))
    for name, runs in results.items():
        walls, cpus = zip(*runs)
        print(f"{name}: median wall {statistics.median(walls):.1f} s, median CPU {statistics.median(cpus):.1f} s "
              f"over {len(runs)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
