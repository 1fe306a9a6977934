"""Run an exercise's probes on student code across the isolation boundary.

In a `session.Session` (one sandbox whose zygote forks a child per run), the trusted side asks
for a child running the exercise's probes and follows its progress over a pipe of that run
(events the student cannot take back: deleting a file changes nothing). It enforces the
per-probe and per-exercise time limits and the memory, process and file limits from outside,
kills everything the sandbox started but the zygote when one is broken (and at the end, before
anything is read), then asks for another child for the probes that are left. Only plain data
comes back, read through `readback`.
"""

from __future__ import annotations

import os
import re
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder import isolation as isolation_levels
from autograder import file_limits, readback, safe_io, sanitize, watchdog
from autograder import session as session_module
from autograder.config import Limits
from autograder.output_capture import OutputCapture
from autograder.sandboxed import runner

POLL_S = 0.05
FILE_LIMIT_ERRNO = re.compile(r"\[Errno (27|28|122)\]")  # EFBIG, ENOSPC, EDQUOT: a full box or a file too large
GRACE_S = 5.0  # after the last probe, how long student threads may keep the process alive


@dataclass
class ProbeOutcome:
    """One probe's fate. `values`/`types` when ok; otherwise a `problem` kind and a message."""

    name: str
    values: dict | None = None
    types: dict | None = None
    problem: str | None = None  # exception | not_implemented | contract | missing | timeout | memory | processes | files | crash | import | malformed
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass
class RunReport:
    outcomes: dict = field(default_factory=dict)
    banned: str | None = None
    isolation: isolation_levels.Isolation | None = None
    launches: int = 0
    printed: list = field(default_factory=list)  # per launch: (bytes printed, text kept)

    @property
    def printed_bytes(self) -> int:
        return sum(total for total, _ in self.printed)

    @property
    def output(self) -> str:
        """What the student's code printed (head and tail of each launch), sanitised."""
        texts = [text for total, text in self.printed if total]
        return "\n[... the grader restarted your code for the remaining checks ...]\n".join(texts)


def describe_error(error: dict) -> tuple[str, str]:
    """(problem kind, student-facing message) for an exception described by the runner (already sanitised)."""
    where = error.get("where") or {}
    function = where.get("function")
    located = f" (line {where['line']} of your file: `{(where.get('code') or '').strip()}`)" if where.get("line") else ""
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
    if error.get("type") in ("OSError", "IOError") and error.get("message", "").startswith("[Errno 24]"):
        return "exception", (f"your code opened more files at once than the sandbox allows (course.yml's open_files): "
                             f"{text}{inside}{located}; close each file when done with it (a `with` block)")
    if error.get("type") in ("OSError", "IOError") and FILE_LIMIT_ERRNO.match(error.get("message", "")):
        return "files", (f"your code wrote more than the sandbox's files may take (course.yml's files_mib) and the "
                         f"write failed: {text}{inside}{located}; write less, or delete what you no longer need")
    return "exception", f"your code raised {text}{inside}{located}"


def _ended(returncode) -> str:
    """Why the sandboxed process ended on its own, for a student."""
    if returncode == runner.UNWRITABLE:
        return ("the check ran, but its result could not be written: your code left no open files or no room for "
                "files (course.yml's open_files and files_mib); close the files you open and delete what you no "
                "longer need")
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        if -returncode == signal.SIGXFSZ:
            return "the process wrote a file larger than the grader allows and was stopped"
        return f"the process was killed by {name} during this check (a crash in native code?)"
    return f"the process ended during this check (exit code {returncode}): does your code call exit()?"


def _fingerprint(out: Path, name: str) -> tuple:
    """What identifies the output files of step `name` as they are now (inode, size, change time; None if absent)."""
    found = []
    for suffix in (".json", ".npz"):
        try:
            info = os.lstat(out / f"{name}{suffix}")
            found.append((info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns))
        except OSError:
            found.append(None)
    return tuple(found)


class _Progress:
    """Events from the runner's progress pipe: 'import' started / probe NAME finished. Only ever grows.

    The pipe is the student's process's too, so a "finished" line can be forged to restart the clock while the
    check runs on: each claim keeps the fingerprint of the step's outputs as they were when it was read.
    """

    def __init__(self, read_fd: int, out: Path, steps):
        self.fd, self.out, self.steps = read_fd, out, {"import", *steps}
        os.set_blocking(read_fd, False)
        self.buffer = b""
        self.import_started = False
        self.finished: dict = {}  # "import" and probe names, as reported -> their outputs' fingerprint then

    def poll(self) -> None:
        for _ in range(16):  # at most 1 MiB per poll: a flood cannot starve the watchdog
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                return
            if not chunk:
                return
            self.buffer += chunk
            *lines, self.buffer = self.buffer.split(b"\n")
            self.buffer = self.buffer[-4096:]
            for line in lines:
                kind, _, name = line.decode("utf-8", "replace").partition(" ")
                if kind == "started" and name == "import":
                    self.import_started = True
                elif kind == "finished" and name in self.steps and name not in self.finished:
                    self.finished[name] = _fingerprint(self.out, name)

    def close(self) -> None:
        os.close(self.fd)


