"""Run an exercise's probes on student code across the isolation boundary.

The trusted side writes the inputs, starts `autograder.sandboxed.runner` in the
sandbox, watches its progress files, enforces the per-probe and per-exercise
time limits and the memory and process limits, kills the whole tree when one is
broken, and starts the runner again for the probes that are left. Only plain
data (JSON, .npz without pickle) comes back.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder import sandbox, watchdog
from autograder.config import Limits
from autograder.sandboxed import exchange

ENGINE = Path(__file__).resolve().parent
POLL_S = 0.05
FILE_BYTES = 256 * 1024 * 1024  # any one file written in the sandbox (the probes' outputs included)
STARTUP_S = 120.0  # interpreter + numpy/torch import before student code runs; not the student's time


@dataclass
class ProbeOutcome:
    """One probe's fate. `values`/`types` when ok; otherwise a `problem` kind and a message."""

    name: str
    values: dict | None = None
    types: dict | None = None
    problem: str | None = None  # exception | not_implemented | contract | missing | timeout | memory | processes | crash | import | malformed
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass
class RunReport:
    outcomes: dict = field(default_factory=dict)
    banned: str | None = None
    isolation: sandbox.Isolation | None = None
    launches: int = 0


def describe_error(error: dict) -> tuple[str, str]:
    """(problem kind, student-facing message) for an exception described by the runner."""
    where = error.get("where") or {}
    function = where.get("function")
    located = f" (line {where['line']} of your file: `{where.get('code', '').strip()}`)" if where.get("line") else ""
    if error.get("type") == "NotImplementedError":
        name = f"`{function}`" if function and function != "<module>" else "a function this check calls"
        return "not_implemented", f"not implemented: {name} still raises NotImplementedError"
    if error.get("contract"):
        return "contract", error.get("message", "")
    missing = re.fullmatch(r"module '(\w+)' has no attribute '(\w+)'", error.get("message", ""))
    if error.get("type") == "AttributeError" and missing:
        return "missing", f"missing: your {missing.group(1)}.py defines no `{missing.group(2)}` (check the spelling)"
    text = f"{error.get('type')}: {error.get('message', '')}".rstrip(": ")
    inside = f" in `{function}`" if function and function != "<module>" else ""
    return "exception", f"your code raised {text}{inside}{located}"


def build_kit(kit: Path, exercise_id: str, extra_packages=()):
    """Copy the minimum the runner needs: the sandboxed package, the exercise's probes, helpers."""

    def copy(relative: str):
        source = ENGINE.parent / relative
        target = kit / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, target)

    for relative in (
        "autograder/__init__.py",
        "autograder/sandboxed",
        "autograder/checks/__init__.py",
        f"autograder/checks/{exercise_id}/__init__.py",
        f"autograder/checks/{exercise_id}/probes.py",
        *extra_packages,
    ):
        copy(relative)


def _ended(returncode) -> str:
    """Why the sandboxed process ended on its own, for a student."""
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        if -returncode == signal.SIGXFSZ:
            return "the process wrote a file larger than the grader allows and was stopped"
        return f"the process was killed by {name} during this check (a crash in native code?)"
    return f"the process ended during this check (exit code {returncode}): does your code call exit()?"


