"""Watch a sandbox from outside: what its processes hold, what its files take; kill all of it.

A sandbox's processes are all processes of its dedicated uid (see `autograder.sandbox_users`)
or, without one, the process tree and session of its first process. Measured from the trusted
side, so nothing inside can hide from it:

- memory: the proportional set size (PSS) of every process (pages shared by forked children
  are counted once), plus memory no process maps any more but still holds: memfds and deleted
  files kept open or mapped, and System V shared memory and message queues;
- processes and threads, and open files;
- files: bytes and entries under the box (and, for a dedicated uid, what it owns in the
  world-writable folders).

Works the same under bubblewrap and in the fallback, on CPU and GPU machines (an address-space
limit cannot cap memory there: CUDA reserves far more than it uses).
"""

from __future__ import annotations

import os
import signal
import stat
import time
from dataclasses import dataclass

from autograder import sandbox_users
from autograder.procfs import holds_nothing, live_view, status as _status
from autograder.safe_io import listing
from autograder.sandboxed import sysv

SLOW_S = 0.25  # full process scan, mapped unnamed files, files
MAX_FILE_ENTRIES = 20_000  # past this, the walk stops: "too many files" is reason enough to stop it


@dataclass(frozen=True)
class Usage:
    memory_bytes: int = 0
    processes: int = 0
    threads: int = 0
    open_files: int = 0
    file_bytes: int = 0
    file_entries: int = 0


