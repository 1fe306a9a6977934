"""Run an exercise's probes on student code across the isolation boundary.

The trusted side writes the inputs, starts `autograder.sandboxed.runner` in the sandbox and
follows its progress over a pipe only the runner's process holds (events the student cannot
take back: deleting a file changes nothing). It enforces the per-probe and per-exercise time
limits and the memory, process and file limits from outside, kills everything the sandbox
started when one is broken (and at the end, before anything is read), then starts the runner
again for the probes that are left. Only plain data comes back, read through `readback`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder import isolation as isolation_levels
from autograder import readback, safe_io, sandbox, sandbox_users, sanitize, scratch, watchdog
from autograder.config import Limits

ENGINE = Path(__file__).resolve().parent
POLL_S = 0.05
STARTUP_S = 120.0  # interpreter + numpy/torch import before student code runs; not the student's time
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


class _Progress:
    """Events from the runner's progress pipe: 'import' started / probe NAME finished. Only ever grows."""

    def __init__(self, read_fd: int):
        self.fd = read_fd
        os.set_blocking(read_fd, False)
        self.buffer = b""
        self.import_started = False
        self.finished: set = set()  # "import" and probe names, as reported

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
                elif kind == "finished" and len(self.finished) < 10_000:
                    self.finished.add(name)

    def close(self) -> None:
        os.close(self.fd)


class _Run:
    """One launch of the runner over `names`, watched until it ends or is killed."""

    def __init__(self, report, launch, isolation, limits, time_limits, deadline, schemas):
        self.report, self.launch, self.isolation = report, launch, isolation
        self.limits, self.time_limits, self.deadline, self.schemas = limits, time_limits, deadline, schemas
        self.files_bytes = limits.files_mib * 1024 * 1024

    def _check_limits(self, usage, now, launched, current, elapsed):
        """(problem, message) for the first limit broken, else None."""
        limits = self.limits
        if usage.memory_bytes > limits.memory_mib * 1024 * 1024:
            return "memory", f"used more than {limits.memory_mib} MiB of memory; it was stopped"
        if usage.threads > limits.processes:
            return "processes", f"started more than {limits.processes} processes or threads; it was stopped"
        if usage.file_bytes > self.files_bytes or usage.file_entries > watchdog.MAX_FILE_ENTRIES:
            return "files", (f"wrote more than {self.files_bytes >> 20} MiB or {watchdog.MAX_FILE_ENTRIES:,} files; "
                             "it was stopped")
        if now > self.deadline:
            return "deadline", f"the exercise's time limit of {limits.time_s:g} s ran out before this check"
        if current == "startup" and now - launched > STARTUP_S:
            return "crash", f"the grader could not start Python within {STARTUP_S:g} s"
        if current not in ("startup", None) and elapsed > self.time_limits.get(current, 0):
            what = "importing your file" if current == "import" else "this check"
            return "timeout", (f"{what} took longer than {self.time_limits[current]:g} s and was stopped "
                               "(an endless loop, or a stopping rule that is never met?)")
        return None

    def go(self, names, argv):
        """Run until done or killed; return the names still to run (empty when finished)."""
        read_fd, write_fd = os.pipe()
        progress = _Progress(read_fd)
        try:
            running = sandbox.start(self.isolation, self.launch, [*argv, "--progress-fd", str(write_fd)],
                                    self.limits.output_kib * 1024, pass_fds=(write_fd,))
        except BaseException:
            progress.close()
            raise
        finally:
            os.close(write_fd)
        self.report.launches += 1
        launched = time.monotonic()
        current, current_since = "startup", launched  # "startup", "import", a probe name, or None (all done)
        failure = None
        try:
            while True:
                exited = running.process.poll() is not None
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
                if exited:
                    break
                if current is None and now - current_since > GRACE_S:
                    break  # all done, but student threads keep the process alive
                failure = self._check_limits(running.watch.usage(self.limits.memory_mib << 20), now, launched, current,
                                             now - current_since)
                if failure:
                    break
                time.sleep(POLL_S)
        finally:
            running.stop()  # every process of the sandbox is dead before anything is read
            progress.poll()
            progress.close()
        self.report.printed.append((running.output.total, running.output.text()))
        if self.launch.uid is not None:  # like bubblewrap's private /tmp, what it left there ends with the launch
            sandbox_users.remove_leftovers(self.launch.uid)
        if failure and failure[0] == "files":  # only the check that wrote them pays, not the ones still to run
            _empty_box(self.launch.box)
        return self._settle(names, failure, running.process.returncode, progress.finished)

    def _settle(self, names, failure, returncode, reported):
        """Record every finished probe; blame the one running at the end; return what is left."""
        try:
            out = readback.open_outputs(self.launch.box)
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
                values, types = readback.read_outputs(out, name, payload, self.schemas.get(name, readback.OutputSchema()))
                return ProbeOutcome(name, values, types)
            problem, message = describe_error(readback.error_of(payload))
            return ProbeOutcome(name, problem=problem, message=message)
        except (readback.Malformed, RecursionError, MemoryError, ValueError, TypeError, KeyError) as exc:
            return ProbeOutcome(name, problem="malformed",
                                message=f"the check's output could not be read back ({sanitize.line(exc, 300)})")

    def _settle_from(self, out, names, failure, returncode, reported):
        banned = self._json(out, "banned")
        if banned and not self.report.banned:
            self.report.banned = sanitize.line(banned.get("module", "?"), 200)
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
            # so that every launch settles at least one probe and the loop always ends.
            problem, message = failure or ("crash", _ended(returncode))
            self.report.outcomes[name] = ProbeOutcome(name, problem=problem, message=message)
            return names[index + 1:]
        return []


