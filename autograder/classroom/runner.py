"""The batch behind `course grade-all`: pick this shard's submissions, skip what is already graded,
grade the rest in this process and a pool of worker processes with a progress bar, write each
student's files as soon as that student is done.

Each submission is staged into a clean scratch folder and graded by `grade_submission`, exactly as
`course grade` grades a folder. Its fingerprint (staged content, identity, submission time, and the
course's checks, references, limits and engine) decides whether an earlier result can be kept.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import multiprocessing
import sys
import tempfile
import time
import traceback
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from autograder.classroom import store
from autograder.classroom.layouts import Submission
from autograder.classroom.staging import fresh_folder, stage
from autograder.config import load_course
from autograder.paths import ENGINE_ROOT

ENGINE_FILES = ("autograder/*.py", "autograder/sandboxed/*.py", "autograder/checks/*.py")


@dataclass(frozen=True)
class Options:
    root: Path  # the course folder (course.yml, solutions/)
    out: Path
    exercise_ids: tuple[str, ...]
    device: str = "cpu"
    regrade: bool = False
    course_hash: str = ""


@dataclass(frozen=True)
class Outcome:
    key: str
    state: str  # "graded", "kept" (unchanged since the last run) or "failed" (no record written)
    status: str = "ok"
    message: str = ""


def parse_shard(text: str) -> tuple[int, int]:
    """'I/N' (1 <= I <= N) -> (I, N); ValueError with a readable message otherwise."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard expects I/N, e.g. 1/4, got {text!r}") from None
    if not 1 <= index <= count:
        raise ValueError(f"--shard {text}: I must be between 1 and N")
    return index, count


def in_shard(key: str, shard: tuple[int, int] | None) -> bool:
    """Whether a submission belongs to shard I of N: a hash of its key, so shards stay stable as a class grows."""
    if shard is None:
        return True
    index, count = shard
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % count == index - 1


def course_fingerprint(root: Path, course, exercise_ids, device: str) -> str:
    """A hash of everything besides the submission that decides its results: the graded exercises'
    settings in course.yml, their hidden checks and reference solutions, and the grading engine."""
    digest = hashlib.sha256()
    settings = {"device": device, "limits": course.limits.model_dump(mode="json"),
                "exercises": [course.exercise(i).model_dump(mode="json") for i in exercise_ids]}
    digest.update(json.dumps(settings, sort_keys=True).encode())
    files = [p for pattern in ENGINE_FILES for p in ENGINE_ROOT.glob(pattern)]
    for exercise_id in exercise_ids:
        files += (ENGINE_ROOT / "autograder" / "checks" / exercise_id).glob("*.py")
        files += (Path(root) / "solutions" / exercise_id).glob("*.py")
    for path in sorted(set(files)):
        digest.update(path.name.encode() + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@lru_cache(maxsize=None)
def _course(root: str):
    return load_course(Path(root) / "course.yml")


def _fingerprint(submission: Submission, content_hash: str, options: Options) -> str:
    identity = json.dumps([[asdict(s) for s in submission.students], str(submission.submitted_at),
                           submission.marked_late, submission.problems, content_hash, options.course_hash])
    return hashlib.sha256(identity.encode()).hexdigest()


def grade_one(submission: Submission, options: Options) -> Outcome:
    """Stage, grade and write one submission's files (runs in a worker process)."""
    from autograder.classroom.feedback import render_feedback
    from autograder.classroom.record import build_record
    from autograder.grading import grade_submission

    course = _course(str(options.root))
    exercises = [course.exercise(i) for i in options.exercise_ids]
    folder = store.student_dir(options.out, submission.key)
    store.clear_partials(folder)
    previous = store.read_record(folder)
    with tempfile.TemporaryDirectory(prefix="course-grade-all-") as scratch:
        staged = stage(submission, fresh_folder(Path(scratch) / "submission"), exercises)
        fingerprint = _fingerprint(submission, staged.content_hash, options)
        if previous and previous.get("fingerprint") == fingerprint and not options.regrade:
            return Outcome(submission.key, "kept", previous["status"])
        started = time.monotonic()
        try:
            result = grade_submission(course, options.root, staged.folder, list(options.exercise_ids), options.device,
                                      submitted_at=submission.submitted_at)
        except Exception as exc:  # the grader failed: this student gets a clear status, the batch goes on
            staged.problems.append(("error", f"the grader failed: {type(exc).__name__}: {exc}"))
            traceback.print_exc(file=sys.stderr)
            result = grade_submission(course, options.root, fresh_folder(Path(scratch) / "empty"),
                                      list(options.exercise_ids), options.device)
        elapsed = time.monotonic() - started
    result.notes[:0] = [message for _, message in staged.problems]
    if submission.marked_late:
        result.notes.append("the layout marks this submission late but gives no submission time, "
                            "so no late penalty was applied here")
    for exercise_id, (origin, source) in staged.sources.items():
        store.atomic_write(folder / "sources" / f"{exercise_id}.py", source)
    record = build_record(submission, result, staged.problems, fingerprint, elapsed,
                          {e: origin for e, (origin, _) in staged.sources.items()})
    store.atomic_write(folder / "results.json", json.dumps(result.to_gradescope(), indent=2) + "\n")  # as `course grade`
    store.atomic_write(folder / "feedback.html", render_feedback(course, record))
    store.write_json(folder / store.RECORD, record)
    return Outcome(submission.key, "graded", record["status"])


def _safe_grade(submission: Submission, options: Options) -> Outcome:
    try:
        return grade_one(submission, options)
    except Exception as exc:  # e.g. a full disk: no record, so the next run tries again
        traceback.print_exc(file=sys.stderr)
        return Outcome(submission.key, "failed", "error", f"{type(exc).__name__}: {exc}")


@contextmanager
def grading_workers(jobs: int):
    """The `jobs - 1` spawned processes that grade beside this one (None for one job), each computing on one
    thread. They start on first use; once the batch is done they rank the report's similarity."""
    if jobs <= 1:
        yield None
        return
    from autograder.grading import one_compute_thread

    context = multiprocessing.get_context("spawn")  # no forked copies of threads or CUDA state
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs - 1, mp_context=context,
                                                initializer=one_compute_thread) as workers:
        yield workers


