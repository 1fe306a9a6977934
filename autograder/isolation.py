"""Which isolation student code gets here, and why; or a refusal that says how to fix it.

Three levels (`Isolation.level`):

- ``bubblewrap``: a fresh mount, PID, network, IPC and UTS namespace holding only the system
  folders, the interpreter, the grader kit and the box. A root grader starts bubblewrap without
  a user namespace and drops to a dedicated unprivileged uid (`sandbox_users`) with `setpriv`
  before Python starts; an unprivileged grader runs it in a user namespace as itself.
- ``fallback`` (root grader, bubblewrap missing or refused, as in Gradescope's containers): a
  plain process as a dedicated unprivileged uid with resource limits. Only used when that uid can
  run the sandbox's Python and can read none of the course (solutions, hidden checks, the course
  folder) and none of the exercise's banned modules; otherwise grading is refused with the fix.
- ``none`` (`--no-isolation`, an instructor's own code only): as the grader's own user.

Student code never runs as root except at level ``none``, which the results state.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ENGINE = Path(__file__).resolve().parent
FIX_PYTHON = (
    "give the sandbox an interpreter that user can run: `course sandbox-python /opt/course-python` builds one "
    "(then set COURSE_SANDBOX_PYTHON=/opt/course-python/bin/python), or install Python and the course's packages "
    "under a world-readable prefix such as /usr/local"
)


class IsolationRefused(RuntimeError):
    """Student code cannot be isolated here; the message says why and how to fix it."""


@dataclass(frozen=True)
class Isolation:
    level: str  # "bubblewrap" | "fallback" | "none"
    reason: str  # shown in the results
    dedicated_user: bool = False  # one unprivileged uid per sandbox (root grader)

    @property
    def strong(self) -> bool:
        return self.level == "bubblewrap"


@dataclass(frozen=True)
class SandboxPython:
    """The interpreter student code runs under, and the host folders it needs (bound read-only by bubblewrap)."""

    executable: str
    folders: tuple

    @property
    def is_grader_python(self) -> bool:
        return self.executable == sys.executable


@functools.lru_cache(maxsize=None)
def sandbox_python() -> SandboxPython:
    """$COURSE_SANDBOX_PYTHON, else the grader's own interpreter."""
    executable = os.environ.get("COURSE_SANDBOX_PYTHON") or sys.executable
    if executable == sys.executable:
        prefixes = [sys.base_prefix, sys.prefix]
    else:
        try:
            done = subprocess.run([executable, "-I", "-c", "import sys, json; print(json.dumps([sys.prefix, sys.base_prefix]))"],
                                  capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
            prefixes = json.loads(done.stdout)
        except (OSError, ValueError, subprocess.SubprocessError):
            raise IsolationRefused(f"COURSE_SANDBOX_PYTHON={executable} does not run") from None
        prefixes.append(os.path.dirname(os.path.dirname(os.path.abspath(executable))))
    folders = {os.path.realpath(p) for p in prefixes} | {os.path.abspath(p) for p in prefixes}
    return SandboxPython(executable, tuple(sorted(f for f in folders if os.path.isdir(f))))


_LOCATE = r"""
import importlib.util, json, os, sys
found = {}
for name in sys.argv[1:]:
    parts = name.split(".")
    try:
        spec = importlib.util.find_spec(parts[0])
    except (ImportError, ValueError):
        spec = None
    places = []
    if spec is not None:
        places = list(spec.submodule_search_locations or []) or ([spec.origin] if spec.origin else [])
    for part in parts[1:]:
        inner = []
        for folder in places:
            if not os.path.isdir(folder):
                continue
            if os.path.isdir(os.path.join(folder, part)):
                inner.append(os.path.join(folder, part))
            inner += [os.path.join(folder, f) for f in os.listdir(folder)
                      if f.split(".")[0] == part and f.endswith((".py", ".so", ".pyc", ".pyd"))]
        places = inner
    found[name] = sorted(os.path.realpath(p) for p in places)
print(json.dumps(found))
"""


@functools.lru_cache(maxsize=None)
def banned_module_paths(banned: tuple) -> dict:
    """module -> the files or folders that hold it in the sandbox's Python (without importing anything)."""
    if not banned:
        return {}
    done = subprocess.run([sandbox_python().executable, "-I", "-c", _LOCATE, *banned], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    try:
        return json.loads(done.stdout)
    except ValueError:
        raise IsolationRefused(f"could not locate the banned modules {', '.join(banned)} in "
                               f"{sandbox_python().executable}: {done.stderr.strip()[-300:]}") from None


def _bwrap_usable(dedicated: bool) -> str | None:
    """None when bubblewrap runs Python here (as a dedicated uid when `dedicated`), else why not."""
    from autograder import sandbox, sandbox_users

    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed"
    if dedicated and shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed, so bubblewrap cannot drop to an unprivileged user"
    try:
        with sandbox_users.sandbox_user() if dedicated else _no_user() as uid:
            done = sandbox.probe_bubblewrap(uid)
    except (OSError, subprocess.SubprocessError, sandbox_users.NoSandboxUser) as error:
        return f"bubblewrap could not start ({error})"
    expected = str(uid if dedicated else os.geteuid())
    if done.returncode != 0 or done.stdout.strip() != expected:
        detail = (done.stderr.strip().splitlines() or [done.stdout.strip() or "no output"])[-1]
        return f"bubblewrap is refused here ({detail[:300]})"
    return None


class _no_user:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _fallback_problems(protected) -> list[str]:
    """What stops the fallback from isolating: run the sandbox's Python as a sandbox uid and look."""
    from autograder import sandbox, sandbox_users

    python = sandbox_python().executable
    script = ("import json, os, sys; import numpy; import importlib.util as u; "
              "paths = json.loads(sys.argv[1]); "
              "print(json.dumps({'torch': u.find_spec('torch') is not None, "
              "'readable': [p for p in paths if os.access(p, os.R_OK) or (os.path.isdir(p) and os.access(p, os.X_OK))]}))")
    with sandbox_users.sandbox_user() as uid:
        try:
            done = sandbox.run_as(uid, [python, "-I", "-c", script, json.dumps(list(protected))])
        except OSError as error:
            done = subprocess.CompletedProcess([], 127, "", str(error))
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["no output"])[-1][:300]
        return [f"the sandbox user (uid {uid}) cannot run {python} with numpy ({detail}); {FIX_PYTHON}"]
    report = json.loads(done.stdout)
    problems = []
    if report["readable"]:
        problems.append(
            f"the sandbox user (uid {uid}) can read {', '.join(report['readable'])}: the solutions and hidden checks "
            "must be unreadable to other users (e.g. `chmod 700` the course folder; the sandbox does not need it)")
    if not report["torch"]:
        problems.append(f"{python} has no torch for the sandbox user; {FIX_PYTHON}")
    return problems


def protected_paths(root: Path) -> tuple:
    """What no sandbox may read: the course folder, its solutions, and the engine with its hidden checks."""
    return tuple(str(p) for p in (root, root / "solutions", root / "course.yml", ENGINE, ENGINE / "checks"))


@functools.lru_cache(maxsize=None)
def detect(no_isolation: bool = False, protected: tuple = ()) -> Isolation:
    """The strongest isolation that works here, or IsolationRefused (the message says how to fix it).

    COURSE_SANDBOX=fallback skips bubblewrap (to test the fallback); `protected` lists paths the
    fallback's sandbox user must not be able to read.
    """
    user = "root" if os.geteuid() == 0 else f"uid {os.geteuid()}"
    if no_isolation:
        return Isolation("none", f"NOT ISOLATED (--no-isolation): student code ran as the grader's user ({user}) "
                                 "with its rights; use this only for your own code")
    root = os.geteuid() == 0
    forced = os.environ.get("COURSE_SANDBOX", "")
    why_not = "COURSE_SANDBOX=fallback was set" if forced == "fallback" else _bwrap_usable(dedicated=root)
    if why_not is None:
        who = "a dedicated unprivileged user" if root else f"your own user ({user}) in a user namespace"
        return Isolation("bubblewrap", f"bubblewrap: no network, no course files, {who}", dedicated_user=root)
    if not root:
        raise IsolationRefused(
            f"student code cannot be isolated here: {why_not}, and without bubblewrap it would run as you ({user}) "
            "with your rights. Install bubblewrap (e.g. `apt-get install bubblewrap`) on a system that allows "
            "unprivileged user namespaces, or grade as root (then each submission runs as its own unprivileged "
            "user), or pass --no-isolation to grade your own code")
    problems = _fallback_problems(protected)
    if problems:
        raise IsolationRefused(
            f"student code cannot be isolated here: {why_not}, and the fallback (a separate unprivileged user) is "
            f"not safe: {'; '.join(problems)}. Or install bubblewrap where namespaces are allowed, or pass "
            "--no-isolation to grade your own code")
    return Isolation("fallback", f"weaker isolation ({why_not}): a separate unprivileged user with resource limits; "
                                 "no separate network or file-system view", dedicated_user=True)


@functools.lru_cache(maxsize=None)
def fallback_ban_problem(banned: tuple, groups: tuple) -> str | None:
    """In the fallback, why a banned module would still be importable by a sandbox user with `groups`, or None."""
    from autograder import sandbox, sandbox_users

    paths = [p for places in banned_module_paths(banned).values() for p in places]
    if not paths:
        return None
    script = ("import json, os, sys; print(json.dumps([p for p in json.loads(sys.argv[1]) "
              "if os.access(p, os.R_OK) and (not os.path.isdir(p) or os.access(p, os.X_OK))]))")
    with sandbox_users.sandbox_user() as uid:
        done = sandbox.run_as(uid, [sandbox_python().executable, "-I", "-c", script, json.dumps(paths)], groups)
    readable = json.loads(done.stdout) if done.returncode == 0 else paths
    if not readable:
        return None
    return (f"the banned module files {', '.join(readable)} are readable by the sandbox user, so the ban could only be "
            "enforced by an import hook: make them unreadable to other users (`chgrp -R GROUP PATH; chmod -R o-rwx "
            "PATH`; exercises that allow the module get GROUP), or use `course sandbox-python`, which does this")
