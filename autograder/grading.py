"""Grade one submission: locate -> static checks -> inputs -> reference -> sandboxed run -> judge -> score.

Whatever the student's code does, every check of every graded exercise gets a
result with feedback; only the grader's own failures raise (and `IsolationRefused`,
before anything is graded, when student code cannot be isolated here).

Inputs come from a secret seed drawn per submission (same distributions, other values), so
outputs memorised from an earlier grading earn nothing; the reference runs on the same inputs.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import gc
import importlib
import importlib.util
import math
import os
import queue
import secrets
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder import isolation, sandbox, sanitize, stand_in_inputs, static
from autograder.checking import CheckSet, Evidence, Verdict, load_checks
from autograder.checks.diagnostics import explain_error
from autograder.config import Course, Exercise
from autograder.executor import ProbeOutcome, RunReport, run_exercise
from autograder.session import STARTUP_S, ExerciseRun, Session, kit_packages
from autograder.late import kept_fraction
from autograder.readback import OutputSchema
from autograder.results import SCORE_DECIMALS, CheckResult, ExerciseResult, SubmissionResult
from autograder.sandboxed import exchange
from autograder.sandboxed.probekit import placement_not_judged
from autograder.sandboxed.runner import is_banned
from autograder.submission import locate, opened


def new_seed() -> int:
    """A secret seed for one submission's inputs."""
    return secrets.randbits(63)


def one_compute_thread() -> None:
    """One compute thread (BLAS, OpenMP, PyTorch) in this process from now on, as in the sandbox.

    The grader's own work (inputs, the reference, the judges) is small, and the cores are the sandboxes' (or
    other grading workers'): each library's pool would ask for every core too, and OpenBLAS's and OpenMP's
    threads spin while they wait, about 1 CPU-s per submission on two cores (grade-all --jobs 2 once took
    longer than --jobs 1). Environment variables cover the libraries loaded later, threadpoolctl those already
    loaded.
    """
    from threadpoolctl import threadpool_limits

    os.environ.update({name: "1" for name in sandbox.THREAD_ENV})
    threadpool_limits(limits=1)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def probe_inputs(checks: CheckSet, names, seed: int | None = None, reference_file: Path | None = None) -> dict:
    """Inputs for each probe: from `seed` mixed with the probe's name, or (seed None) from the name alone.

    With `reference_file`, probes that declare trials also get what the reference's pieces return on them
    (`stand_in_inputs`: values only; nothing of the reference's code reaches the sandbox).
    """
    inputs = {}
    for name in names:
        probe = checks.probes[name]
        entropy = zlib.crc32(name.encode()) if seed is None else [seed, zlib.crc32(name.encode())]
        rng = np.random.default_rng(entropy)
        inputs[name] = probe.make_inputs(rng) if probe.make_inputs else {}
    if reference_file is not None:
        stand_in_inputs.attach(checks.probes, names, inputs, import_file(reference_file, reference_file.stem))
    return inputs


def reference_path(root, exercise_id: str, module_name: str) -> Path:
    """solutions/<exercise_id>/<module_name>.py under the course root."""
    return Path(root) / "solutions" / exercise_id / f"{module_name}.py"