def _pss_bytes(pid: int | str) -> int:
    """Proportional set size (falls back to resident size where smaps_rollup is unreadable)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for row in handle:
                if row.startswith(b"Pss:"):
                    return int(row.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _unnamed_open_files(pid: int | str, seen: dict) -> int:
    """Count, into `seen` ((dev, ino) -> bytes), files without a name it holds open (memfds, deleted files);
    return its open fds. Cheap (no page tables walked): run on every look."""
    folder = f"/proc/{pid}/fd"
    try:
        fds = os.listdir(folder)
    except OSError:
        fds = []
    for fd in fds:
        try:
            info = os.stat(f"{folder}/{fd}")
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode) and info.st_nlink == 0:
            seen[(info.st_dev, info.st_ino)] = info.st_blocks * 512
    return len(fds)


def _unnamed_mapped_files(pid: int | str, seen: dict) -> None:
    """Count, into `seen`, files without a name it maps (closed after mapping); dearer (reads its maps)."""
    try:
        with open(f"/proc/{pid}/maps", "rb") as handle:
            maps = [row.split()[0] for row in handle if row.rstrip().endswith(b"(deleted)") or b"/memfd:" in row]
    except OSError:
        maps = []
    for span in maps[:4096]:
        try:
            info = os.stat(f"/proc/{pid}/map_files/{span.decode()}")
        except OSError:
            continue
        if info.st_nlink == 0:
            seen[(info.st_dev, info.st_ino)] = info.st_blocks * 512


def walk_files(roots, uid: int | None = None, limit: int = MAX_FILE_ENTRIES) -> tuple[int, int]:
    """(bytes on disk, entries) under `roots`, links never followed; with `uid`, only what it owns."""
    total = entries = 0
    stack = list(roots)
    while stack:
        for entry, info in listing(stack.pop()):
            if uid is not None and info.st_uid != uid:
                continue
            entries += 1
            if entries > limit:
                return total, entries
            total += info.st_blocks * 512
            if stat.S_ISDIR(info.st_mode):
                stack.append(entry.path)
    return total, entries


def _children(pid: int) -> list[int]:
    """Direct children of every thread of `pid` (cheap: no scan of /proc)."""
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", "rb") as handle:
                found += [int(child) for child in handle.read().split()]
        except (OSError, ValueError):
            continue
    return found


class Watch:
    """Everything one sandbox holds: by `uid` when it has a dedicated one, else by `root_pid`'s tree and session.

    Cheap every poll: the known processes and their new children, their threads, resident memory, open
    files, the unnamed files they hold open (memfds) and the uid's System V memory (a fast writer gets
    gigabytes between two slow looks). Every `SLOW_S`: a full scan for processes of the uid (daemons
    re-parented away), unnamed files only mapped, files. The proportional set size, dearer, is measured
    only when resident memory nears the limit.
    """

    def __init__(self, root_pid: int, uid: int | None, box, outside_box: bool):
        self.root_pid, self.uid, self.box = root_pid, uid, box
        self.outside_box = outside_box and uid is not None  # also count what it wrote in /tmp & co.
        self.known: set = {root_pid}
        self.look_afresh()

    def look_afresh(self) -> None:
        """Forget the slow measures (after a clean-up): the next `usage` takes them again."""
        self._slow = ({}, 0, 0)  # unnamed mapped files, file bytes, file entries
        self._slow_at = -SLOW_S

    def pids(self) -> list[int]:
        if self.uid is not None:
            return sandbox_users.processes_of(self.uid)
        return tree_and_session(self.root_pid)

    def _members(self, full_scan: bool) -> list[int]:
        if full_scan:
            self.known = set(self.pids()) | {self.root_pid}
        stack, seen = list(self.known), set()
        while stack:
            pid = stack.pop()
            if pid not in seen:
                seen.add(pid)
                stack += _children(pid)
        self.known = {pid for pid in seen if os.path.exists(f"/proc/{pid}")}
        return sorted(self.known)

    def _measure_slow(self, pids) -> None:
        mapped: dict = {}
        for pid in pids:
            _unnamed_mapped_files(pid, mapped)
        total, entries = walk_files([self.box])
        if self.outside_box:
            for entry, info in sandbox_users.entries_of(self.uid, sandbox_users.temp_roots()):
                inner = walk_files([entry.path], self.uid) if stat.S_ISDIR(info.st_mode) else (0, 0)
                total, entries = total + info.st_blocks * 512 + inner[0], entries + 1 + inner[1]
        self._slow = (mapped, total, entries)

    def usage(self, memory_limit: int | None = None) -> Usage:
        """What the sandbox holds now; with `memory_limit`, memory past it is re-measured as PSS before it counts."""
        now = time.monotonic()
        slow = now - self._slow_at >= SLOW_S
        pids = self._members(full_scan=slow)
        resident = threads = 0
        alive = []  # where /proc shows what each live process holds (`procfs.live_view`)
        for pid in pids:
            fields = _status(pid)
            if holds_nothing(fields):
                continue
            view = live_view(pid, fields)
            if view != str(pid):
                fields = {**_status(view), "Threads": fields.get("Threads", [b"1"])}
            alive.append(view)
            threads += int(fields.get("Threads", [b"1"])[0])
            resident += int(fields.get("VmRSS", [b"0"])[0]) * 1024
        if slow:
            self._slow_at = now
            self._measure_slow(alive)
        mapped, file_bytes, file_entries = self._slow
        ipc = sysv.held_bytes(self.uid) if self.uid is not None else 0
        unnamed = dict(mapped)  # a memfd both open and mapped counts once
        open_files = sum(_unnamed_open_files(pid, unnamed) for pid in alive)
        hidden = sum(unnamed.values()) + ipc
        memory = resident + hidden
        if memory_limit is not None and memory > memory_limit:  # shared pages (forked children) counted once
            memory = sum(_pss_bytes(pid) for pid in alive) + hidden
        return Usage(memory, len(alive), threads, open_files, file_bytes, file_entries)

    def kill(self, spare=frozenset()) -> None:
        """Kill every process of the sandbox but `spare` (and the processes that hold them, e.g. bubblewrap's);
        return when none is left (or raise when one survives)."""
        if not spare:
            kill_tree(self.root_pid)
        if self.uid is not None:
            sandbox_users.kill_user(self.uid, spare=spare)
        else:
            kill_tree(self.root_pid, spare=set(spare) | {p for pid in spare for p in _ancestors(pid)})


def _session_and_group(pid: int):
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            text = handle.read()
        fields = text[text.rindex(b")") + 2:].split()
        return int(fields[3]), int(fields[2]), int(fields[1])  # session, process group, parent
    except (OSError, ValueError, IndexError):
        return None


def tree_and_session(root_pid: int) -> list[int]:
    """`root_pid`, its descendants, and every process in its session or process group."""
    info = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            found = _session_and_group(int(entry))
            if found:
                info[int(entry)] = found
    members = {root_pid} if root_pid in info else set()
    grew = True
    while grew:
        grew = False
        for pid, (session, group, parent) in info.items():
            if pid not in members and (parent in members or session == root_pid or group == root_pid):
                members.add(pid)
                grew = True
    return sorted(members)


def _ancestors(pid: int) -> list[int]:
    found = []
    while pid > 1:
        fields = _status(pid)
        pid = int(fields.get("PPid", [b"0"])[0])
        found.append(pid)
    return found


def kill_tree(root_pid: int, timeout_s: float = 10.0, spare=frozenset()) -> None:
    """SIGKILL `root_pid`, its descendants and its session but `spare`, again until none is left. Never raises."""
    deadline = time.monotonic() + timeout_s
    own = os.getpid()
    while time.monotonic() < deadline:
        alive = [pid for pid in tree_and_session(root_pid)
                 if pid != own and pid not in spare and not holds_nothing(_status(pid))]
        if not alive:
            return
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.005)
