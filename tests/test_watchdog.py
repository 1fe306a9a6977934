"""The watchdog's looks: memory no process maps (System V) counts on the very next look, and a clean-up between two
children is not charged to the next one."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from autograder import procfs, sandbox_users, watchdog
from autograder.sandboxed import sysv

UNUSED_UID = 3_999_999  # no process runs as it: the watch sees this process (its root) and what the uid holds
GIB = 1 << 30


def test_system_v_memory_counts_on_the_next_look_not_the_next_slow_one(tmp_path, monkeypatch):
    """A writer fills gigabytes of shared memory between two slow looks (0.25 s apart): each look counts it."""
    segments = []
    monkeypatch.setattr(sysv, "objects", lambda uid: list(segments) if uid == UNUSED_UID else [])
    watch = watchdog.Watch(os.getpid(), UNUSED_UID, tmp_path, outside_box=False)
    before = watch.usage().memory_bytes  # a slow look
    segments.append(("shm", 1, 2 * GIB))
    assert watch.usage().memory_bytes - before >= 2 * GIB - (64 << 20)  # (this process's own memory may move)


def test_what_was_cleaned_up_no_longer_counts_once_the_watch_looks_afresh(tmp_path):
    watch = watchdog.Watch(os.getpid(), UNUSED_UID, tmp_path, outside_box=False)
    (tmp_path / "left-behind").write_bytes(b"x" * (1 << 20))
    assert watch.usage().file_bytes >= 1 << 20
    (tmp_path / "left-behind").unlink()  # the session's clean-up after a child
    watch.look_afresh()
    assert watch.usage().file_bytes == 0


EXIT_THREAD = {"x86_64": 60, "aarch64": 93}.get(os.uname().machine)  # the raw exit system call: one thread ends
HALF_GONE = """
import ctypes, sys, threading, time
def hold():
    hog = bytearray(256 << 20)
    for i in range(0, len(hog), 4096):
        hog[i] = 1
    print("holding", flush=True)
    while True:
        time.sleep(0.1)
threading.Thread(target=hold).start()
time.sleep(0.2)
ctypes.CDLL(None).syscall(int(sys.argv[1]), 0)
"""


SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin")  # one another uid may run (the venv's may be root's)


def _half_gone(uid=None) -> subprocess.Popen:
    """A process whose first thread has ended on its own while another holds 256 MiB: /proc shows a zombie."""
    python = sys.executable if uid is None else SYSTEM_PYTHON
    process = subprocess.Popen([python, "-c", HALF_GONE, str(EXIT_THREAD)], stdout=subprocess.PIPE, text=True,
                               user=uid, group=uid)
    assert process.stdout.readline().strip() == "holding"
    deadline = time.monotonic() + 10
    while procfs.status(process.pid).get("State", [b""])[0] != b"Z" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert procfs.status(process.pid)["Threads"] == [b"2"]
    return process


@pytest.mark.skipif(EXIT_THREAD is None, reason="the exit system call's number is known here for x86_64 and aarch64")
def test_a_process_whose_first_thread_ended_is_still_measured_and_killed(tmp_path):
    process = _half_gone()
    try:
        usage = watchdog.Watch(process.pid, None, tmp_path, outside_box=False).usage()
        assert usage.memory_bytes >= 256 << 20 and usage.processes == 1 and usage.threads == 2
        watchdog.kill_tree(process.pid)
        assert process.wait(timeout=10) == -signal.SIGKILL
    finally:
        process.kill()
        process.wait()


@pytest.mark.skipif(EXIT_THREAD is None or os.geteuid() != 0 or not SYSTEM_PYTHON,
                    reason="needs root and a system python3 (a process of another uid)")
def test_a_uid_whose_process_lost_its_first_thread_is_emptied():
    process = _half_gone(UNUSED_UID)
    try:
        assert sandbox_users.processes_of(UNUSED_UID) == [process.pid]
        sandbox_users.kill_user(UNUSED_UID)
        assert process.wait(timeout=10) == -signal.SIGKILL
        assert sandbox_users.processes_of(UNUSED_UID) == []
    finally:
        process.kill()
        process.wait()
