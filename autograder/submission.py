"""Find a student's file for an exercise in a submission (a folder or a .zip), as Python source.

Notebooks (`gmm.ipynb`) become the module of their definitions (autograder/notebooks.py):
magics are commented out, top-level experiments are not run, lines keep their cells.
Zips are unpacked into a temporary folder with sizes and paths checked (no zip bombs,
nothing written outside it).
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_SOURCE_BYTES = 2 * 1024 * 1024
IGNORED_PARTS = ("__MACOSX", ".ipynb_checkpoints", "__pycache__")


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


@contextmanager
def opened(path: Path):
    """Yield a folder holding the submission: the folder itself, or a zip unpacked safely."""
    path = Path(path)
    if path.is_dir():
        yield path
        return
    if not path.exists():
        raise SubmissionError(f"no such file or folder: {path}")
    if not zipfile.is_zipfile(path):
        raise SubmissionError(f"{path} is neither a folder nor a .zip file")
    folder = Path(tempfile.mkdtemp(prefix="course-submission-"))
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
                raise SubmissionError(f"{path} unpacks to more than {MAX_UNZIPPED_BYTES >> 20} MiB")
            for member in members:
                name = PurePosixPath(member.filename)
                if name.is_absolute() or ".." in name.parts:
                    raise SubmissionError(f"{path} holds an unsafe path: {member.filename}")
            archive.extractall(folder)
        yield folder
    except zipfile.BadZipFile as exc:
        raise SubmissionError(f"{path} is not a readable zip: {exc}") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _candidates(folder: Path, filename: str):
    found = [p for p in folder.rglob(filename) if not any(part in IGNORED_PARTS for part in p.parts)]
    return sorted(found, key=lambda p: (len(p.relative_to(folder).parts), str(p)))


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
        origin = chosen.relative_to(folder).as_posix()
        notes = []
        if suffix == ".py" and notebooks_found:
            notes.append(f"found both {origin} and {notebooks_found[0].relative_to(folder).as_posix()}: graded "
                         f"{origin}, because a .py file takes precedence over a notebook (submit only one of them)")
        if chosen.stat().st_size > MAX_SOURCE_BYTES:
            return Located(None, origin, f"{origin} is larger than {MAX_SOURCE_BYTES >> 20} MiB")
        try:
            if suffix == ".py":
                return Located(chosen.read_text(encoding="utf-8"), origin, notes=tuple(notes))
            converted = notebooks.convert(chosen)
            return Located(converted.source, origin, notebook=converted, notes=tuple(converted.notes(origin)))
        except UnicodeDecodeError:
            return Located(None, origin, f"{origin} is not UTF-8 text")
        except Exception as exc:  # a broken notebook: nbformat/jupytext raise many kinds
            return Located(None, origin, f"{origin} could not be read as a notebook: {exc}")
    return Located(None, f"{module_name}.py", f"no {module_name}.py or {module_name}.ipynb in the submission")