class _Child:
    """One child of the session's zygote running `names` of an exercise, watched until it ends or is killed."""

    def __init__(self, report, session, run, time_limits, deadline):
        self.report, self.session, self.run = report, session, run
        self.limits, self.time_limits, self.deadline = run.limits, time_limits, deadline
        self.files_bytes = run.limits.files_mib * 1024 * 1024

    def _check_limits(self, usage, now, current, elapsed):
        """(problem, message) for the first limit broken, else None."""
        broken = self._resources_broken(usage)
        if broken:
            return broken
        limits = self.limits
        if now > self.deadline:
            return "deadline", f"the exercise's time limit of {limits.time_s:g} s ran out before this check"
        if current == "startup" and elapsed > session_module.ANSWER_S:
            return "zygote", "the grading sandbox stopped answering"
        if current not in ("startup", None) and elapsed > self.time_limits.get(current, 0):
            what = "importing your file" if current == "import" else "this check"
            return "timeout", (f"{what} took longer than {self.time_limits[current]:g} s and was stopped "
                               "(an endless loop, or a stopping rule that is never met?)")
        return None

    def _resources_broken(self, usage):
        """(problem, message) for the first of memory, processes and files over its limit, else None."""
        limits = self.limits
        if usage.memory_bytes > limits.memory_mib * 1024 * 1024:
            return "memory", f"used more than {limits.memory_mib} MiB of memory; it was stopped"
        if usage.threads > limits.processes:
            return "processes", f"started more than {limits.processes} processes or threads; it was stopped"
        if (usage.file_bytes > self.files_bytes or usage.file_entries > watchdog.MAX_FILE_ENTRIES
                or (self.session.box_bounded and file_limits.box_is_full(self.session.box))):
            return "files", (f"wrote more than {self.files_bytes >> 20} MiB or {watchdog.MAX_FILE_ENTRIES:,} files; "
                             "it was stopped")
        return None

    def go(self, names):
        """Run until done or killed; return the names still to run (empty when finished)."""
        read_fd, write_fd = os.pipe()
        out_read, out_write = os.pipe()
        progress = _Progress(read_fd, self.session.box / "out", names)
        output = OutputCapture(out_read, self.limits.output_kib * 1024)
        try:
            self.session.fork(self.run, names, out_write, write_fd)
        except session_module.ZygoteGone:
            progress.close()
            raise
        finally:
            os.close(write_fd)
            os.close(out_write)
        self.report.launches += 1
        launched = time.monotonic()
        current, current_since = "startup", launched  # "startup", "import", a probe name, or None (all done)
        failure = None
        watch = self.session.started.watch
        try:
            while True:
                ended = self.session.exited() or not self.session.alive()
                progress.poll()
                now = time.monotonic()
                if not progress.import_started and "import" not in progress.finished:
                    step = "startup"
                elif "import" not in progress.finished:
                    step = "import"
                else:  # the first probe not reported finished is the one running; the clock never pauses
                    step = next((name for name in names if name not in progress.finished), None)
                if step != current:
                    current, current_since = step, now
                if ended:
                    if not self.session.alive():  # its own zygote: only this submission's code can reach it
                        failure = ("crash", "the sandbox's first process was killed during this check: does your "
                                            "code kill or stop other processes?")
                    else:  # a last full look: what a quick child left (files, System V memory) is charged to it,
                        watch.look_afresh()  # never to the next child
                        failure = self._resources_broken(watch.usage(self.limits.memory_mib << 20))
                    break
                if current is None and now - current_since > GRACE_S:
                    break  # all done, but student threads keep the child alive
                failure = self._check_limits(watch.usage(self.limits.memory_mib << 20), now, current,
                                             now - current_since)
                if failure:
                    break
                time.sleep(POLL_S)
        finally:
            self.session.reset()  # every process but the zygote is dead before anything is read
            progress.poll()
            progress.close()
            output.finish()
        self.report.printed.append((output.total, output.text()))
        if failure and failure[0] == "files":  # only the check that wrote them pays, not the ones still to run
            _empty_box(self.session.box)
        if failure and failure[0] == "zygote":
            raise session_module.ZygoteGone(failure[1])
        returncode = self.session.last_exit if failure is None else None
        return self._settle(names, failure, returncode, progress.finished)

    def _settle(self, names, failure, returncode, reported):
        """Record every finished probe; blame the one running at the end; return what is left."""
        try:
            out = readback.open_outputs(self.session.box)
        except safe_io.UnsafeFile:
            out = None
        try:
            return self._settle_from(out, names, failure, returncode, reported)
        finally:
            if out is not None:
                os.close(out)

    def _json(self, out, name) -> dict | None:
        if out is None or not safe_io.exists_at(out, f"{name}.json"):
            return None
        try:
            return readback.read_json(out, f"{name}.json")
        except readback.Malformed:
            return {}

    def _record(self, out, name) -> ProbeOutcome:
        payload = self._json(out, name) or {}
        try:
            if payload.get("ok") is True:
                schema = self.run.schemas.get(name) if self.run.schemas else None
                values, types = readback.read_outputs(out, name, payload, schema or readback.OutputSchema())
                return ProbeOutcome(name, values, types)
            problem, message = describe_error(readback.error_of(payload))
            return ProbeOutcome(name, problem=problem, message=message)
        except (readback.Malformed, RecursionError, MemoryError, ValueError, TypeError, KeyError) as exc:
            return ProbeOutcome(name, problem="malformed",
                                message=f"the check's output could not be read back ({sanitize.line(exc, 300)})")

    def _settle_from(self, out, names, failure, returncode, reported):
        banned = self._json(out, "banned")
        module = banned.get("module") if isinstance(banned, dict) else None
        # Written by the import hook, in the student's own process: believed only for a module this sandbox does
        # refuse (a forged one would buy the exercise a second run).
        if isinstance(module, str) and not self.report.banned and runner.is_banned(module, self.session.banned):
            self.report.banned = sanitize.line(module, 200)
        imported = self._json(out, "import")
        if imported is None:
            problem, message = failure or ("crash", f"importing your file ended the process (exit code {returncode})")
            problem = "timeout" if problem == "deadline" else problem
            for name in names:
                self.report.outcomes[name] = ProbeOutcome(name, problem=problem, message=message)
            return []
        if imported.get("ok") is not True:
            problem, message = describe_error(readback.error_of(imported))
            message = "importing your file failed: " + message.removeprefix("your code raised ")
            for name in names:
                self.report.outcomes[name] = ProbeOutcome(name, problem="import", message=message)
            return []
        for index, name in enumerate(names):
            if name in reported and reported[name] != _fingerprint(self.session.box / "out", name):
                self.report.outcomes[name] = ProbeOutcome(name, problem="malformed", message=(
                    "this check was reported finished before its output was final, so its time could not be kept; "
                    "it is not graded (does your code write to file descriptors it did not open?)"))
                continue
            if out is not None and safe_io.exists_at(out, f"{name}.json"):
                self.report.outcomes[name] = self._record(out, name)
                continue
            if name in reported:  # it finished, then its output vanished (or never was written)
                self.report.outcomes[name] = ProbeOutcome(name, problem="malformed",
                                                          message="the check finished but its output is missing")
                continue
            if failure and failure[0] == "deadline":  # the exercise's own time ran out: nothing left runs
                for rest in names[index:]:
                    self.report.outcomes[rest] = ProbeOutcome(rest, problem="timeout", message=failure[1])
                return []
            # The first unfinished probe was running (or about to) when the process ended: blame it,
            # so that every run settles at least one probe and the loop always ends.
            problem, message = failure or ("crash", _ended(returncode))
            self.report.outcomes[name] = ProbeOutcome(name, problem=problem, message=message)
            return names[index + 1:]
        return []


