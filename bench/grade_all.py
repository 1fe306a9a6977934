"""Throughput of `course grade-all` on a made class of 40 `gmm` submissions, with --jobs 1 and --jobs 2.

    .venv/bin/python bench/grade_all.py [--runs 3] [--submissions 40]

Each run is a fresh `course grade-all` process into an empty output folder (so nothing is kept
from an earlier run): layout detection, staging, the sandboxed grading of every submission, the
gradebook and the report. The two settings alternate, and the speed-up is the ratio of medians
measured side by side on the same machine. Target on a 2-core machine: at least 1.7x.
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

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.classroom import madeclass  # noqa: E402
from autograder.config import load_course  # noqa: E402


def made_class(folder: Path, submissions: int) -> Path:
    """`submissions` students from repeated copies of the made class (every kind of student in each copy)."""
    course = load_course(ROOT / "course.yml")
    per_copy = len(madeclass.students(ROOT))
    copies = -(-submissions // per_copy)
    target = madeclass.write_class(ROOT, course, folder / "class", copies=copies)
    for path in sorted(target.iterdir())[submissions:]:  # trim to exactly `submissions`
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return target


def _spin(seconds: float) -> int:
    """Count loop iterations for `seconds` of wall time (a CPU-bound process)."""
    end, count = time.perf_counter() + seconds, 0
    while time.perf_counter() < end:
        count += 1
    return count


def available_parallelism(seconds: float = 2.0, rounds: int = 3) -> float:
    """How much more work two CPU-bound processes get done than one, on this machine right now (2.0 when idle):
    the median of `rounds` alternations, each process spinning `seconds`."""
    import multiprocessing

    ratios = []
    with multiprocessing.Pool(2) as pool:
        for _ in range(rounds):
            one = pool.apply(_spin, (seconds,))
            ratios.append(sum(pool.map(_spin, [seconds, seconds], chunksize=1)) / one)
    return statistics.median(ratios)


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent working since boot (every core; idle and I/O wait left out)."""
    times = psutil.cpu_times()
    return times.user + times.nice + times.system + getattr(times, "irq", 0) + getattr(times, "softirq", 0)


def time_run(source: Path, jobs: int, scratch: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds the machine worked meanwhile) of one grade-all run.

    The machine's CPU, not the process tree's: a sandbox's processes live a fraction of a second, so sampling
    them misses the end of each, and the kernel's work for bubblewrap's namespaces is no process's. On an
    otherwise idle machine the difference is our own work.
    """
    course_bin = Path(sys.executable).with_name("course")
    out = Path(tempfile.mkdtemp(dir=scratch, prefix=f"out-j{jobs}-"))
    busy, started = busy_cpu_seconds(), time.perf_counter()
    subprocess.run([str(course_bin), "grade-all", str(source), "--output-dir", str(out), "--exercise", "gmm",
                    "--jobs", str(jobs), "--device", "cpu", "--quiet"], check=True, cwd=ROOT)
    return time.perf_counter() - started, busy_cpu_seconds() - busy


def measure(runs: int = 3, submissions: int = 40, log=print) -> dict:
    """Wall and CPU seconds of grade-all with --jobs 1 and 2 (alternated), medians; the machine's spare capacity."""
    with tempfile.TemporaryDirectory(prefix="bench-grade-all-") as scratch:
        source = made_class(Path(scratch), submissions)
        count = len(list(source.iterdir()))
        times, cpu = {1: [], 2: []}, {1: [], 2: []}
        for _ in range(runs):
            for jobs in (1, 2):
                wall, seconds = time_run(source, jobs, Path(scratch))
                times[jobs].append(wall)
                cpu[jobs].append(seconds)
                log(f"--jobs {jobs}: {wall:.1f} s wall, {seconds:.1f} CPU-s, load average {os.getloadavg()[0]:.1f}")
    wall = {jobs: statistics.median(values) for jobs, values in times.items()}
    busy = {jobs: statistics.median(c / w for c, w in zip(cpu[jobs], times[jobs])) for jobs in times}
    return {"submissions": count, "runs": runs, "wall_s": wall,
            "cpu_per_submission_s": {jobs: statistics.median(values) / count for jobs, values in cpu.items()},
            "cores_busy": busy, "speedup": wall[1] / wall[2], "spare_parallelism": available_parallelism()}


def ceiling(figures: dict, cores: int = 2) -> float:
    """The speed-up --jobs 2 could reach if it kept `cores` cores busy: --jobs 1 already keeps more than one
    busy (each submission's sandbox runs beside the grader's reference and judges)."""
    return cores / figures["cores_busy"][1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs of each setting (default 3)")
    parser.add_argument("--submissions", type=int, default=40)
    args = parser.parse_args(argv)
    figures = measure(args.runs, args.submissions, log=lambda line: print(line, flush=True))
    count = figures["submissions"]
    print(f"\n{count} submissions of gmm on {os.cpu_count()} cores, median of {args.runs} run(s) each:")
    for jobs, wall in figures["wall_s"].items():
        print(f"  --jobs {jobs}: {wall:6.1f} s  ({count / wall * 60:5.1f} submissions/min, "
              f"{figures['cpu_per_submission_s'][jobs]:.2f} CPU-s per submission, "
              f"{figures['cores_busy'][jobs]:.2f} cores busy)")
    print(f"  speed-up: {figures['speedup']:.2f}x (target >= 1.7x on an otherwise idle 2-core machine; "
          f"{ceiling(figures):.2f}x if --jobs 2 kept both cores busy)")
    print(f"  for comparison, two CPU-bound processes did {figures['spare_parallelism']:.2f}x the work of one "
          f"on this machine just now (2.0 when it is idle)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