def _empty_box(box: Path) -> None:
    """Delete what the student's code left in its box (all its processes are dead), keeping the outputs."""
    for entry in os.scandir(box):
        if entry.name == "out":
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            os.unlink(entry.path)


def _stub(kit: Path, module: str) -> str:
    """A module that refuses to be imported, bound over a banned module's files by bubblewrap."""
    path = kit / "_banned" / f"{module}.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"raise ImportError('importing {module} is not allowed in this exercise')\n", encoding="utf-8")
    return str(path)


def allowed_groups(banned, course_banned) -> tuple:
    """Groups that open modules other exercises ban (instructor-restricted folders: g+rx, o-rwx, gid != 0)."""
    groups = set()
    others = tuple(sorted(set(course_banned) - set(banned)))
    for places in isolation_levels.banned_module_paths(others).values():
        for place in places:
            try:
                info = os.stat(place)
            except OSError:
                continue
            if info.st_gid != 0 and info.st_mode & 0o050 == 0o050 and not info.st_mode & 0o007:
                groups.add(info.st_gid)
    return tuple(sorted(groups))


def run_probes(exercise_id, module_name, student_file, probes, names, inputs, limits: Limits,
               device="cpu", banned=(), extra_packages=(), *, no_isolation=False, schemas=None,
               course_banned=(), protected=()) -> RunReport:
    """Run probes `names` on `student_file` in the sandbox; every name gets an outcome.

    Raises `isolation.IsolationRefused` when student code cannot be isolated here (the message says how to fix it).
    """
    isolation = isolation_levels.detect(no_isolation, tuple(protected))
    report = RunReport(isolation=isolation)
    banned = tuple(banned)
    groups = allowed_groups(banned, course_banned) if isolation.dedicated_user else ()
    if isolation.level == "fallback" and banned:
        problem = isolation_levels.fallback_ban_problem(banned, groups)
        if problem:
            raise isolation_levels.IsolationRefused(f"exercise {exercise_id}: {problem}")
    with sandbox_users.sandbox_user() if isolation.dedicated_user else nullcontext() as uid:
        folder = Path(tempfile.mkdtemp(prefix="course-grade-"))
        try:
            box, kit = scratch.make_box(folder, uid)
            (box / "out").mkdir()
            build_kit(kit, exercise_id, extra_packages)
            (kit / "submission").mkdir()
            shutil.copyfile(student_file, kit / "submission" / f"{module_name}.py")
            (kit / "inputs").mkdir()
            for name in names:
                arrays = {k: np.asarray(v) for k, v in (inputs.get(name) or {}).items()}
                np.savez(kit / "inputs" / f"{name}.npz", **arrays)
            hidden = ()
            if isolation.strong and banned:
                hidden = tuple((place, _stub(kit, module)) for module, places in
                               isolation_levels.banned_module_paths(banned).items() for place in places)
            scratch.seal_kit(kit, uid)
            if uid is not None:
                os.chown(box / "out", uid, uid, follow_symlinks=False)
            launch = sandbox.Launch(box=box, kit=kit, file_bytes=limits.files_mib << 20,
                                    open_files=limits.open_files, processes=limits.processes,
                                    device=device, uid=uid, groups=groups, hidden=hidden)
            box_in, kit_in = sandbox.paths(isolation, launch)
            time_limits = {"import": limits.check_time_s}
            time_limits.update({name: probes[name].time_s or limits.check_time_s for name in names})
            deadline = time.monotonic() + limits.time_s
            watcher = _Run(report, launch, isolation, limits, time_limits, deadline, schemas or {})
            left = list(names)
            while left:
                argv = [
                    "python", "-I", "-u", "-c",  # unbuffered: prints reach the grader whatever ends the process
                    f"import os, sys; os.chdir({box_in!r}); sys.path.insert(0, {kit_in!r}); "
                    "from autograder.sandboxed.runner import main; os._exit(main())",
                    "--probes", f"autograder.checks.{exercise_id}.probes",
                    "--student", f"{kit_in}/submission/{module_name}.py",
                    "--module-name", module_name,
                    "--inputs", f"{kit_in}/inputs", "--out", f"{box_in}/out",
                    "--run", ",".join(left), "--device", device, "--banned", ",".join(banned),
                ]
                left = watcher.go(left, argv)
            return report
        finally:
            shutil.rmtree(folder, ignore_errors=True)
