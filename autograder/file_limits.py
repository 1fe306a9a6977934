"""Bounds on what a sandbox writes that the kernel enforces, set up by a root grader where the machine allows.

The watchdog (`autograder.watchdog`) measures a sandbox's files a few times a second; code that writes
gigabytes a second can overshoot a limit between two looks. Where it can, the grader closes that gap:

- **the box** becomes a tmpfs of the exercise's file budget (bytes and entries), so a write past the
  budget fails with "No space left on device" instead of landing (`bounded_box`);
- **the world-writable folders** (`/tmp`, `/var/tmp`, `/dev/shm`, `/run/lock` and the root-owned
  world-writable folders one level inside them) get a POSIX ACL entry giving the group every sandbox
  uid carries (`sandbox_users.shared_gid`) search permission only: those processes can still reach
  a path through them (their scratch folder, an interpreter under /tmp) but create nothing there
  (`close_world_writable`). That matters in the fallback, where the sandbox shares the host's /tmp;
  bubblewrap gives it a private, size-limited one anyway.

Both need root; the ACL needs `setfacl` (Debian package `acl`) and a file system with POSIX ACLs; the
mount needs the right to mount (Docker's default profile refuses it). Where one is missing the watchdog
alone enforces that limit, and `docs/sandbox.md` says how much it can be overshot by.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
from pathlib import Path

from autograder import sandbox_users

MS_NOSUID, MS_NODEV, MNT_DETACH = 0x2, 0x4, 0x2
_LIBC = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def bounded_box(box: Path, size_bytes: int, entries: int, uid: int) -> bool:
    """Mount a tmpfs of `size_bytes` and `entries` inodes, owned by `uid` (mode 0700), on the empty folder `box`.

    Returns whether it was mounted (False where the grader may not mount). Undo with `release_box`.
    """
    if os.geteuid() != 0:
        return False
    options = f"size={max(size_bytes, 4096)},nr_inodes={entries + 1},mode=0700,uid={uid},gid={uid}"
    done = _LIBC.mount(b"tmpfs", os.fsencode(box), b"tmpfs", MS_NOSUID | MS_NODEV, options.encode())
    return done == 0


def release_box(box: Path) -> None:
    """Detach the box's tmpfs (its contents go with it); nothing happens if none is mounted there."""
    _LIBC.umount2(os.fsencode(box), MNT_DETACH)


def release_stale_boxes(uid: int) -> list[str]:
    """Detach the box tmpfs mounts a killed grader left for `uid` (its scratch folders `course-grade-*` go too).

    Run while holding `uid` (`sandbox_users.sandbox_user`): no live grader can be using one. Returns the boxes.
    """
    stale = []
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as handle:
            rows = handle.read().splitlines()
    except OSError:
        return stale
    for row in rows:
        fields, _, rest = row.partition(" - ")
        point, (kind, _, options) = fields.split()[4], (rest.split() + ["", "", ""])[:3]
        box = Path(point.replace("\\040", " "))
        if (kind == "tmpfs" and box.name == "box" and box.parent.name.startswith("course-grade-")
                and f"uid={uid}" in options.split(",")):
            release_box(box)
            shutil.rmtree(box.parent, ignore_errors=True)
            stale.append(str(box))
    return stale


def box_is_full(box: Path, margin_bytes: int = 64 * 1024) -> bool:
    """Whether the box's file system has (almost) no bytes or no entries left: the kernel refuses the next write."""
    try:
        info = os.statvfs(box)
    except OSError:
        return False
    return info.f_bavail * info.f_frsize < margin_bytes or (info.f_files > 0 and info.f_favail == 0)


def close_world_writable() -> tuple[str, ...]:
    """Give the sandboxes' shared group search-only access to every world-writable folder; return those closed.

    Idempotent, and cheap enough to run before each sandbox starts (a world-writable folder made since is
    closed too); the ACL entry stays (it names a group no account uses).
    """
    gid = sandbox_users.shared_gid()
    setfacl = shutil.which("setfacl")
    if os.geteuid() != 0 or gid is None or setfacl is None:
        return ()
    closed = []
    for folder in sandbox_users.temp_roots():
        done = subprocess.run([setfacl, "-m", f"g:{gid}:--x", folder], capture_output=True, stdin=subprocess.DEVNULL)
        if done.returncode == 0:
            closed.append(folder)
    return tuple(closed)
