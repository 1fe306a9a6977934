"""Start a command isolated from the course files, with limits.

Two isolation levels:

- ``bubblewrap``: a fresh mount namespace holding only the system directories,
  the Python install, the virtual environment, the read-only grader kit and the
  read-write scratch box; no network, its own PID namespace, user ``nobody``.
- ``fallback`` (bubblewrap missing or refused, e.g. in a Docker container): a
  plain child process in its own session, as ``nobody`` when we are root, with
  resource limits. The course files may be readable and the network reachable;
  the results say so.

Both levels are watched from outside by `autograder.watchdog` (time, resident
memory, processes), which kills the whole tree at the end.
"""

from __future__ import annotations

import functools
import glob
import os
import pwd
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BOX = "/box"  # where the scratch box appears inside bubblewrap
KIT = "/grader"  # where the grader kit appears inside bubblewrap
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc")
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass(frozen=True)
class Isolation:
    level: str  # "bubblewrap" or "fallback"
    reason: str  # why this level; shown in the results
    as_nobody: bool = True  # fallback only: whether the child drops to user nobody

    @property
    def strong(self) -> bool:
        return self.level == "bubblewrap"


@dataclass(frozen=True)
class Launch:
    """What to start: `argv` refers to paths inside the sandbox (see `paths`)."""

    box: Path  # host scratch directory, read-write for the student
    kit: Path  # host directory with the grader kit, read-only
    output_bytes: int  # cap on any one file the process writes (stdout included)
    device: str = "cpu"


def _python_dirs():
    """The Python install and the virtual environment, deduplicated, as host paths."""
    dirs = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), os.path.abspath(sys.prefix)}
    return sorted(d for d in dirs if os.path.isdir(d))


def _bwrap_argv(launch: Launch, nobody: bool = True):
    argv = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session"]
    if nobody:
        argv += ["--uid", "65534", "--gid", "65534"]
    for directory in SYSTEM_DIRS:
        if os.path.exists(directory):
            argv += ["--ro-bind", directory, directory]
    # /tmp first: a tmpfs mounted after a bind beneath it (a venv under /tmp) would hide that bind.
    argv += ["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    for directory in _python_dirs():
        argv += ["--ro-bind", directory, directory]
    if launch.device.startswith("cuda"):
        for node in glob.glob("/dev/nvidia*"):
            argv += ["--dev-bind", node, node]
        if os.path.isdir("/sys"):
            argv += ["--ro-bind", "/sys", "/sys"]
    argv += ["--bind", str(launch.box), BOX, "--ro-bind", str(launch.kit), KIT, "--chdir", BOX]
    return argv


def _fallback(reason: str) -> Isolation:
    """The weaker level; as nobody when we are root and nobody can run this Python."""
    if os.geteuid() != 0:
        return Isolation("fallback", f"{reason}; running as the grader's own user", as_nobody=False)
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", "pass"], capture_output=True, timeout=30,
            preexec_fn=_limit_resources(1 << 20, True, 64), cwd="/",
        )
        usable = done.returncode == 0
    except (OSError, subprocess.SubprocessError):
        usable = False
    if usable:
        return Isolation("fallback", f"{reason}; running as user nobody with resource limits")
    return Isolation(
        "fallback", f"{reason}; user nobody cannot run this Python, so running as root with resource limits",
        as_nobody=False,
    )


@functools.lru_cache(maxsize=None)
def detect_isolation() -> Isolation:
    """Use bubblewrap when it is installed and actually works here; else say why not."""
    if os.environ.get("COURSE_SANDBOX") == "fallback":
        return _fallback("weaker isolation: COURSE_SANDBOX=fallback was set")
    if shutil.which("bwrap") is None:
        return _fallback("weaker isolation: bubblewrap (bwrap) is not installed")
    probe_dir = Path(os.environ.get("TMPDIR", "/tmp"))
    launch = Launch(box=probe_dir, kit=probe_dir, output_bytes=1 << 20)
    try:
        done = subprocess.run(
            [*_bwrap_argv(launch), sys.executable, "-I", "-c", "print('ok')"],
            capture_output=True, text=True, timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return _fallback(f"weaker isolation: bubblewrap could not start ({exc})")
    if done.returncode != 0 or done.stdout.strip() != "ok":
        detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return _fallback(f"weaker isolation: bubblewrap is refused here ({detail})")
    return Isolation("bubblewrap", "bubblewrap: no network, no course files, user nobody")


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


def _limit_resources(output_bytes: int, drop_to_nobody: bool, processes: int):
    def apply():
        os.setsid()
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (output_bytes, output_bytes))
        if drop_to_nobody:
            nobody = pwd.getpwnam("nobody")
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            # Counted per user: only meaningful once we are not root.
            resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))

    return apply


def start(isolation: Isolation, launch: Launch, argv, stdout_path: Path, processes: int) -> subprocess.Popen:
    """Start `argv` (a Python command line; argv[0] is replaced by this interpreter) isolated."""
    command = [sys.executable, *argv[1:]]
    drop = False
    if isolation.strong:
        command = [*_bwrap_argv(launch), *command]
    else:
        drop = isolation.as_nobody and os.geteuid() == 0
        if drop:
            nobody = pwd.getpwnam("nobody")
            for path in [launch.box, *launch.box.rglob("*")]:
                os.chown(path, nobody.pw_uid, nobody.pw_gid)
            for path in [launch.kit.parent, launch.kit, *launch.kit.rglob("*")]:
                path.chmod(0o755 if path.is_dir() else 0o644)
    stdout = open(stdout_path, "wb")
    try:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            env=_environment(isolation, launch),
            cwd=str(launch.box),
            preexec_fn=_limit_resources(launch.output_bytes, drop, processes),
        )
    finally:
        stdout.close()