def import_file(path: Path, module_name: str):
    """Import a trusted Python file (a reference solution) under a private name."""
    spec = importlib.util.spec_from_file_location(f"_reference_{module_name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_in_process(checks: CheckSet, module, names, inputs, device="cpu") -> dict:
    """Run probes on a module in this process (the reference; notebook kernels; fast tests).

    Outputs go through the same encoding as the sandbox's, so a judge sees identical values and
    type names whichever side ran the probe.
    """
    outcomes = {}
    for name in names:
        values, types = exchange.decode(*exchange.encode(checks.probes[name].run(module, inputs[name], device)))
        outcomes[name] = ProbeOutcome(name, values=values, types=types)
    return outcomes


def judge_in_process(root, exercise_id: str, module_name: str, module, skip=(), device="cpu", seed=None,
                     stored=None) -> dict:
    """check name -> Verdict for a module already imported in this process, with no sandbox.

    The same probes, inputs, reference and judges as `course grade`; a probe that raises scores 0
    with the same feedback the sandbox would give. This is the path for notebook kernels
    (nbgrader/otter exports, where no isolation exists) and for fast tests of many submissions.
    `skip` names probes (e.g. training smoke tests) to leave out; `seed` draws other inputs (None: the
    fixed ones). `stored` is (reference values by probe, the inputs `stand_in_inputs` adds by probe)
    saved beforehand for the fixed inputs, so no solution file is needed (the otter and nbgrader exports store them
    with the export); by default both come from `root`'s solution.
    """
    from autograder.executor import describe_error
    from autograder.readback import error_of
    from autograder.sandboxed.runner import describe_exception

    checks = load_checks(exercise_id)
    names = [n for n in checks.probe_names() if n not in skip]
    if stored is None:
        inputs = probe_inputs(checks, names, seed, reference_path(root, exercise_id, module_name))
        reference = {n: o.values for n, o in reference_outputs(str(root), exercise_id, module_name, device, seed).items()}
    else:
        if seed is not None:
            raise ValueError("stored reference values belong to the fixed inputs: pass seed=None with stored")
        reference, expected = stored
        inputs = probe_inputs(checks, names)
        for name in set(names) & set(expected):
            inputs[name].update(expected[name])
    verdicts = {}
    for name in names:
        judged = [c for c in checks.checks if c.probe == name]
        try:
            outcome = run_in_process(checks, module, [name], inputs, device)[name]
        except Exception as exc:  # a wrong submission may raise anything
            error = describe_exception(exc, getattr(module, "__file__", "") or "")
            message = explain_error(describe_error(error_of({"error": error}))[1])
            verdicts.update({c.name: Verdict(0.0, message) for c in judged})
            continue
        ref = reference.get(name, {})
        verdicts.update({c.name: c.verdict(Evidence(inputs[name], outcome.values, outcome.types, ref)) for c in judged})
    return verdicts


@functools.lru_cache(maxsize=None)
def _reference_module(root: str, exercise_id: str, module_name: str):
    return import_file(reference_path(root, exercise_id, module_name), module_name)


@functools.lru_cache(maxsize=32)
def reference_outputs(root: str, exercise_id: str, module_name: str, device: str, seed: int | None = None) -> dict:
    """Reference outputs of every probe that asks for them, on the inputs of `seed`; cached per seed."""
    checks = load_checks(exercise_id)
    names = [n for n in checks.probe_names() if checks.probes[n].reference]
    reference = _reference_module(root, exercise_id, module_name)
    inputs = probe_inputs(checks, names, seed, reference_path(root, exercise_id, module_name))
    with placement_not_judged():  # judges read only the student's placement (`judging.judge_meta`)
        return run_in_process(checks, reference, names, inputs, device)


def output_schemas(checks: CheckSet, names, reference: dict) -> dict:
    """Probe name -> what it may send back: the reference's keys and a budget derived from their sizes."""
    return {name: OutputSchema.for_probe(checks.probes[name], reference[name].values if name in reference else None)
            for name in names}


def apportion(total: int, quotas) -> list[int]:
    """Whole shares of `total` in proportion to `quotas` that add up exactly to it.

    Largest remainders: each share is its quota rounded down or up, and the units left after
    rounding down go to the largest fractional parts (ties to the earlier entry).
    """
    quotas = [max(float(q), 0.0) for q in quotas]
    scale = sum(quotas)
    if total <= 0 or scale <= 0:
        return [0] * len(quotas)
    exact = [q * total / scale for q in quotas]
    shares = [math.floor(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: (shares[i] - exact[i], i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def check_maxima(exercise: Exercise, checks: CheckSet) -> list[float]:
    """Each check's points: its weight's share of the exercise's points, a whole multiple of
    10^-SCORE_DECIMALS, the shares adding up exactly to the exercise's points."""
    unit = 10 ** SCORE_DECIMALS
    return [m / unit for m in apportion(round(exercise.points * unit), [check.points for check in checks.checks])]


def _scaled_results(exercise: Exercise, checks: CheckSet, verdicts) -> list[CheckResult]:
    """Check results whose points are whole multiples of 10^-SCORE_DECIMALS and add up exactly:
    the maxima to the exercise's points, the scores to the exercise's (rounded) score."""
    unit = 10 ** SCORE_DECIMALS
    maxima = [round(m * unit) for m in check_maxima(exercise, checks)]
    fractions = [min(max(f, 0.0), 1.0) if math.isfinite(f) else 0.0 for f, _ in verdicts]
    earned_quotas = [f * m for f, m in zip(fractions, maxima)]
    earned = apportion(round(sum(earned_quotas)), earned_quotas)
    return [
        CheckResult(exercise.id, check.name, score / unit, maximum / unit, feedback,
                    exercise.visibility_of(check.name, check.visibility))
        for check, (_, feedback), score, maximum in zip(checks.checks, verdicts, earned, maxima)
    ]


def _all_zero(exercise, checks, message):
    return _scaled_results(exercise, checks, [(0.0, message)] * len(checks.checks))


@dataclass
class _Pending:
    """An exercise whose file was found and passed the static checks, on its way through the sandbox.

    Its sandbox starts before its checks, inputs and reference outputs exist (`loaded`, `ready`): the grader
    computes those while the sandbox imports PyTorch.
    """

    exercise: Exercise
    result: ExerciseResult
    found: object  # submission.Located
    limits: object  # config.Limits
    checks: CheckSet | None = None
    names: list = field(default_factory=list)
    inputs: dict = field(default_factory=dict)
    reference: dict = field(default_factory=dict)
    schemas: dict = field(default_factory=dict)
    loaded: threading.Event = field(default_factory=threading.Event)  # checks, names and inputs (or a failure)
    ready: threading.Event = field(default_factory=threading.Event)  # reference and schemas computed

    def run(self) -> ExerciseRun:
        """What its sandbox needs to start; `fill` adds the probes and inputs once they exist."""
        return ExerciseRun(self.exercise.id, self.exercise.module_name, self.found.source, None, [], {}, self.limits,
                           _Schemas(self), tuple(sorted(self.exercise.banned_imports)), kit_packages(self.exercise.id))

    def fill(self, run: ExerciseRun) -> None:
        self.loaded.wait()
        if self.checks is None:
            raise RuntimeError(f"the grader could not prepare the checks of {self.exercise.id}")
        run.probes, run.names, run.inputs = self.checks.probes, self.names, self.inputs


class _Schemas:
    """The probes' output schemas, waited for: they come from the reference outputs, computed meanwhile."""

    def __init__(self, pending: _Pending):
        self.pending = pending

    def get(self, name, default=None):
        self.pending.ready.wait()
        return self.pending.schemas.get(name, default)


def _locate(course: Course, exercise: Exercise, folder: Path) -> tuple[ExerciseResult, _Pending | None]:
    """Locate the student's file and check it without running it; (the final result, None) when that fails.

    Imports nothing of the exercise's checks (nor PyTorch) unless the file fails here.
    """
    result = ExerciseResult(exercise.id, exercise.title)
    found = locate(folder, exercise.module_name)
    if found.problem:
        result.checks = _all_zero(exercise, load_checks(exercise.id), found.problem)
        return result, None
    result.notes.append(f"graded {found.origin}")
    result.notes.extend(found.notes)
    problem = static.syntax_problem(found.source, found.origin)
    if problem is None:
        banned = static.banned_imports(found.source, exercise.banned_imports)
        if banned:
            module, line = banned[0]
            problem = f"{found.origin} imports {module} ({found.where(line)}), which this exercise does not allow"
    if problem:
        result.checks = _all_zero(exercise, load_checks(exercise.id), problem)
        return result, None
    return result, _Pending(exercise, result, found, course.limits_for(exercise))


def _load(pending: _Pending, root: Path, seed) -> None:
    """The exercise's checks and its probes' inputs from the secret seed."""
    try:
        checks = load_checks(pending.exercise.id)
        pending.names = checks.probe_names()
        pending.inputs = probe_inputs(checks, pending.names, seed,
                                      reference_path(root, pending.exercise.id, pending.exercise.module_name))
        pending.checks = checks
    finally:
        pending.loaded.set()  # a failure here is the grader's own: raised by the caller, not waited for forever


def _compute_reference(pending: _Pending, root: Path, device: str, seed) -> None:
    try:
        pending.reference = reference_outputs(str(root), pending.exercise.id, pending.exercise.module_name, device,
                                              seed)
        pending.schemas = output_schemas(pending.checks, pending.names, pending.reference)
    finally:
        pending.ready.set()  # a failure here is the grader's own: raised by the caller, not waited for forever


def _judge(pending: _Pending, report: RunReport) -> None:
    """Fill in the pending exercise's result from what came back and the reference."""
    exercise, checks, result, found = pending.exercise, pending.checks, pending.result, pending.found
    if report.isolation and not report.isolation.strong:
        result.notes.append(report.isolation.reason)
    if report.printed_bytes:
        result.printed = report.output
        result.notes.append(f"your code printed {report.printed_bytes:,} bytes (kept below; printing never costs points)")
    if report.banned:
        result.checks = _all_zero(exercise, checks, f"your code imported {report.banned} at run time, which this exercise does not allow")
        return
    verdicts = []
    for check in checks.checks:
        outcome = report.outcomes[check.probe]
        if not outcome.ok:
            verdicts.append((0.0, explain_error(sanitize.text(outcome.message))))
            continue
        ref = pending.reference.get(check.probe)
        evidence = Evidence(pending.inputs[check.probe], outcome.values, outcome.types, ref.values if ref else {})
        verdict = check.verdict(evidence)
        verdicts.append((verdict.fraction, verdict.feedback))
    result.checks = _scaled_results(exercise, checks, [(f, found.relabel(text)) for f, text in verdicts])


def _bans(item) -> tuple:
    return tuple(sorted(item.exercise.banned_imports))


def _names_any(source: str, modules) -> bool:
    """Whether the source mentions the top-level package of any of `modules` anywhere (imports, strings, comments)."""
    return any(module.split(".")[0] in source for module in modules)


def _cost(item) -> float:
    """An exercise's expected share of a sandbox's time: the time limit course.yml gives it."""
    return item.limits.time_s


def sandbox_plan(pending: list) -> dict:
    """Banned modules of a sandbox -> the exercises it may run: as few sandboxes as the bans allow.

    Each distinct non-empty set of banned modules gets a sandbox (one sandbox in all when nothing is banned).
    An exercise may run in every sandbox that bans at least what it bans, if its file never names the extra
    modules (they are refused there too); one that fits none gets a sandbox of its own bans. Which of its
    sandboxes runs it is settled while they run (`_Claims`). An exercise that imports an extra module anyway
    (by a computed name) is graded again in a sandbox of its own bans (`_run_sandboxed`).
    """
    sets = sorted({_bans(item) for item in pending if _bans(item)}) or [()]
    plan = {bans: [] for bans in sets}
    for item in sorted(pending, key=_cost, reverse=True):
        own = _bans(item)
        hosts = [bans for bans in sets
                 if set(own) <= set(bans) and not _names_any(item.found.source, set(bans) - set(own))]
        for bans in hosts or [own]:
            plan.setdefault(bans, []).append(item)
    return {bans: items for bans, items in plan.items() if items}


class _Claims:
    """The exercises no sandbox has taken yet. A sandbox that is free takes the costliest one it may run: the
    largest go first, each wherever a core is free, so the sandboxes finish at about the same time whatever each
    exercise turns out to cost."""

    def __init__(self, plan: dict):
        self.lock = threading.Lock()
        self.hosts = {}  # exercise id -> the sandboxes (their bans) that may run it
        for bans, items in plan.items():
            for item in items:
                self.hosts.setdefault(item.exercise.id, set()).add(bans)
        every = {item.exercise.id: item for items in plan.values() for item in items}
        self.left = sorted(every.values(), key=_cost, reverse=True)  # ties keep course.yml's order

    def order(self) -> list:
        """The exercises in about the order the sandboxes will take them."""
        return list(self.left)

    def take(self, bans):
        """The next exercise for the sandbox refusing `bans`, or None when none is left for it."""
        with self.lock:
            for index, item in enumerate(self.left):
                if bans in self.hosts[item.exercise.id]:
                    return self.left.pop(index)
        return None


def _run_sandboxed(course: Course, root: Path, pending: list, device: str, seed, no_isolation: bool,
                   protect) -> None:
    """Run every pending exercise in sandboxes (`sandbox_plan`, in parallel) and judge it as it comes back.

    The sandboxes start first; while they import PyTorch (paid once per sandbox), this thread imports
    the checks and makes the inputs from the secret seed and the reference's outputs on them.
    """
    level = isolation_for(root, no_isolation, protect)
    one_compute_thread()
    course_banned = sorted({module for other in course.exercises for module in other.banned_imports})
    reports, settled = {}, queue.Queue()
    plan = sandbox_plan(pending)
    claims = _Claims(plan)
    spawned = {bans: threading.Event() for bans in plan}  # set once its zygote is on its way (or it failed)

    def sandbox(bans, items) -> tuple:
        """A session and its runs (exercise id -> run), made in this thread: both parse Python (kit_packages,
        Session.preload), which CPython 3.11 cannot do in two threads at once."""
        runs = {item.exercise.id: item.run() for item in items}
        return Session(level, list(runs.values()), device, course_banned, banned=bans), runs

    def serve(bans, session, runs, take):
        try:
            with session:
                session.spawn()
                spawned[bans].set()
                session.await_ready()  # PyTorch and the probes, while this process makes the inputs
                while (item := take(bans)) is not None:
                    run = runs[item.exercise.id]
                    item.fill(run)
                    reports[item.exercise.id] = run_exercise(session, run)
                    settled.put(item)
        finally:
            spawned[bans].set()

    in_turn = claims.order()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(plan)), thread_name_prefix="sandbox") as pool:
        futures = [pool.submit(serve, bans, *sandbox(bans, items), claims.take) for bans, items in plan.items()]
        for event in spawned.values():  # the sandboxes get going before this thread imports PyTorch (and holds the GIL)
            event.wait(STARTUP_S)
        try:
            with _imports_kept():
                for item in in_turn:  # in the order the sandboxes take them: what they will wait for first
                    _load(item, root, seed)
            for item in in_turn:
                _compute_reference(item, root, device, seed)
            with _imports_kept():
                for module in dict.fromkeys(m for item in pending for m in item.checks.warm_imports):
                    importlib.import_module(module)  # what the judges import, while the sandboxes still run
        finally:
            for item in pending:
                item.loaded.set()
                item.ready.set()
        again = []
        for _ in pending:  # judged as they come back, while the sandboxes go on
            item = _next_settled(settled, futures)
            report = reports[item.exercise.id]
            if report.banned and not is_banned(report.banned, item.exercise.banned_imports):
                again.append(item)  # refused a module only its host sandbox bans: again, under its own bans
            else:
                _judge(item, report)
        for future in futures:
            future.result()
    for item in again:
        spawned.setdefault(_bans(item), threading.Event())
        once = iter([item])
        serve(_bans(item), *sandbox(_bans(item), [item]), lambda bans: next(once, None))
        _judge(item, reports[item.exercise.id])


@contextlib.contextmanager
def _imports_kept():
    """No garbage collection while importing (PyTorch, scikit-learn: hundreds of thousands of objects that all stay,
    walked again by each full collection, ~0.1 s apiece), then those objects are set aside for good (`gc.freeze`).

    Only when something was imported: a process that grades many submissions freezes once, not whatever garbage
    each later one leaves.
    """
    was_enabled, modules = gc.isenabled(), len(sys.modules)
    gc.disable()
    try:
        yield
    finally:
        if len(sys.modules) > modules:
            gc.freeze()
        if was_enabled:
            gc.enable()


def _next_settled(settled: queue.Queue, futures):
    """The next exercise a sandbox finished; raises what a sandbox's thread raised (the grader's own failure)."""
    while True:
        try:
            return settled.get(timeout=0.05)
        except queue.Empty:
            for future in futures:
                if future.done() and future.exception() is not None:
                    raise future.exception()


def grade_exercise(course: Course, root: Path, exercise: Exercise, folder: Path, device="cpu", *,
                   seed: int | None = None, no_isolation: bool = False, protect=()) -> ExerciseResult:
    """Grade one exercise of the submission unpacked in `folder` (see `grade_submission` for the options)."""
    result, pending = _locate(course, exercise, folder)
    if pending is not None:
        _run_sandboxed(course, root, [pending], device, seed, no_isolation, protect)
    return result


def _protected(root: Path, protect) -> tuple:
    return tuple(sorted({*isolation.protected_paths(Path(root)), *(str(p) for p in protect)}))


def isolation_for(root: Path, no_isolation: bool = False, protect=()) -> isolation.Isolation:
    """The isolation grading the course at `root` gets here; `isolation.IsolationRefused` says why there is none."""
    return isolation.detect(no_isolation, _protected(root, protect))


def grade_submission(course: Course, root: Path, submission: Path, exercise_ids=None, device="cpu",
                     progress=None, submitted_at=None, *, no_isolation: bool = False, seed: int | None = None,
                     protect=()) -> SubmissionResult:
    """Grade the named exercises (default: all in course.yml) of one submission.

    With `submitted_at` (an aware datetime), each exercise's late policy applies. `no_isolation`
    runs student code as the grader's own user (an instructor's own code only; the results say
    so). `seed` fixes the secret input seed (default: a fresh one). `protect` adds paths no
    sandbox may read (e.g. a folder of other students' submissions, the results folder).
    Raises `isolation.IsolationRefused` before grading anything when student code cannot be isolated.

    Exercises share a few sandboxes (`sandbox_plan`: one per distinct set of banned modules), whose
    interpreter and PyTorch start once, while this process makes the inputs and the reference's outputs
    (see `autograder.session`); each exercise still runs in a fresh child with its own limits, and is
    judged as soon as it comes back.
    """
    started = time.monotonic()
    exercises = [course.exercise(i) for i in exercise_ids] if exercise_ids else list(course.exercises)
    seed = new_seed() if seed is None else seed
    isolation_for(root, no_isolation, protect)  # refuse before grading anything
    results, pending = [], []
    with opened(submission) as folder:
        for exercise in exercises:
            if progress:
                progress(exercise)
            result, waiting = _locate(course, exercise, folder)
            results.append(result)
            pending += [waiting] if waiting else []
        if pending:
            _run_sandboxed(course, root, pending, device, seed, no_isolation, protect)
    for exercise, result in zip(exercises, results):
        result.kept_fraction, note = kept_fraction(exercise, submitted_at)
        if note:
            result.notes.append(note)
    return SubmissionResult(results, execution_time=time.monotonic() - started)
