"""The watchdog's looks: memory no process maps (System V) counts on the very next look, and a clean-up between two
children is not charged to the next one."""

from __future__ import annotations

import os

from autograder import sandbox_users, watchdog

UNUSED_UID = 3_999_999  # no process runs as it: the watch sees this process (its root) and what the uid holds
GIB = 1 << 30


def test_system_v_memory_counts_on_the_next_look_not_the_next_slow_one(tmp_path, monkeypatch):
    """A writer fills gigabytes of shared memory between two slow looks (0.25 s apart): each look counts it."""
    segments = []
    monkeypatch.setattr(sandbox_users, "ipc_objects", lambda uid: list(segments) if uid == UNUSED_UID else [])
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
