"""One submission -> the clean folder that is graded, its content hash, and what was wrong with it.

Only regular files are copied: symbolic links and other special files are skipped and reported,
never followed. A `.zip` is unpacked with limits on its members, its unpacked size and its
compression ratio, and nothing lands outside the folder. A single folder wrapping everything is
removed. Then each exercise's file is looked at the way the engine will look for it.

Every problem is a (status code, message) pair; STATUSES orders the codes, worst first.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder.classroom.layouts import JUNK, Submission
from autograder.submission import IGNORED_PARTS, locate

STATUSES = {
    "error": "the grader failed on this submission",
    "corrupt-zip": "a .zip that cannot be opened, or holds unsafe paths",
    "zip-bomb": "a .zip with too many files, too many bytes or an extreme compression ratio",
    "too-large": "more than the size limit of files",
    "empty": "no files at all",
    "missing-file": "an exercise's file is missing",
    "not-utf8": "a source file that is not UTF-8 text",
    "bad-notebook": "a notebook that is not valid notebook JSON",
    "two-files": "two files for one exercise (the one graded is named)",
    "symlink": "a symbolic link or special file, skipped",
    "subfolder": "an exercise's file in a sub-folder (graded there)",
}
MAX_MEMBERS = 1_000  # files in one zip
MAX_BYTES = 64 * 1024 * 1024  # a whole submission, unpacked
MAX_RATIO = 100  # unpacked / compressed, for members over RATIO_FLOOR bytes
RATIO_FLOOR = 1024 * 1024
CHUNK = 1 << 16


class _Overflow(Exception):
    """More bytes than MAX_BYTES."""


@dataclass
class Staged:
    folder: Path
    content_hash: str
    problems: list[tuple[str, str]] = field(default_factory=list)
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)  # exercise id -> (origin, source)


def status_of(problems) -> str:
    """'ok', or the problems' codes, worst first, joined by '; '."""
    codes = {code for code, _ in problems}
    return "; ".join(c for c in STATUSES if c in codes) or "ok"


class _Budget:
    def __init__(self, limit: int = MAX_BYTES):
        self.limit = self.left = limit

    def take(self, n: int):
        self.left -= n
        if self.left < 0:
            raise _Overflow