class _Run:
    """One launch of the runner over `names`, watched until it ends or is killed."""

    def __init__(self, report, launch, isolation, out, limits, time_limits, deadline):
        self.report, self.launch, self.isolation, self.out = report, launch, isolation, out
        self.limits, self.time_limits, self.deadline = limits, time_limits, deadline

    def _finished(self, name) -> bool:
        return os.path.lexists(self.out / f"{name}.json")

    def _started(self, name) -> bool:
        return os.path.lexists(self.out / f"{name}.started")

    def _json(self, name) -> dict:
        """A runner status file, or {} when it is missing or unreadable (hostile code may write anything)."""
        try:
            return exchange.read_json(self.out / f"{name}.json") or {}
        except Exception:
            return {}

    def _record(self, name, max_bytes):
        try:
            payload = exchange.read_json(self.out / f"{name}.json")
            if payload.get("ok") is True:
                values, types = exchange.read_outputs(self.out, name, max_bytes)
                return ProbeOutcome(name, values, types)
            problem, message = describe_error(payload.get("error") or {})
            return ProbeOutcome(name, problem=problem, message=message)
        except Exception as exc:  # hostile bytes can break any reader: never the grader
            return ProbeOutcome(name, problem="malformed", message=f"the check's output could not be read back ({exc})")

    def go(self, names, argv, stdout_path):
        """Run until done or killed; return the names still to run (empty when finished)."""
        memory = self.limits.memory_mib * 1024 * 1024
        for stale in ("import.started", "import.json"):
            (self.out / stale).unlink(missing_ok=True)
        process = sandbox.start(self.isolation, self.launch, argv, stdout_path, self.limits.processes)
        self.report.launches += 1
        launched = time.monotonic()
        current, current_since = None, None  # "import" or a probe name
        failure = None  # (problem, message) when we kill
        try:
            while True:
                exited = process.poll() is not None
                now = time.monotonic()
                for name in names:  # the first probe not finished is the one running
                    if not self._finished(name):
                        break
                else:
                    name = None
                running = "import" if not self._finished("import") else name
                if running is not None and not self._started(running):
                    running = "startup" if running == "import" else "between"
                if running != current:
                    current, current_since = running, now
                if exited:
                    break
                if running is None and now - current_since > 5:
                    break  # all done, but student threads keep the process alive
                usage = watchdog.usage(process.pid)
                printed = stdout_path.stat().st_size if stdout_path.exists() else 0
                elapsed = now - current_since
                if usage.rss_bytes > memory:
                    failure = ("memory", f"used more than {self.limits.memory_mib} MiB of memory; it was stopped")
                elif printed > self.limits.output_kib * 1024:
                    failure = ("output", f"printed more than {self.limits.output_kib} KiB; it was stopped "
                               "(remove the print calls from your loops)")
                elif usage.threads > self.limits.processes:
                    failure = ("processes", f"started more than {self.limits.processes} processes or threads; it was stopped")
                elif now > self.deadline:
                    failure = ("deadline", f"the exercise's time limit of {self.limits.time_s:g} s ran out before this check")
                elif current == "startup" and now - launched > STARTUP_S:
                    failure = ("crash", f"the grader could not start Python within {STARTUP_S:g} s")
                elif current not in ("startup", "between", None) and elapsed > self.time_limits.get(current, 0):
                    limit = self.time_limits[current]
                    what = "importing your file" if current == "import" else "this check"
                    failure = ("timeout", f"{what} took longer than {limit:g} s and was stopped "
                               "(an endless loop, or a stopping rule that is never met?)")
                if failure:
                    break
                time.sleep(POLL_S)
        finally:
            watchdog.kill_tree(process.pid)
            process.wait()
        return self._settle(names, current, failure, process.returncode)

    def _settle(self, names, current, failure, returncode):
        """Record every finished probe; blame the one running at the end; return what is left."""
        max_bytes = FILE_BYTES
        banned = self._json("banned")
        if banned and not self.report.banned:
            self.report.banned = str(banned.get("module", "?"))[:200]
        if not self._finished("import"):
            problem, message = failure or ("crash", f"importing your file ended the process (exit code {returncode})")
            problem = "timeout" if problem == "deadline" else problem
            for name in names:
                self.report.outcomes[name] = ProbeOutcome(name, problem=problem, message=message)
            return []
        payload = self._json("import")
        if payload.get("ok") is not True:
            problem, message = describe_error(payload.get("error") or {})
            message = "importing your file failed: " + message.removeprefix("your code raised ")
            for name in names:
                self.report.outcomes[name] = ProbeOutcome(name, problem="import", message=message)
            return []
        for index, name in enumerate(names):
            if self._finished(name):
                self.report.outcomes[name] = self._record(name, max_bytes)
                continue
            if failure and failure[0] == "deadline":  # the exercise's own time ran out: nothing left runs
                for rest in names[index:]:
                    self.report.outcomes[rest] = ProbeOutcome(rest, problem="timeout", message=failure[1])
                return []
            # The first unfinished probe was running (or about to) when the process ended: blame it,
            # so that every launch settles at least one probe and the loop always ends.
            problem, message = failure or ("crash", _ended(returncode))
            self.report.outcomes[name] = ProbeOutcome(name, problem=problem, message=message)
            return names[index + 1:]
        return []


def run_probes(exercise_id, module_name, student_file, probes, names, inputs, limits: Limits,
               device="cpu", banned=(), extra_packages=()) -> RunReport:
    """Run probes `names` on `student_file` in the sandbox; every name gets an outcome."""
    isolation = sandbox.detect_isolation()
    report = RunReport(isolation=isolation)
    scratch = Path(tempfile.mkdtemp(prefix="course-grade-"))
    try:
        box, kit = scratch / "box", scratch / "kit"
        for sub in ("submission", "inputs", "out"):
            (box / sub).mkdir(parents=True)
        build_kit(kit, exercise_id, extra_packages)
        shutil.copyfile(student_file, box / "submission" / f"{module_name}.py")
        for name in names:
            arrays = {k: np.asarray(v) for k, v in (inputs.get(name) or {}).items()}
            np.savez(box / "inputs" / f"{name}.npz", **arrays)
        launch = sandbox.Launch(box=box, kit=kit, output_bytes=FILE_BYTES, device=device)
        box_in, kit_in = sandbox.paths(isolation, launch)
        time_limits = {"import": limits.check_time_s}
        time_limits.update({name: probes[name].time_s or limits.check_time_s for name in names})
        deadline = time.monotonic() + limits.time_s
        watcher = _Run(report, launch, isolation, box / "out", limits, time_limits, deadline)
        left = list(names)
        while left:
            argv = [
                "python", "-I", "-c",
                f"import sys; sys.path.insert(0, {kit_in!r}); import os; from autograder.sandboxed.runner import main; os._exit(main())",
                "--probes", f"autograder.checks.{exercise_id}.probes",
                "--student", f"{box_in}/submission/{module_name}.py",
                "--module-name", module_name,
                "--inputs", f"{box_in}/inputs", "--out", f"{box_in}/out",
                "--run", ",".join(left), "--device", device, "--banned", ",".join(banned),
            ]
            left = watcher.go(left, argv, scratch / f"stdout-{report.launches}.txt")
        return report
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
