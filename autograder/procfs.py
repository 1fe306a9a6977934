"""What /proc says of a process: its status fields, whether it still holds anything, where to read what it holds.

A process whose first thread ended on its own (the raw exit system call, not exit_group) shows as a zombie while
its other threads run on, with all their memory and files: the watchdog must still measure and kill it.
"""

from __future__ import annotations

import os


def status(pid: int | str) -> dict:
    """Fields of /proc/PID/status (or of a task: `pid` given as "PID/task/TID")."""
    fields = {}
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for row in handle:
                key, _, value = row.partition(b":")
                if key in (b"State", b"Threads", b"VmRSS", b"PPid", b"Uid"):
                    fields[key.decode()] = value.split()
    except OSError:
        pass
    return fields


def holds_nothing(fields: dict) -> bool:
    """Whether a process with these status fields is gone but for its pid: a zombie with no thread left."""
    return not fields or (fields.get("State", [b"Z"])[0] == b"Z" and int(fields.get("Threads", [b"1"])[0]) <= 1)


def live_view(pid: int, fields: dict) -> str:
    """Where /proc shows what `pid` holds: its own folder, or a live thread's when its first thread is a zombie
    (whose folder shows no memory, open files or maps)."""
    if fields.get("State", [b""])[0] != b"Z":
        return str(pid)
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return str(pid)
    for task in tasks:
        if task != str(pid) and status(f"{pid}/task/{task}").get("State", [b"Z"])[0] != b"Z":
            return f"{pid}/task/{task}"
    return str(pid)
