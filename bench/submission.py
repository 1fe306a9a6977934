"""Latency of a whole submission (every exercise's reference), sandboxed and in-process, and its peak memory.

    .venv/bin/python bench/submission.py [--runs 5] [--per-exercise]

- wall: a fresh `course grade` process on the references of every exercise in course.yml, as an
  instructor or Gradescope runs it (interpreter start, sandbox, every hidden check, smoke tests);
  the resident memory of the grader's own process and of everything it started (the sandbox) is
  sampled every 50 ms, and the peaks kept.
- overhead: in one process, the same checks on the same secret inputs graded through the sandbox
  (`grade_submission`) and in-process (`judge_in_process`, no isolation), alternated, medians.
- with --per-exercise: `course grade --exercise X` per exercise, a fresh process each run.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.config import load_course  # noqa: E402
from autograder.grading import (grade_submission, import_file, judge_in_process, new_seed,  # noqa: E402
                                reference_outputs, reference_path)

POLL_S = 0.05


class TreeCpu:
    """CPU seconds (user + system) of every descendant of `root` (and of `root` too with `with_root`), sampled
    every POLL_S.

    Resource usage of children is lost when a sandbox is killed (its processes are reaped by no one we wait
    for), so each process's own CPU time is read while it runs and the last value seen is kept.
    """

    def __init__(self, root: psutil.Process, with_root: bool = False):
        self.root, self.with_root, self.seen = root, with_root, {}

    def sample(self) -> None:
        try:
            members = [self.root] * self.with_root + self.root.children(recursive=True)
        except psutil.Error:
            return
        for member in members:
            try:
                times = member.cpu_times()
                self.seen[(member.pid, member.create_time())] = times.user + times.system
            except psutil.Error:
                continue

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())

    @contextmanager
    def sampling(self):
        """Sample in a thread while the block runs."""
        done = threading.Event()

        def loop():
            while not done.wait(POLL_S):
                self.sample()

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            done.set()
            thread.join()


@dataclass
class Timed:
    """Wall and CPU seconds of one `course grade` and the peaks of resident memory (bytes) seen meanwhile."""

    seconds: float
    cpu_seconds: float  # user + system of the grader and every process it started
    grader_peak: int  # the `course grade` process itself
    sandbox_peak: int  # everything it started, together
    score: float


def reference_submission(folder: Path, course) -> Path:
    """A folder holding every exercise's reference solution, as a student would submit them."""
    for exercise in course.exercises:
        shutil.copy(reference_path(ROOT, exercise.id, exercise.module_name), folder / exercise.student_file)
    return folder


def course_grade(folder: Path, exercises=(), device="cpu") -> Timed:
    """Run `course grade` on `folder` in a fresh process, sampling memory; raise if it fails."""
    import json

    output = folder / "results.json"
    command = [str(Path(sys.executable).with_name("course")), "grade", str(folder), "--device", device, "--output",
               str(output), "--quiet", *(part for e in exercises for part in ("--exercise", e))]
    started = time.perf_counter()
    process = psutil.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    cpu = TreeCpu(process, with_root=True)
    grader_peak = sandbox_peak = 0.0
    while process.poll() is None:
        try:
            grader_peak = max(grader_peak, process.memory_info().rss)
            sandbox_peak = max(sandbox_peak, sum(_rss(child) for child in process.children(recursive=True)))
        except psutil.Error:
            pass
        cpu.sample()
        time.sleep(POLL_S)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"course grade failed: {process.stderr.read().decode()[-2000:]}")
    score = json.loads(output.read_text(encoding="utf-8"))["score"]
    return Timed(seconds, cpu.seconds, int(grader_peak), int(sandbox_peak), score)


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.Error:
        return 0


def in_process(course, folder: Path, seed: int) -> tuple[float, float]:
    """(wall, CPU) seconds to grade the submission in `folder` in this process, with no sandbox: the same checks
    and inputs."""
    started, cpu = time.perf_counter(), time.process_time()
    for exercise in course.exercises:
        module = import_file(folder / exercise.student_file, f"bench_{exercise.module_name}")
        judge_in_process(ROOT, exercise.id, exercise.module_name, module, seed=seed)
    return time.perf_counter() - started, time.process_time() - cpu


