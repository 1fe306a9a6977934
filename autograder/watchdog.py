"""Watch a sandboxed process tree from outside: resident memory, process count; kill it whole.

Works the same under bubblewrap and in the fallback, on CPU and GPU machines
(an address-space limit cannot cap memory there: CUDA reserves far more than it uses).
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class Usage:
    rss_bytes: int
    threads: int


def _tree(root: psutil.Process):
    try:
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def usage(pid: int) -> Usage:
    """Resident memory and thread count summed over `pid` and all its descendants."""
    try:
        root = psutil.Process(pid)
    except psutil.Error:
        return Usage(0, 0)
    rss = threads = 0
    for process in _tree(root):
        try:
            with process.oneshot():
                rss += process.memory_info().rss
                threads += process.num_threads()
        except psutil.Error:
            continue
    return Usage(rss, threads)


def kill_tree(pid: int) -> None:
    """SIGKILL `pid`, every descendant, and their process groups. Never raises."""
    try:
        root = psutil.Process(pid)
    except psutil.Error:
        return
    processes = _tree(root)
    groups = set()
    for process in processes:
        try:
            groups.add(os.getpgid(process.pid))
        except OSError:
            pass
    for process in reversed(processes):  # children first, so none is re-parented and missed
        try:
            process.kill()
        except psutil.Error:
            pass
    for group in groups:
        if group != os.getpgid(0):
            try:
                os.killpg(group, signal.SIGKILL)
            except OSError:
                pass
    psutil.wait_procs(processes, timeout=5)
