"""One sandbox for several exercises of one submission: start-up paid once, a fresh child per exercise.

A `Session` borrows a sandbox uid, lays out the scratch folder (one kit with every exercise's
probes, inputs and student file; one box folder per exercise) and starts
`autograder.sandboxed.zygote` in the sandbox, which imports NumPy, PyTorch and the probes once.
Each exercise run is a child the zygote forks on command, with its own stdout and progress pipes;
the trusted side watches it exactly as it would a process of its own (per-probe and per-exercise
time, memory, processes, files), kills every process of the sandbox but the zygote when it ends
or breaks a limit, and reads back its outputs. A crash, a loop or a memory hog costs only that
exercise's checks; one exercise's module never sees another's (each child starts from the
zygote's pristine state); and a zygote that dies or stops answering is replaced by a fresh
sandbox for what is left.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import signal
import socket
import tempfile
import time
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder import isolation as isolation_levels
from autograder import file_limits, safe_io, sandbox, sandbox_users, scratch, static, watchdog
from autograder.config import Limits
from autograder.sandboxed.zygote import holds_banned

ENGINE = Path(__file__).resolve().parent
PRELOADABLE = ("numpy", "scipy", "torch", "torchvision", "matplotlib")  # what the zygote may import for students
STARTUP_S = 120.0  # interpreter, NumPy, PyTorch and probe imports: not any student's time
PRIVATE_FOLDERS = ("tmp", "dev/shm")  # bubblewrap gives each sandbox its own, emptied after every child
ANSWER_S = 60.0  # how long a healthy zygote may take to fork a child or report its end


@dataclass
class ExerciseRun:
    """What one exercise needs in the sandbox, and what came of it."""

    exercise_id: str
    module_name: str
    source: str
    probes: object  # the exercise's ProbeSet
    names: list
    inputs: dict
    limits: Limits
    schemas: dict = field(default_factory=dict)
    banned: tuple = ()
    extra_packages: tuple = ()

    @property
    def probes_module(self) -> str:
        return f"autograder.checks.{self.exercise_id}.probes"


def _copy_into_kit(kit: Path, relative: str) -> None:
    source, target = ENGINE.parent / relative, kit / relative
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    else:
        shutil.copy2(source, target)


def build_kit(kit: Path, runs) -> None:
    """The runner, every exercise's probes and helper packages, student file and the inputs known yet (read-only)."""
    for relative in ("autograder/__init__.py", "autograder/sandboxed", "autograder/checks/__init__.py"):
        _copy_into_kit(kit, relative)
    for run in runs:
        for relative in (f"autograder/checks/{run.exercise_id}/__init__.py",
                         f"autograder/checks/{run.exercise_id}/probes.py", *run.extra_packages):
            _copy_into_kit(kit, relative)
        folder = kit / "exercises" / run.exercise_id
        (folder / "inputs").mkdir(parents=True)
        (folder / f"{run.module_name}.py").write_text(run.source, encoding="utf-8")
        write_inputs(kit, run)


def write_inputs(kit: Path, run) -> bool:
    """Each of the run's probes' inputs as kit/exercises/<id>/inputs/<probe>.npz; whether there were any to write."""
    folder = kit / "exercises" / run.exercise_id / "inputs"
    for name in run.names:
        arrays = {k: np.asarray(v) for k, v in (run.inputs.get(name) or {}).items()}
        np.savez(folder / f"{name}.npz", **arrays)
    return bool(run.names)


