"""One unprivileged host user per running sandbox (when the grader runs as root).

Each sandbox borrows a uid from a pool (default 64100-64899, `COURSE_SANDBOX_UIDS=FIRST-LAST`
to change it) that no account on the system uses, under an exclusive lock, so concurrent
sandboxes never share a user. A dedicated uid makes the rest exact:

- `processes_of(uid)` is everything the submission started, daemons and `fork()` children
  included, whatever they did to their process group, session or parent;
- `kill_user(uid)` stops and kills all of them until none is left;
- `remove_leftovers(uid)` deletes what it left in the world-writable folders (/tmp, /dev/shm,
  ...) and its System V IPC objects.

The uid is released only after all three, so the next sandbox starts clean.
"""

from __future__ import annotations

import errno
import fcntl
import grp
import os
import pwd
import signal
import stat
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from autograder import procfs, safe_io
from autograder.sandboxed import sysv
from autograder.safe_io import listing

DEFAULT_UIDS = (64100, 64899)
LOCK_DIRS = ("/run/genmodels-course-sandbox", os.path.join(tempfile.gettempdir(), "genmodels-course-sandbox-root"))
TEMP_ROOTS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/dev/mqueue")


class NoSandboxUser(RuntimeError):
    """No uid of the pool is free (or the pool is misconfigured)."""


def uid_range() -> tuple[int, int]:
    text = os.environ.get("COURSE_SANDBOX_UIDS", "")
    if not text:
        return DEFAULT_UIDS
    try:
        first, last = (int(part) for part in text.split("-"))
    except ValueError:
        raise NoSandboxUser(f"COURSE_SANDBOX_UIDS={text!r}: expected FIRST-LAST, e.g. 64100-64899") from None
    if not 0 < first <= last < 2**31:
        raise NoSandboxUser(f"COURSE_SANDBOX_UIDS={text!r}: expected 0 < FIRST <= LAST")
    return first, last


def shared_gid() -> int | None:
    """The group every sandbox process carries besides its own (the gid just before the pool; the banned modules'
    groups follow it), which `file_limits.close_world_writable` shuts out of the world-writable folders; None if
    a real group has it."""
    gid = uid_range()[0] - 1
    try:
        grp.getgrgid(gid)
    except KeyError:
        return gid
    return None


def _lock_dir() -> Path:
    """A root-owned 0700 folder for the pool's lock files (refusing one someone else prepared)."""
    for candidate in LOCK_DIRS:
        path = Path(candidate)
        try:
            path.mkdir(mode=0o700, exist_ok=True)
            info = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == 0 and stat.S_IMODE(info.st_mode) & 0o077 == 0:
            return path
    raise NoSandboxUser(f"none of {', '.join(LOCK_DIRS)} can hold the sandbox user locks (a root-owned 0700 folder)")


def _unused(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return True
    return False


@contextmanager
def sandbox_user():
    """Borrow a free uid (also used as its gid) for one sandbox; everything it left is removed on return."""
    first, last = uid_range()
    folder = _lock_dir()
    for uid in range(first, last + 1):
        if not _unused(uid):
            continue
        fd = os.open(folder / f"uid-{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(fd)
            if error.errno in (errno.EWOULDBLOCK, errno.EACCES):
                continue
            raise
        try:
            clean_up(uid)  # a grader that crashed may have left something behind
            yield uid
        finally:
            try:
                clean_up(uid)
            finally:
                os.close(fd)  # releases the lock
        return
    raise NoSandboxUser(f"all sandbox uids {first}-{last} are busy; set COURSE_SANDBOX_UIDS to a larger free range")


def clean_up(uid: int) -> None:
    kill_user(uid)
    remove_leftovers(uid)


def _uids_of(pid: str):
    """(real, effective, saved, filesystem) uids of a live process from /proc/PID/status (the folder's
    owner lies for a non-dumpable process); None for a zombie that holds nothing but its pid (one whose first
    thread alone ended, its other threads running on, is live: `procfs.holds_nothing`)."""
    fields = procfs.status(pid)
    if procfs.holds_nothing(fields) or "Uid" not in fields:
        return None
    try:
        return tuple(int(field) for field in fields["Uid"][:4])
    except ValueError:
        return None


def processes_of(uid: int) -> list[int]:
    """Pids of every live process any of whose uids is `uid`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            uids = _uids_of(entry)
            if uids and uid in uids:
                found.append(int(entry))
    return found


def kill_user(uid: int, timeout_s: float = 10.0, spare=frozenset()) -> None:
    """Stop, then kill, every process of `uid` but `spare` until none is left (forks between scans are caught
    next time)."""
    deadline = time.monotonic() + timeout_s
    while True:
        pids = [pid for pid in processes_of(uid) if pid not in spare]
        if not pids:
            return
        for sig in (signal.SIGSTOP, signal.SIGKILL):  # stopped processes cannot fork while we kill the others
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes of sandbox uid {uid} survive SIGKILL: {pids[:10]}")
        time.sleep(0.005)


def temp_roots() -> list[str]:
    """World-writable folders a user without a home can write to, and those one level inside them."""
    roots = []
    for root in dict.fromkeys([*TEMP_ROOTS, tempfile.gettempdir()]):
        try:
            info = os.lstat(root)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_IWOTH:
            roots.append(root)
            roots += [entry.path for entry, inner in listing(root)
                      if stat.S_ISDIR(inner.st_mode) and inner.st_mode & stat.S_IWOTH and inner.st_uid == 0]
    return roots


def entries_of(uid: int, roots) -> list[tuple[os.DirEntry, os.stat_result]]:
    """(entry, lstat) of the top-level entries of `roots` owned by `uid`."""
    return [(entry, info) for root in roots for entry, info in listing(root) if info.st_uid == uid]


def remove_leftovers(uid: int) -> None:
    """Delete the files and folders `uid` owns in the world-writable folders, and its System V IPC objects."""
    for entry, info in entries_of(uid, temp_roots()):
        safe_io.remove(entry.path, info)
    sysv.remove(sysv.objects(uid))