def _empty_box(box: Path) -> None:
    """Delete what the student's code left in its box (all its processes are dead), keeping the outputs."""
    for entry, info in safe_io.listing(box):
        if entry.name != "out":
            safe_io.remove(entry.path, info)


def run_exercise(session, run) -> RunReport:
    """Run every probe of `run` in `session` (started here if need be); every probe gets an outcome.

    Time the sandbox spends starting (or restarting, after student code killed its zygote) is not the
    exercise's: its deadline moves by as much.
    """
    report = RunReport(isolation=session.isolation)
    session.prepare_run(run)
    time_limits = {"import": run.limits.check_time_s}
    time_limits.update({name: run.probes[name].time_s or run.limits.check_time_s for name in run.names})
    child = _Child(report, session, run, time_limits, time.monotonic() + run.limits.time_s)
    left, restarts = list(run.names), 0
    while left:
        if not session.alive():
            if restarts > len(run.names):
                raise RuntimeError("the grading sandbox keeps dying")
            restarts += 1
            started = time.monotonic()
            session.start()
            child.deadline += time.monotonic() - started
        try:
            left = child.go(left)
        except session_module.ZygoteGone:
            session.reset()
    session.finish_run(run)
    return report


def run_probes(exercise_id, module_name, student_file, probes, names, inputs, limits: Limits,
               device="cpu", banned=(), extra_packages=(), *, no_isolation=False, schemas=None,
               course_banned=(), protected=()) -> RunReport:
    """Run probes `names` of one exercise on `student_file` in a sandbox of its own; every name gets an outcome.

    Raises `isolation.IsolationRefused` when student code cannot be isolated here (the message says how to fix it).
    """
    isolation = isolation_levels.detect(no_isolation, tuple(protected))
    run = session_module.ExerciseRun(exercise_id, module_name, Path(student_file).read_text(encoding="utf-8"),
                                     probes, list(names), inputs, limits, schemas or {}, tuple(banned),
                                     tuple(extra_packages))
    with session_module.Session(isolation, [run], device, course_banned) as session:
        return run_exercise(session, run)
