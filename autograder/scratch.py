"""The scratch folder of one sandbox: the box (read-write) and the kit (read-only), owned so only it can look in.

    scratch/   root:UID 0710   (mkdtemp: a random name; others cannot even list it)
      box/     UID:UID  0700   the student's working folder and the probes' outputs
      kit/     root:UID 0750   runner, probes, inputs, the student's file (files 0640)

Without a dedicated uid (unprivileged grader, --no-isolation) the folders keep the grader's owner.
"""

from __future__ import annotations

import os
from pathlib import Path


def make_box(scratch: Path, uid: int | None) -> tuple[Path, Path]:
    """Create box/ and kit/ in `scratch` (a fresh private folder); return (box, kit)."""
    box, kit = scratch / "box", scratch / "kit"
    box.mkdir(mode=0o700)
    kit.mkdir(mode=0o750)
    if uid is not None:
        os.chown(scratch, 0, uid, follow_symlinks=False)
        os.chmod(scratch, 0o710)
        os.chown(box, uid, uid, follow_symlinks=False)
        os.chown(kit, 0, uid, follow_symlinks=False)
    return box, kit


def seal_kit(kit: Path, uid: int | None) -> None:
    """Make everything in the kit readable by the sandbox's group only, and writable by nobody but root.

    Runs before any student code does, on files the grader has just written (no links to follow).
    """
    if uid is None:
        return
    for folder, folders, files in os.walk(kit):
        os.chown(folder, 0, uid, follow_symlinks=False)
        os.chmod(folder, 0o750)
        for name in files:
            path = os.path.join(folder, name)
            os.chown(path, 0, uid, follow_symlinks=False)
            os.chmod(path, 0o640)