def kit_packages(exercise_id: str) -> tuple:
    """The helper packages an exercise's probes need in the sandbox (their `KIT_PACKAGES`), read from the probes'
    source: importing them would import PyTorch, which the sandbox should be importing meanwhile."""
    tree = ast.parse((ENGINE / "checks" / exercise_id / "probes.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "KIT_PACKAGES" for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    return ()


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


class ZygoteGone(RuntimeError):
    """The sandbox's zygote died or stopped answering; a fresh sandbox takes over."""


class Session:
    """A sandbox serving the runs of exercises, refusing the same banned modules to each (use as a context manager)."""

    def __init__(self, isolation, runs, device="cpu", course_banned=(), banned=None):
        """`banned`: the modules refused to every exercise it runs (default: the runs' own, which must agree); each
        run's own banned modules must be among them."""
        self.isolation, self.runs, self.device = isolation, list(runs), device
        own = {tuple(sorted(run.banned)) for run in self.runs}
        if banned is None and len(own) > 1:
            raise ValueError("exercises with different banned modules need the session's `banned` given")
        self.banned = tuple(sorted(banned if banned is not None else own.pop() if own else ()))
        if any(not set(run.banned) <= set(self.banned) for run in self.runs):
            raise ValueError("a session runs only exercises whose banned modules it refuses too")
        self.course_banned = tuple(course_banned)
        self.stack = ExitStack()
        self.started = None  # sandbox.Sandboxed of the zygote
        self.box_bounded = False  # the box is a tmpfs of the file budget (`file_limits.bounded_box`)
        self.closed_folders = ()  # world-writable folders the sandbox cannot write to (`file_limits`)
        self.commands = None  # our end of the command socket
        self.zygote_pid = None
        self.child_running = False
        self.last_exit = None
        self.startups = 0
        self.uid = None
        self.inputs_written = {run.exercise_id for run in self.runs if run.names}  # by build_kit
        # Parsed here, in the thread that makes the session: CPython 3.11's parser is not safe to run in two
        # threads at once ("AST constructor recursion depth mismatch"), and the grader imports meanwhile.
        self.preloads = self.preload()

    # ------------------------------------------------------------ set-up and tear-down

    def __enter__(self):
        try:
            self._prepare()
        except BaseException:
            self.stack.close()
            raise
        return self

    def __exit__(self, *exc):
        try:
            self._stop()
        finally:
            self.stack.close()
        return False

    def _prepare(self):
        dedicated = self.isolation.dedicated_user
        self.groups = allowed_groups(self.banned, self.course_banned) if dedicated else ()
        if self.isolation.level == "fallback" and self.banned:
            problem = isolation_levels.fallback_ban_problem(self.banned, self.groups)
            if problem:
                raise isolation_levels.IsolationRefused(f"exercises {', '.join(r.exercise_id for r in self.runs)}: {problem}")
        self.uid = self.stack.enter_context(sandbox_users.sandbox_user() if dedicated else nullcontext())
        if self.uid is not None:
            file_limits.release_stale_boxes(self.uid)  # a grader killed with its box mounted
        folder = Path(tempfile.mkdtemp(prefix="course-grade-"))
        self.stack.callback(shutil.rmtree, folder, True)
        self.box, self.kit = scratch.make_box(folder, self.uid)
        files_bytes = max(run.limits.files_mib for run in self.runs) << 20
        if self.uid is not None:  # the kernel, not only the watchdog, bounds what it writes (root grader)
            self.box_bounded = file_limits.bounded_box(self.box, files_bytes, watchdog.MAX_FILE_ENTRIES, self.uid)
            if self.box_bounded:
                self.stack.callback(file_limits.release_box, self.box)  # before the folder is removed
            if self.isolation.level == "fallback":
                self.closed_folders = file_limits.close_world_writable()
        build_kit(self.kit, self.runs)
        hidden = ()
        if self.isolation.strong and self.banned:
            hidden = tuple((place, _stub(self.kit, module)) for module, places in
                           isolation_levels.banned_module_paths(self.banned).items() for place in places)
        scratch.seal_kit(self.kit, self.uid)
        limits = [run.limits for run in self.runs]
        self.launch = sandbox.Launch(
            box=self.box, kit=self.kit, file_bytes=files_bytes,
            open_files=max(l.open_files for l in limits), processes=max(l.processes for l in limits),
            device=self.device, uid=self.uid, groups=self.groups, hidden=hidden)
        self.box_in, self.kit_in = sandbox.paths(self.isolation, self.launch)
        # What emptying the sandbox's own /tmp and /dev/shm must leave (`sandbox.bound_inside`): fixed for its life.
        self.kept_in_private = ({folder: sandbox.bound_inside(f"/{folder}") for folder in PRIVATE_FOLDERS}
                                if self.isolation.strong else {})

    def start(self) -> None:
        """Start (or restart) the zygote and wait until it has imported everything."""
        self.spawn()
        self.await_ready()

    def spawn(self) -> None:
        """Start (or restart) the zygote; `await_ready` before the first run."""
        self._stop()
        ours, theirs = socket.socketpair()
        preload = ",".join(self.preloads)
        argv = ["python", "-I", "-u", "-c",
                f"import os, sys; os.chdir({self.box_in!r}); sys.path.insert(0, {self.kit_in!r}); "
                "from autograder.sandboxed.zygote import main; os._exit(main())",
                "--commands-fd", str(theirs.fileno()), "--preload", preload, "--banned", ",".join(self.banned)]
        try:
            self.started = sandbox.start(self.isolation, self.launch, argv, 64 * 1024, pass_fds=(theirs.fileno(),))
        finally:
            theirs.close()
        self.commands = ours
        self.child_running = False
        self.startups += 1

    def await_ready(self) -> None:
        """Wait until the zygote has imported everything; raise if it could not."""
        self.commands.settimeout(STARTUP_S)
        try:
            ready = self.commands.recv(64)
        except (OSError, socket.timeout):
            ready = b""
        if not ready.startswith(b"ready"):
            self.started.output.finish(0.5)
            detail = self.started.output.text().strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"the grading sandbox did not start: {detail[0][:300]}")
        self.commands.setblocking(False)
        self.zygote_pid = self._find_zygote()

    def preload(self) -> list[str]:
        """Modules the zygote imports once: the probes (and what they import lazily, `ProbeSet.warm_imports`, which
        the zygote finds in them) and the heavy packages the students import.

        Of the students' imports only top-level packages of `PRELOADABLE` (never a submodule a student names: some
        run code on import); none that is or holds a banned module (a module already imported would get past the ban).
        """
        roots = {name.split(".")[0] for run in self.runs for name in static.imported_modules(run.source)}
        wanted = [root for root in PRELOADABLE if root in roots and not holds_banned(root, self.banned)]
        return [*(run.probes_module for run in self.runs), *wanted]

    def _find_zygote(self) -> int:
        for pid in sorted(self.started.watch.pids(), reverse=True):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    if b"autograder.sandboxed.zygote" in handle.read():
                        return pid
            except OSError:
                continue
        raise RuntimeError("the grading sandbox started, but its zygote cannot be found")

    def _stop(self) -> None:
        if self.commands is not None:
            self.commands.close()
            self.commands = None
        if self.started is not None:
            self.started.stop()
            self.started = None
        self._remove_leftovers()

    # ------------------------------------------------------------ one child

    def fork(self, run: ExerciseRun, names, out_fd: int, progress_fd: int) -> None:
        """Ask the zygote for a child running `names` of `run`, writing to the two pipe ends given."""
        if self.started is None or self.started.process.poll() is not None:
            raise ZygoteGone("the sandbox is not running")
        limits = run.limits
        command = {
            "probes": run.probes_module, "module": run.module_name,
            "student": f"{self.kit_in}/exercises/{run.exercise_id}/{run.module_name}.py",
            "inputs": f"{self.kit_in}/exercises/{run.exercise_id}/inputs",
            "out": f"{self.box_in}/out", "cwd": self.box_in,
            "run": list(names), "device": self.device, "banned": list(self.banned),
            "limits": {"open_files": limits.open_files, "file_bytes": limits.files_mib << 20},
        }
        try:
            socket.send_fds(self.commands, [json.dumps(command).encode()], [out_fd, progress_fd])
        except OSError as error:
            raise ZygoteGone(f"the sandbox stopped listening ({error})") from None
        self.child_running = True

    def exited(self) -> bool:
        """Whether the zygote reported the end of its child (never forged: only the zygote holds the socket)."""
        if not self.child_running:
            return True
        try:
            message = self.commands.recv(4096)
        except BlockingIOError:
            return False
        except OSError:
            message = b"exited"
        if b"exited" in message or not message:
            self.child_running = False
            try:
                self.last_exit = int(message.split(b"exited", 1)[1].split()[0])
            except (IndexError, ValueError):
                self.last_exit = None
        return not self.child_running

    def alive(self) -> bool:
        return self.started is not None and self.started.process.poll() is None

    def reset(self) -> None:
        """After a child: kill every process but the zygote, wake the zygote, wait until it reaped the child.

        A zygote that does not answer is stopped: the next run starts a fresh sandbox.
        """
        if not self.alive():
            self._stop()
            return
        self.started.watch.kill(spare={self.zygote_pid})
        try:
            os.kill(self.zygote_pid, signal.SIGCONT)  # student code may have stopped it
        except OSError:
            pass
        deadline = time.monotonic() + ANSWER_S
        while not self.exited():  # the zygote reaps the child and says so
            if not self.alive() or time.monotonic() > deadline:
                self._stop()
                return
            time.sleep(0.01)
            # A child the zygote forks only now (the command came just before the first kill) is killed too: it
            # would otherwise run unwatched while this loop waits (and could stop the zygote again).
            self.started.watch.kill(spare={self.zygote_pid})
            try:
                os.kill(self.zygote_pid, signal.SIGCONT)
            except OSError:
                pass
        self._empty_private_folders()
        self._remove_leftovers()
        self.started.watch.look_afresh()  # what was just removed no longer counts against the next child

    def _remove_leftovers(self) -> None:
        """What the uid left in the host's world-writable folders: only the fallback shares them (bubblewrap binds
        the host read-only, with a private /tmp and /dev/shm); the uid's release cleans up in every level."""
        if self.uid is not None and not self.isolation.strong:
            sandbox_users.remove_leftovers(self.uid)

    def _empty_private_folders(self) -> None:
        """Empty the sandbox's own /tmp and /dev/shm (bubblewrap), so the next child finds nothing of this one."""
        if not self.isolation.strong or self.zygote_pid is None:
            return
        for folder in PRIVATE_FOLDERS:
            _clear(Path(f"/proc/{self.zygote_pid}/root/{folder}"), keep=self.kept_in_private[folder])

    def finish_run(self, run: ExerciseRun) -> None:
        """The exercise is settled: what its code left in the box goes, so the next exercise cannot look at it."""
        _clear(self.box)

    def prepare_run(self, run: ExerciseRun) -> None:
        """The run's inputs in the kit (when they came after the sandbox started), and an empty box (the run's
        working folder) with a fresh out/ for the outputs, given to the uid.

        The box is a folder of ours (its parent is root's), so no link the student planted can redirect this;
        every process of the sandbox but the zygote is dead when it runs.
        """
        if run.exercise_id not in self.inputs_written and write_inputs(self.kit, run):
            scratch.seal_kit(self.kit, self.uid)
            self.inputs_written.add(run.exercise_id)
        _clear(self.box)
        (self.box / "out").mkdir()
        if self.uid is not None:
            os.chown(self.box / "out", self.uid, self.uid, follow_symlinks=False)


def _clear(folder: Path, keep=()) -> None:
    """Delete everything in `folder` but the entries named in `keep`, following no link (a link is deleted, never
    what it points to)."""
    for entry, info in safe_io.listing(folder):
        if entry.name not in keep:
            safe_io.remove(entry.path, info)
