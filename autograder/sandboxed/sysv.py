"""System V IPC objects (shared memory, message queues, semaphores) a uid holds, as /proc/sysvipc lists them in
the caller's IPC namespace, and their removal.

Used on both sides: the grader counts and removes what a sandbox uid left in the host's namespace (the fallback),
and the zygote empties its own namespace (bubblewrap's, which the host cannot see) before each child.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from pathlib import Path

IPC_RMID = 0


def objects(uid: int) -> list:
    """(kind, id, bytes) of the System V objects `uid` owns or created; kind is "shm", "msg" or "sem" (0 bytes)."""
    found = []
    for kind, size_column in (("shm", "size"), ("msg", "cbytes"), ("sem", None)):
        try:
            rows = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        except OSError:
            continue
        if not rows:
            continue
        header = rows[0].split()
        for row in rows[1:]:
            fields = dict(zip(header, row.split()))
            try:
                if uid in (int(fields["uid"]), int(fields["cuid"])):
                    ident = int(fields[{"shm": "shmid", "msg": "msqid", "sem": "semid"}[kind]])
                    found.append((kind, ident, int(fields[size_column]) if size_column else 0))
            except (KeyError, ValueError):
                continue
    return found


def held_bytes(uid: int) -> int:
    """Bytes of the System V shared memory segments and message queues `uid` owns or created."""
    return sum(size for kind, _, size in objects(uid) if kind != "sem")


def remove(found) -> None:
    """Remove the objects `found` (from `objects`); one already gone is skipped."""
    if not found:
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    for kind, ident, _ in found:
        if kind == "shm":
            libc.shmctl(ident, IPC_RMID, None)
        elif kind == "msg":
            libc.msgctl(ident, IPC_RMID, None)
        else:
            libc.semctl(ident, 0, IPC_RMID)
