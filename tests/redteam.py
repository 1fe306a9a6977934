"""What the red-team tests share: a private course with small limits, both isolation levels, and the checks
that must hold after a hostile submission is graded.

Each test grades with the real `course grade` command in a fresh process, from a copy of the course in a
private (0700) folder, so that:

- ``bubblewrap``: the sandbox is bubblewrap, started by this (root) grader, dropping to a sandbox uid;
- ``fallback``: as Gradescope runs it: root grader, unprivileged sandbox uid, no namespaces
  (COURSE_SANDBOX=fallback), with a Python that uid can run, built once with `course sandbox-python`
  (the machine's own lives in /root, which other users cannot enter).

After grading: the submission got what its honest part earns; nothing outside the box changed (no file
named after the test's token anywhere it could write); no process of a sandbox uid outlives grading; the
grader's own memory stayed bounded.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import yaml

from autograder import sandbox_users
from autograder.isolation import IsolationRefused, detect

ROOT = Path(__file__).resolve().parent.parent
MODES = ("bubblewrap", "fallback")
# Small limits, so that every hostile run is cut quickly.
LIMITS = {"time_s": 40, "check_time_s": 8, "memory_mib": 600, "processes": 24, "output_kib": 16, "files_mib": 32,
          "open_files": 64}
GRADER_MEMORY_BYTES = 1536 * 1024 * 1024  # numpy, scikit-learn, the engine: far below this whatever is submitted
# One per checkout: worktrees beside each other must not rebuild (and swap out) each other's interpreter mid-run.
PYTHON_CACHE = (Path(tempfile.gettempdir()) /
                f"course-sandbox-python-for-tests-{hashlib.sha256(str(ROOT).encode()).hexdigest()[:10]}")
WRITABLE_PLACES = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")


def bubblewrap_available() -> bool:
    try:
        return detect().strong
    except IsolationRefused:
        return False


def private_course(folder: Path, limits=LIMITS) -> Path:
    """A copy of the engine, solutions and course.yml (with `limits`) in `folder`, which no other user can enter."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    course = folder / "course"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in ("autograder", "solutions", "genmodels"):
        shutil.copytree(ROOT / part, course / part, ignore=ignore)
    data = yaml.safe_load((ROOT / "course.yml").read_text(encoding="utf-8"))
    data["limits"] = dict(limits)
    for exercise in data["exercises"]:
        exercise.pop("limits", None)
    (course / "course.yml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return course


def sandbox_python() -> Path:
    """The fallback's interpreter: built once per machine (across test workers) with `course sandbox-python`."""
    from autograder.sandbox_python import prepare

    marker = PYTHON_CACHE / "complete"
    source = f"{sys.executable} {os.stat(ROOT / 'pyproject.toml').st_mtime_ns}"
    PYTHON_CACHE.mkdir(mode=0o755, exist_ok=True)
    with open(PYTHON_CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists() or marker.read_text() != source:
            banned = sorted({m for e in yaml.safe_load((ROOT / "course.yml").read_text())["exercises"]
                             for m in e.get("banned_imports", [])})
            prepare(PYTHON_CACHE / "python", banned)
            marker.write_text(source)
    return PYTHON_CACHE / "python" / "bin" / "python"


def mode_env(mode: str) -> dict:
    if mode == "bubblewrap":
        if not bubblewrap_available():
            pytest.skip("bubblewrap does not work here")
        return {"COURSE_SANDBOX": ""}
    if os.geteuid() != 0:
        pytest.skip("the fallback as Gradescope runs it needs a root grader")
    return {"COURSE_SANDBOX": "fallback", "COURSE_SANDBOX_PYTHON": str(sandbox_python())}


@dataclass
class Graded:
    returncode: int
    results: dict | None
    stderr: str
    peak_rss: int
    seconds: float

    def test(self, prefix: str) -> list[dict]:
        """The results of the checks whose name (after "exercise: ") starts with `prefix`."""
        return [t for t in self.results["tests"] if t["name"].partition(": ")[2].startswith(prefix)]

    def score_of(self, prefix: str) -> float:
        return sum(t["score"] for t in self.test(prefix))

    def max_of(self, prefix: str) -> float:
        return sum(t["max_score"] for t in self.test(prefix))

    def feedback(self, prefix: str = "") -> str:
        return "\n".join(t["output"] for t in self.test(prefix))


def grade(course: Path, submission: Path, mode: str, output: Path, exercise="gmm", extra=(), env=None,
          timeout_s=300) -> Graded:
    """Run `course grade` as an instructor would, from the private course; watch the grader's memory."""
    environment = {**os.environ, **mode_env(mode), **(env or {})}
    exercises = [exercise] if isinstance(exercise, str) else list(exercise)
    command = [sys.executable, "-m", "autograder.cli", "--course", str(course), "grade", str(submission),
               *(part for e in exercises for part in ("--exercise", e)), "--output", str(output), "--device", "cpu",
               "--quiet", *extra]
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=course, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    peak = [0]

    def watch():
        while process.poll() is None:
            try:
                peak[0] = max(peak[0], psutil.Process(process.pid).memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    _, stderr = process.communicate(timeout=timeout_s)
    watcher.join()
    results = json.loads(output.read_text()) if output.exists() and process.returncode == 0 else None
    return Graded(process.returncode, results, stderr, peak[0], time.monotonic() - started)


def token() -> str:
    """A name only this test's hostile code uses for what it leaves behind."""
    return f"redteam-{secrets.token_hex(6)}"


def leftovers(name: str, places=WRITABLE_PLACES) -> list[str]:
    """Files or processes named after `name` anywhere the sandbox could have left them."""
    found = []
    for place in places:
        try:
            found += [os.path.join(place, entry) for entry in os.listdir(place) if name in entry]
        except OSError:
            continue
    for process in psutil.process_iter(["cmdline"]):
        try:
            if any(name in part for part in process.info["cmdline"] or []):
                found.append(f"process {process.pid}: {' '.join(process.info['cmdline'])[:200]}")
        except psutil.Error:
            continue
    return found


def sandbox_processes() -> list[int]:
    """Processes of any sandbox uid (of the pool) still alive."""
    first, last = sandbox_users.uid_range()
    alive = []
    for process in psutil.process_iter(["uids", "status"]):
        try:
            if process.info["status"] != psutil.STATUS_ZOMBIE and first <= process.info["uids"].real <= last:
                alive.append(process.pid)
        except psutil.Error:
            continue
    return alive


def assert_contained(graded: Graded, name: str) -> None:
    """Grading completed, nothing named `name` is left anywhere, and the grader's memory stayed bounded."""
    assert graded.returncode == 0, graded.stderr[-3000:]
    assert not leftovers(name), leftovers(name)
    assert graded.peak_rss < GRADER_MEMORY_BYTES, f"the grader used {graded.peak_rss >> 20} MiB"


def hostile(source: str, function: str, attack: str) -> str:
    """The reference gmm.py with `attack` (indented code) run at the start of `function`."""
    body = "".join(f"    {line}\n" for line in attack.strip("\n").splitlines())
    marker = f"def {function}("
    start = source.index(marker)
    colon = source.index(":\n", source.index(")", start)) + 2
    docstring_end = colon
    rest = source[colon:]
    stripped = rest.lstrip()
    if stripped.startswith('"""'):
        close = rest.index('"""', rest.index('"""') + 3) + 3
        docstring_end = colon + close + 1
    return source[:docstring_end] + body + source[docstring_end:]