def sandboxed(course, folder: Path, seed: int) -> tuple[float, float]:
    """(wall, CPU) seconds of `grade_submission` on `folder`, sandboxes included."""
    started, cpu = time.perf_counter(), time.process_time()
    with TreeCpu(psutil.Process()).sampling() as sandboxes:
        result = grade_submission(course, ROOT, folder, seed=seed)
    times = time.perf_counter() - started, time.process_time() - cpu + sandboxes.seconds
    if abs(result.score - result.max_score) > 1e-6:
        raise RuntimeError(f"the reference scored {result.score} of {result.max_score}")
    return times


def overhead(course, folder: Path, runs: int) -> dict:
    """Sandboxed and in-process seconds per submission, alternated on the same seeds; medians."""
    pairs = []
    for _ in range(runs):
        seed = new_seed()
        reference_outputs.cache_clear()
        inside = in_process(course, folder, seed)
        reference_outputs.cache_clear()
        pairs.append((sandboxed(course, folder, seed), inside))
    median = statistics.median
    return {"sandboxed_s": median(s[0] for s, _ in pairs), "in_process_s": median(i[0] for _, i in pairs),
            "overhead_s": median(s[0] - i[0] for s, i in pairs),
            "sandboxed_cpu_s": median(s[1] for s, _ in pairs), "in_process_cpu_s": median(i[1] for _, i in pairs),
            "overhead_cpu_s": median(s[1] - i[1] for s, i in pairs), "runs": runs}


def whole(folder: Path, runs: int, exercises=(), device="cpu") -> dict:
    timed = [course_grade(folder, exercises, device) for _ in range(runs)]
    return {"median_s": statistics.median(t.seconds for t in timed), "min_s": min(t.seconds for t in timed),
            "max_s": max(t.seconds for t in timed), "cpu_s": statistics.median(t.cpu_seconds for t in timed),
            "grader_peak": max(t.grader_peak for t in timed), "sandbox_peak": max(t.sandbox_peak for t in timed),
            "score": timed[-1].score, "runs": runs}


def measure_gpu(runs: int) -> dict:
    """The whole submission with `--device cuda` (needs a GPU)."""
    course = load_course(ROOT / "course.yml")
    with tempfile.TemporaryDirectory(prefix="bench-submission-") as scratch:
        return whole(reference_submission(Path(scratch), course), runs, device="cuda")


def measure(runs: int, per_exercise: bool) -> dict:
    import torch

    torch.set_num_threads(1)  # as in the sandbox: one thread, the same work on either side
    course = load_course(ROOT / "course.yml")
    with tempfile.TemporaryDirectory(prefix="bench-submission-") as scratch:
        folder = reference_submission(Path(scratch), course)
        figures = {"exercises": [e.id for e in course.exercises], "points": sum(e.points for e in course.exercises),
                   "whole": whole(folder, runs), "overhead": overhead(course, folder, runs)}
        if per_exercise:
            figures["per_exercise"] = {e.id: whole(folder, runs, [e.id]) for e in course.exercises}
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--per-exercise", action="store_true")
    args = parser.parse_args(argv)
    figures = measure(args.runs, args.per_exercise)
    w, o = figures["whole"], figures["overhead"]
    print(f"whole submission ({len(figures['exercises'])} exercises): median {w['median_s']:.2f} s wall "
          f"(min {w['min_s']:.2f}, max {w['max_s']:.2f}), {w['cpu_s']:.2f} s CPU, score {w['score']:g}/{figures['points']}; peak memory: "
          f"grader {w['grader_peak'] / 2**20:.0f} MiB, sandbox {w['sandbox_peak'] / 2**20:.0f} MiB")
    print(f"same checks: sandboxed {o['sandboxed_s']:.2f} s, in-process {o['in_process_s']:.2f} s, "
          f"overhead {o['overhead_s']:.2f} s wall; CPU {o['sandboxed_cpu_s']:.2f} vs {o['in_process_cpu_s']:.2f}, "
          f"overhead {o['overhead_cpu_s']:.2f} s (medians of {args.runs})")
    for exercise, timed in figures.get("per_exercise", {}).items():
        print(f"  {exercise}: median {timed['median_s']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