def run_batch(submissions, options: Options, jobs: int, quiet: bool = False, workers=None, then=None) -> list[Outcome]:
    """Grade `submissions` with `jobs` graders at once; a tqdm bar shows the count, the ETA, the submissions with
    problems so far and those the grader could not grade (retried on the next run).

    This process is one of the graders (a thread of it: the student code runs in sandboxes either way), and
    `jobs - 1` spawned worker processes are the others (`workers` from `grading_workers`, or made here). Each
    grader takes the next submission when it is done with one, so a slow submission never holds back the others'.
    `then`: a module-level function each of `workers` runs when nothing is left to hand out (what comes next
    needs); a pool made here closes with the batch, so it is not given one.
    """
    from tqdm import tqdm

    from autograder.grading import one_compute_thread

    outcomes = []
    bar = tqdm(total=len(submissions), unit="sub", desc="grading", disable=quiet, file=sys.stderr, dynamic_ncols=True)

    def done(outcome: Outcome):
        outcomes.append(outcome)
        problems = sum(o.status != "ok" for o in outcomes)
        failed = sum(o.state == "failed" for o in outcomes)
        bar.set_postfix_str(f"problems {problems}" + (f", not graded {failed}" if failed else ""), refresh=False)
        bar.update()
        if outcome.state == "failed":
            bar.write(f"{outcome.key}: not graded ({outcome.message}); it will be retried on the next run")

    one_compute_thread()
    with bar:
        if jobs <= 1 or len(submissions) <= 1:
            for submission in submissions:
                done(_safe_grade(submission, options))
        elif workers is None:
            with grading_workers(jobs) as workers:
                _share_out(submissions, options, jobs, done, workers)
        else:
            _share_out(submissions, options, jobs, done, workers, then=then)
    return sorted(outcomes, key=lambda o: o.key)


def _share_out(submissions, options: Options, jobs: int, done, workers, grade=None, then=None) -> None:
    """Grade `submissions` in a thread of this process and `jobs - 1` `workers`, each taking the next one as it
    finishes its last (no queue builds up in front of a grader that is stuck on a slow submission). When none is
    left to hand out, each worker runs `then` (if given) while the last ones finish.

    A worker that dies (killed, out of memory) breaks its pool: its submission is reported as not graded
    and this process grades the rest alone. `grade(submission, options) -> Outcome` is `_safe_grade` unless
    given (a module-level function: the workers import it).
    """
    grade = grade or _safe_grade
    waiting = list(reversed(submissions))
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="grader") as here:
        running = {}

        def start(pool) -> None:
            submission = waiting.pop()
            try:
                running[pool.submit(grade, submission, options)] = (pool, submission)
            except concurrent.futures.BrokenExecutor:  # a worker died: this process's grader takes it later
                waiting.append(submission)
                return
            if not waiting and then is not None:
                for _ in range(jobs - 1):
                    _submit_quietly(workers, then)

        for pool in [here] + [workers] * (jobs - 1):
            if waiting:
                start(pool)
        while running:
            finished, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in finished:
                pool, submission = running.pop(future)
                try:
                    done(future.result())
                except Exception as exc:  # a worker died (killed, out of memory)
                    done(Outcome(submission.key, "failed", "error", f"worker died: {exc}"))
                if waiting:
                    start(pool)


def _submit_quietly(pool, function) -> None:
    """Queue work whose result nobody waits for (a broken pool takes nothing)."""
    try:
        pool.submit(function)
    except concurrent.futures.BrokenExecutor:
        pass
