"""Start a command isolated from the course files, with limits (see `autograder.isolation` for the levels).

The sandboxed process sees two folders of ours: the *box* (read-write: its working folder,
where probes write their outputs) and the *kit* (read-only: the runner, the exercise's probes,
the inputs, the student's file). With a dedicated uid both belong to that uid's group only,
inside a root-only scratch folder, so no other sandbox can look in.

Limits applied from outside the student's reach, before its code runs:
- rlimits: no core files, `file_bytes` per file written, `open_files` per process, `processes`
  for the dedicated uid, a small POSIX message-queue budget;
- bubblewrap: read-only `/` and `/dev`, size-limited `/tmp` and `/dev/shm`, and System V IPC
  limits written into the sandbox's own IPC namespace while it is still root;
- printed output goes through a pipe whose head and tail the grader keeps (`OutputCapture`).
The watchdog (`autograder.watchdog`) measures everything else and kills it all at the end.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
import resource
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from autograder import sandbox_users
from autograder.isolation import Isolation, sandbox_python
from autograder.output_capture import OutputCapture
from autograder.watchdog import Watch

BOX = "/box"  # where the box appears inside bubblewrap
KIT = "/grader"  # where the kit appears inside bubblewrap
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc")
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
MESSAGE_QUEUE_BYTES = 64 * 1024
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
_LIBC = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


@dataclass(frozen=True)
class Launch:
    """What to start and under which limits. `argv` given to `start` refers to paths inside the sandbox."""

    box: Path  # host folder, read-write for the student
    kit: Path  # host folder with the grader kit, read-only
    file_bytes: int  # cap on any one file the process writes; also the size of /tmp and /dev/shm (bubblewrap)
    open_files: int = 256
    processes: int = 64
    device: str = "cpu"
    uid: int | None = None  # the dedicated sandbox uid (root grader), also its gid
    groups: tuple = ()  # supplementary groups (to reach modules only other exercises ban)
    hidden: tuple = field(default=())  # host paths of banned modules to hide (bubblewrap), with their stub file


def paths(isolation: Isolation, launch: Launch):
    """(box, kit) as the sandboxed process sees them."""
    if isolation.strong:
        return BOX, KIT
    return str(launch.box), str(launch.kit)


def _environment(isolation: Isolation, launch: Launch):
    box = paths(isolation, launch)[0]
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": box,
        "USER": "sandbox",
        "LOGNAME": "sandbox",
        "TMPDIR": "/tmp" if isolation.strong else box,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",
        "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES", "") if launch.device.startswith("cuda") else "",
    }
    # One thread: the same speed on a laptop and a 16-core grader, and no spinning threads fighting
    # over the cores when several submissions (or test workers) are graded at once.
    env.update({name: "1" for name in THREAD_ENV})
    return env


def _bwrap_argv(launch: Launch, python: str, inner_argv) -> list:
    root = os.geteuid() == 0
    if root:  # no user namespace: the sandbox drops to the dedicated uid itself (below)
        argv = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        argv = ["bwrap", "--unshare-all"]
    argv += ["--die-with-parent", "--new-session"]
    for directory in SYSTEM_DIRS:
        if os.path.exists(directory):
            argv += ["--ro-bind", directory, directory]
    size = str(launch.file_bytes)
    argv += ["--dev", "/dev", "--perms", "1777", "--size", size, "--tmpfs", "/dev/shm", "--proc", "/proc",
             "--perms", "1777", "--size", size, "--tmpfs", "/tmp"]
    made = set()
    for directory in sandbox_python().folders:
        for parent in reversed(Path(directory).parents[:-1]):  # bubblewrap would make them 0700
            if str(parent) not in made and not any(str(parent) == d or str(parent).startswith(d + "/") for d in SYSTEM_DIRS):
                made.add(str(parent))
                argv += ["--perms", "0755", "--dir", str(parent)]
        argv += ["--ro-bind", directory, directory]
    for path, stub in launch.hidden:  # banned modules: a read-only tmpfs with a stub that refuses the import
        if os.path.isdir(path):
            argv += ["--size", "65536", "--tmpfs", path, "--ro-bind", stub, f"{path}/__init__.py", "--remount-ro", path]
        else:
            argv += ["--ro-bind", stub, path]
    if launch.device.startswith("cuda"):
        for node in glob.glob("/dev/nvidia*"):
            argv += ["--dev-bind", node, node]
        if os.path.isdir("/sys"):
            argv += ["--ro-bind", "/sys", "/sys"]
    argv += ["--bind", str(launch.box), BOX, "--ro-bind", str(launch.kit), KIT,
             "--remount-ro", "/dev", "--remount-ro", "/", "--chdir", "/", "--"]  # the runner enters the box itself
    if not root:
        return [*argv, python, *inner_argv]
    # Still root (without capabilities but CAP_SETUID/SETGID) in the sandbox's own IPC namespace: bound its
    # System V memory, then become the dedicated uid for good before anything else runs.
    pages = max(1, launch.file_bytes // os.sysconf("SC_PAGE_SIZE"))
    limits = (f"echo {pages} > /proc/sys/kernel/shmall && echo {launch.file_bytes} > /proc/sys/kernel/shmmax && "
              "echo 16 > /proc/sys/kernel/msgmni && exec \"$@\"")
    groups = ",".join(str(g) for g in (launch.uid, *_supplementary_groups(launch)))
    drop = ["setpriv", f"--reuid={launch.uid}", f"--regid={launch.uid}", f"--groups={groups}",
            "--no-new-privs", "--inh-caps=-all", "--"]
    return [*argv, "/bin/sh", "-c", limits, "sh", *drop, python, *inner_argv]


def bound_inside(folder: str) -> set[str]:
    """Names in `folder` (/tmp, /dev/shm: a fresh tmpfs in bubblewrap) that hold the interpreter's folders bound into
    the sandbox, when they live there (a checkout under /tmp): made by bubblewrap as root's, mode 0755, so the
    student's code can write nothing in them. Emptying the folder must leave them: removing them from outside
    detaches the binds, and the next child finds no NumPy."""
    names = set()
    for directory in sandbox_python().folders:
        relative = os.path.relpath(directory, folder)
        if relative != "." and not relative.startswith(".."):
            names.add(relative.split(os.sep)[0])
    return names


def _supplementary_groups(launch: Launch) -> list[int]:
    """The groups that open modules other exercises ban, and the group shut out of the world-writable folders."""
    shared = sandbox_users.shared_gid() if launch.uid is not None else None
    return [*launch.groups, *([shared] if shared is not None else [])]


def _limit_resources(launch: Launch, drop: bool):
    """preexec_fn: own session, rlimits, and (fallback) become the dedicated uid with no way back."""
    groups = _supplementary_groups(launch) if drop else []

    def apply():
        os.setsid()
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (launch.file_bytes, launch.file_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (launch.open_files, launch.open_files))
        resource.setrlimit(resource.RLIMIT_MSGQUEUE, (MESSAGE_QUEUE_BYTES, MESSAGE_QUEUE_BYTES))
        if launch.uid is not None:
            # Counted per user, so exact for a dedicated uid (root, which starts bubblewrap, is exempt).
            resource.setrlimit(resource.RLIMIT_NPROC, (launch.processes, launch.processes))
        if drop:
            os.setgroups(groups)
            os.setgid(launch.uid)
            os.setuid(launch.uid)
            _LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    return apply


@dataclass
class Sandboxed:
    """A started sandbox: its first process, what it prints, and the watch over all it holds."""

    process: subprocess.Popen
    output: OutputCapture
    watch: Watch

    def stop(self) -> None:
        """Kill everything it started, reap the first process, and collect the rest of its output."""
        try:
            self.watch.kill()
        finally:
            self.process.kill() if self.process.poll() is None else None
            self.process.wait()
            self.output.finish()


def start(isolation: Isolation, launch: Launch, argv, output_limit: int, pass_fds=()) -> Sandboxed:
    """Start `argv` (a Python command line; argv[0] is replaced by the sandbox's interpreter) isolated.

    Its stdout and stderr go to an `OutputCapture` keeping `output_limit` bytes; `pass_fds` stay open in it.
    """
    python = sandbox_python().executable if isolation.level != "none" else sys.executable
    command = [python, *argv[1:]]
    drop = isolation.level == "fallback"
    if isolation.strong:
        command = _bwrap_argv(launch, python, argv[1:])
    read_fd, write_fd = os.pipe()
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=write_fd, stderr=write_fd,
            env=_environment(isolation, launch), cwd=str(launch.box), pass_fds=tuple(pass_fds),
            preexec_fn=_limit_resources(launch, drop),
        )
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    capture = OutputCapture(read_fd, output_limit)
    watch = Watch(process.pid, launch.uid if isolation.dedicated_user else None, launch.box,
                  outside_box=isolation.level == "fallback")
    return Sandboxed(process, capture, watch)


def run_as(uid: int, argv, groups=(), timeout_s: float = 60.0) -> subprocess.CompletedProcess:
    """Run a short trusted command as `uid` (no namespaces), e.g. to see what that user can read."""
    launch = Launch(box=Path("/"), kit=Path("/"), file_bytes=1 << 20, uid=uid, groups=tuple(groups))
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, cwd="/", stdin=subprocess.DEVNULL,
                          env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}, preexec_fn=_limit_resources(launch, True))


def probe_bubblewrap(uid: int | None) -> subprocess.CompletedProcess:
    """Run `python -c 'print(os.getuid())'` under bubblewrap as it would run a submission."""
    import tempfile

    from autograder import scratch

    with tempfile.TemporaryDirectory(prefix="course-bwrap-probe-") as folder:
        box, kit = scratch.make_box(Path(folder), uid)
        launch = Launch(box=box, kit=kit, file_bytes=1 << 20, uid=uid)
        command = _bwrap_argv(launch, sandbox_python().executable,
                              ["-I", "-c", f"import os; os.chdir({BOX!r}); print(os.getuid())"])
        return subprocess.run(command, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                              env=_environment(Isolation("bubblewrap", ""), launch),
                              preexec_fn=_limit_resources(launch, False))
