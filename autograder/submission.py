"""Find a student's file for an exercise in a submission (a folder or a .zip), as Python source.

Notebooks (`gmm.ipynb`) become the module of their definitions (autograder/notebooks.py):
magics are commented out, top-level experiments are not run, lines keep their cells.
A submission is hostile input: folders are walked without following links, files are
opened only when they are regular files of a bounded size (never through a link, a FIFO
or a device), and from a zip only the few `.py` / `.ipynb` members a grader could want
are unpacked, with caps on the number of members and on every size (no zip bombs,
nothing written outside it).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from autograder import sanitize
from autograder.safe_io import read_regular_file

MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_SOURCE_BYTES = 2 * 1024 * 1024  # a .py file
MAX_NOTEBOOK_BYTES = 16 * 1024 * 1024  # notebooks carry their outputs (plots) along
MAX_ZIP_MEMBERS = 2000
MAX_WALK_ENTRIES = 20_000  # files and folders looked at in one submission folder
MAX_DEPTH = 8
IGNORED_PARTS = ("__MACOSX", ".ipynb_checkpoints", "__pycache__")
WANTED_SUFFIXES = (".py", ".ipynb")
_SAFE_PART = re.compile(r"^[\w .+@()\[\]-]{1,128}$")  # what a zip member's path parts may look like


class SubmissionError(Exception):
    """The submission itself could not be opened (bad path, broken zip)."""


@dataclass(frozen=True)
class Located:
    """The student's source for one exercise, or why there is none."""

    source: str | None
    origin: str  # the file it came from, relative to the submission, or what was looked for
    problem: str | None = None
    notebook: object = None  # notebooks.Converted when the source came from a notebook
    notes: tuple = ()  # what the results should say about the choice of file and its conversion

    def where(self, line: int) -> str:
        """'line 12' in a .py file, 'cell 3, line 2' in a notebook."""
        return self.notebook.where(line) if self.notebook else f"line {line}"

    def relabel(self, feedback: str) -> str:
        """Feedback that locates a line of the graded source, in the student's own terms."""
        return self.notebook.relabel(feedback) if self.notebook else feedback


def _extract_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, limit: int) -> None:
    """Write one member to `target`, reading at most `limit` bytes whatever its header claims."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with archive.open(member) as source, open(target, "xb") as sink:
        data = source.read(limit + 1)
        if len(data) > limit:
            raise SubmissionError(f"{sanitize.line(member.filename)} unpacks to more than {limit >> 20} MiB")
        sink.write(data)


def _unpack(path: Path, folder: Path) -> None:
    """Unpack the `.py` / `.ipynb` members of the zip at `path` into `folder`, within the caps."""
    shown = sanitize.line(path)
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise SubmissionError(f"{shown} holds {len(members):,} files; a submission may hold at most {MAX_ZIP_MEMBERS:,}")
        if sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
            raise SubmissionError(f"{shown} unpacks to more than {MAX_UNZIPPED_BYTES >> 20} MiB")
        for member in members:
            name = PurePosixPath(member.filename)
            if name.is_absolute() or ".." in name.parts:
                raise SubmissionError(f"{shown} holds an unsafe path: {sanitize.line(member.filename)}")
        for member in members:
            name = PurePosixPath(member.filename)
            mode = member.external_attr >> 16
            wanted = (
                not member.is_dir() and name.suffix in WANTED_SUFFIXES and len(name.parts) <= MAX_DEPTH
                and stat.S_IFMT(mode) in (0, stat.S_IFREG)  # no links or special files from a Unix zip
                and all(_SAFE_PART.match(part) for part in name.parts)
                and not any(part in IGNORED_PARTS for part in name.parts)
            )
            if not wanted:
                continue
            limit = MAX_NOTEBOOK_BYTES if name.suffix == ".ipynb" else MAX_SOURCE_BYTES
            target = folder.joinpath(*name.parts)
            if not target.exists():  # a duplicated name: the first one wins
                _extract_member(archive, member, target, limit)


@contextmanager
def opened(path: Path):
    """Yield a folder holding the submission: the folder itself, or a zip unpacked safely."""
    path = Path(path)
    if path.is_dir():
        yield path
        return
    if not path.exists():
        raise SubmissionError(f"no such file or folder: {sanitize.line(path)}")
    if not path.is_file() or not zipfile.is_zipfile(path):
        raise SubmissionError(f"{sanitize.line(path)} is neither a folder nor a .zip file")
    folder = Path(tempfile.mkdtemp(prefix="course-submission-"))
    try:
        try:
            _unpack(path, folder)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError) as exc:
            raise SubmissionError(f"{sanitize.line(path)} is not a readable zip: {sanitize.line(exc)}") from None
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _walk(folder: Path):
    """Relative paths (PurePosixPath) of the regular-looking files under `folder`, links never followed."""
    seen = 0
    stack = [(folder, PurePosixPath())]
    while stack:
        directory, relative = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > MAX_WALK_ENTRIES:
                return
            if entry.name in IGNORED_PARTS:
                continue
            if entry.is_dir(follow_symlinks=False):
                if len(relative.parts) < MAX_DEPTH:
                    stack.append((Path(entry.path), relative / entry.name))
            else:  # files, and links or special files that reading will refuse with a clear message
                yield relative / entry.name


def _candidates(folder: Path, filename: str):
    found = [p for p in _walk(folder) if p.name == filename]
    return sorted(found, key=lambda p: (len(p.parts), str(p)))


def locate(folder: Path, module_name: str) -> Located:
    """`module_name`.py, else `module_name`.ipynb, nearest the top of the submission.

    A notebook becomes its definitions (autograder.notebooks): top-level experiments are not run.
    """
    from autograder import notebooks

    notebooks_found = _candidates(folder, module_name + ".ipynb")
    for suffix in (".py", ".ipynb"):
        found = _candidates(folder, module_name + suffix)
        if not found:
            continue
        chosen = found[0]
        origin = sanitize.line(chosen.as_posix())
        notes = []
        if suffix == ".py" and notebooks_found:
            notes.append(f"found both {origin} and {sanitize.line(notebooks_found[0].as_posix())}: graded "
                         f"{origin}, because a .py file takes precedence over a notebook (submit only one of them)")
        limit = MAX_SOURCE_BYTES if suffix == ".py" else MAX_NOTEBOOK_BYTES
        try:
            text = read_regular_file(folder, chosen, limit).decode("utf-8")
        except UnicodeDecodeError:
            return Located(None, origin, f"{origin} could not be graded: it is not UTF-8 text")
        except (OSError, ValueError) as exc:  # a link, a FIFO, a device, too large
            return Located(None, origin, f"{origin} could not be graded: {sanitize.line(exc)} "
                                         "(submit the file itself, not a link to it)")
        if suffix == ".py":
            return Located(text, origin, notes=tuple(notes))
        try:
            converted = notebooks.convert(text)
            return Located(converted.source, origin, notebook=converted, notes=tuple(converted.notes(origin)))
        except Exception as exc:  # a broken notebook: nbformat/jupytext raise many kinds
            return Located(None, origin, f"{origin} could not be read as a notebook: {sanitize.line(exc)}")
    return Located(None, f"{module_name}.py", f"no {module_name}.py or {module_name}.ipynb in the submission")
