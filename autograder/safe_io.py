"""Read files a submission controls without being fooled by them.

Every path component is opened relative to the one before it with O_NOFOLLOW, so a link
planted anywhere on the way (a symlinked folder, a link to /etc/shadow or to another
student's outputs) makes the read fail instead of being followed. Only regular files are
read (never a FIFO that blocks or a device that never ends), and never more than a limit.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path, PurePosixPath

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafeFile(ValueError):
    """A file that is a link, not a regular file, missing, or larger than allowed."""


def open_folder(folder: Path | str, relative: PurePosixPath | str = "") -> int:
    """A directory fd for `folder`/`relative`, following no link inside `relative` (the caller closes it)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in PurePosixPath(relative).parts:
            inner = os.open(part, _DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
    except OSError as error:
        os.close(fd)
        raise UnsafeFile(f"{relative} is not a folder one can open without following a link ({error.strerror})") from None
    return fd


def read_at(directory_fd: int, name: str, limit: int) -> bytes:
    """The bytes of the regular file `name` in the open folder `directory_fd`, at most `limit` of them."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=directory_fd)
    except FileNotFoundError:
        raise UnsafeFile(f"{name} is missing") from None
    except OSError as error:
        raise UnsafeFile(f"{name} cannot be opened without following a link ({error.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(f"{name} is not a regular file")
        if info.st_size > limit:
            raise UnsafeFile(f"{name} is larger than {limit:,} bytes")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise UnsafeFile(f"{name} is larger than {limit:,} bytes")
    return data


def listing(folder) -> list[tuple[os.DirEntry, os.stat_result]]:
    """(entry, its own lstat) for each entry of `folder`; [] when it cannot be read. Links are not followed."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    found = []
    for entry in entries:
        try:
            found.append((entry, entry.stat(follow_symlinks=False)))
        except OSError:
            continue
    return found


def remove(path, info: os.stat_result) -> None:
    """Delete what `listing` found at `path` (`info`: its lstat), following no link; errors are ignored.

    A folder goes with its contents (shutil.rmtree works on descriptors: it never follows a link inside);
    a link is deleted itself, never what it points to.
    """
    try:
        if stat.S_ISDIR(info.st_mode):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except OSError:
        pass


def exists_at(directory_fd: int, name: str) -> bool:
    """Whether `name` exists in the open folder (a link counts: it exists, it just will not be read)."""
    try:
        os.stat(name, dir_fd=directory_fd, follow_symlinks=False)
    except OSError:
        return False
    return True


def read_regular_file(folder: Path | str, relative: PurePosixPath | str, limit: int) -> bytes:
    """The bytes of `folder`/`relative`, every component opened without following a link."""
    relative = PurePosixPath(relative)
    directory = open_folder(folder, relative.parent)
    try:
        return read_at(directory, relative.name, limit)
    finally:
        os.close(directory)