def _write_new(target: Path, chunks, budget: _Budget, problems, shown: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle = open(target, "xb")
    except FileExistsError:
        problems.append(("two-files", f"{shown} appears twice in the submission; the first one was kept"))
        return
    with handle:
        for chunk in chunks:
            budget.take(len(chunk))
            handle.write(chunk)


def _read_regular(path: Path):
    """Chunks of a regular file, opened without following a link (raises OSError otherwise)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(f"{path.name} is not a regular file")
        while chunk := handle.read(CHUNK):
            yield chunk


def _copy_file(path: Path, target: Path, shown: str, budget, problems) -> None:
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        problems.append(("symlink", f"{shown} is a symbolic link (to {os.readlink(path)}); it was not followed"))
    elif not stat.S_ISREG(mode):
        problems.append(("symlink", f"{shown} is not a regular file; it was skipped"))
    elif path.suffix.lower() == ".zip" and "/" not in shown.strip("/"):
        _unpack(path, target.parent, shown, budget, problems)
    else:
        _write_new(target, _read_regular(path), budget, problems, shown)


def _copy_tree(source: Path, target: Path, prefix: str, budget, problems) -> None:
    for dirpath, dirnames, filenames in os.walk(source):  # never descends into linked folders
        here = Path(dirpath)
        relative = here.relative_to(source)
        for name in list(dirnames):
            if name in JUNK or name in IGNORED_PARTS or os.path.islink(here / name):
                if os.path.islink(here / name):
                    problems.append(("symlink", f"{(relative / name).as_posix()}/ is a symbolic link; it was not followed"))
                dirnames.remove(name)
        dirnames.sort()
        for name in sorted(filenames):
            if name in JUNK:
                continue
            shown = str(PurePosixPath(prefix, relative.as_posix(), name))
            _copy_file(here / name, target / relative / name, shown, budget, problems)


def unpack_zip(archive_path: Path, target: Path, max_members: int, max_bytes: int, max_ratio: int) -> list:
    """Unpack any zip (a whole class's download) into `target` within these limits; its problems."""
    problems = []
    _unpack(archive_path, target, archive_path.name, _Budget(max_bytes), problems, max_members, max_ratio)
    return problems


def _unpack(archive_path: Path, target: Path, shown: str, budget, problems, max_members=MAX_MEMBERS,
            max_ratio=MAX_RATIO) -> None:
    """Unpack a student's zip into `target`; a broken or hostile one is reported, never raised."""
    try:
        with zipfile.ZipFile(archive_path) as archive:
            members = [m for m in archive.infolist() if not any(p in JUNK for p in PurePosixPath(m.filename).parts)]
            if len(members) > max_members:
                problems.append(("zip-bomb", f"{shown} holds {len(members)} files (the limit is {max_members})"))
                return
            if sum(m.file_size for m in members) > budget.left or any(
                    m.file_size > RATIO_FLOOR and m.file_size > max_ratio * max(m.compress_size, 1) for m in members):
                problems.append(("zip-bomb", f"{shown} unpacks to more than {budget.limit >> 20} MiB or compresses "
                                             f"more than {max_ratio}:1; it was not unpacked"))
                return
            for member in members:
                name = PurePosixPath(member.filename.replace("\\", "/"))
                if name.is_absolute() or ".." in name.parts:
                    problems.append(("corrupt-zip", f"{shown} holds an unsafe path ({member.filename}); it was not unpacked"))
                    return
            for member in members:
                name = PurePosixPath(member.filename.replace("\\", "/"))
                if member.is_dir():
                    continue
                if stat.S_ISLNK(member.external_attr >> 16):
                    problems.append(("symlink", f"{shown}: {name} is a symbolic link; it was skipped"))
                    continue
                with archive.open(member) as handle:
                    _write_new(target / name, iter(lambda: handle.read(CHUNK), b""), budget, problems, f"{shown}: {name}")
    except _Overflow:
        problems.append(("zip-bomb", f"{shown} unpacks to more than {budget.limit >> 20} MiB; it was not unpacked"))
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError, OSError) as exc:
        problems.append(("corrupt-zip", f"{shown} is not a readable zip file ({exc})"))


def _unwrap(folder: Path) -> None:
    """Move the contents of a single wrapping folder (a zipped `hw1/`) up into `folder`."""
    items = list(folder.iterdir())
    if len(items) == 1 and items[0].is_dir() and not items[0].is_symlink():
        wrapper = items[0].rename(folder / f".wrapper-{os.getpid()}")
        for item in wrapper.iterdir():
            item.rename(folder / item.name)
        wrapper.rmdir()


def _content_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _inspect(folder: Path, exercise, problems, sources) -> None:
    module = exercise.module_name
    candidates = sorted(
        p.relative_to(folder).as_posix() for suffix in (".py", ".ipynb") for p in folder.rglob(module + suffix)
        if p.is_file() and not any(part in IGNORED_PARTS for part in p.parts)
    )
    if not candidates:
        problems.append(("missing-file", f"no {module}.py or {module}.ipynb"))
        return
    found = locate(folder, module)
    if len(candidates) > 1:
        others = ", ".join(c for c in candidates if c != found.origin)
        problems.append(("two-files", f"{exercise.id}: graded {found.origin}, not {others}"))
    if "/" in found.origin:
        problems.append(("subfolder", f"{found.origin} is in a sub-folder; it was graded there"))
    if found.problem is None:
        sources[exercise.id] = (found.origin, found.source)
        return
    raw = (folder / found.origin).read_bytes()
    if found.origin.endswith(".py"):
        code = "not-utf8" if _undecodable(raw) else "too-large"
    else:
        code = "bad-notebook" if _undecodable(raw) or not _is_json(raw) or "notebook" in found.problem else "too-large"
    problems.append((code, found.problem))


def _undecodable(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _is_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True


def stage(submission: Submission, folder: Path, exercises) -> Staged:
    """Copy `submission` into the empty `folder` and inspect it for `exercises` (config.Exercise objects)."""
    problems = list(submission.problems)
    budget = _Budget()
    try:
        for entry in submission.entries:
            target = folder / entry.name if entry.name else folder
            if entry.path.is_dir() and not entry.path.is_symlink():
                _copy_tree(entry.path, target, entry.name, budget, problems)
            else:
                _copy_file(entry.path, target if entry.name else folder / entry.path.name,
                           entry.name or entry.path.name, budget, problems)
    except _Overflow:
        problems.append(("too-large", f"the submission holds more than {MAX_BYTES >> 20} MiB; the rest was skipped"))
    _unwrap(folder)
    sources: dict = {}
    fatal = {"corrupt-zip", "zip-bomb", "too-large", "empty"} & {code for code, _ in problems}
    if not any(p.is_file() for p in folder.rglob("*")) and (fatal or not problems):
        if not fatal:
            problems.append(("empty", "the submission holds no files"))
    else:
        for exercise in exercises:
            _inspect(folder, exercise, problems, sources)
    return Staged(folder, _content_hash(folder), problems, sources)


def fresh_folder(path: Path) -> Path:
    """`path` as a new empty folder (whatever was there is removed)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path
