"""What must never reach students, and the scan of a folder (the student bundle) for it.

Secrets are every answer region of every file under `solutions/` (the exercises' fenced
regions, and whatever else lives there, such as worked solutions of the lectures' problems)
and every hidden check (each top-level definition under `autograder/checks/`). They are
compared by normalised fingerprint (`fingerprint.py`), so a renamed or reformatted copy is
still found. Paths that only hidden material uses (`solutions/`, `autograder/checks/`, stored
reference outputs) must not exist in the bundle at all.

    leaks = scan(bundle, secrets(course_root))
    if leaks: raise LeakError(leaks)
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

from autograder.exports.fingerprint import Piece, Text

REFERENCE_FOLDER = "course_reference"  # where exports keep reference outputs (autograder side only)
FORBIDDEN_PARTS = ("solutions", REFERENCE_FOLDER)
FORBIDDEN_PATHS = ("autograder/checks",)
# A hidden check shorter than this (e.g. `return _judge(ev, "name")`) looks like too much innocent
# code to be told apart; its file as a whole is still looked for.
MIN_CHECK_TOKENS = 30
_MARKDOWN_CODE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


class LeakError(Exception):
    """Hidden material was found in a folder meant for students."""

    def __init__(self, leaks: list["Leak"]):
        self.leaks = leaks
        lines = [f"  {leak}" for leak in leaks]
        super().__init__(f"LEAK CHECK FAILED: {len(leaks)} piece(s) of hidden material in the student bundle\n"
                         + "\n".join(lines))


@dataclass(frozen=True)
class Leak:
    secret: str  # what leaked
    where: str  # the bundle file it was found in
    share: float | None  # how much of it was found there (None: a forbidden path)

    def __str__(self):
        found = "must not exist" if self.share is None else f"{self.share:.0%} of it found"
        return f"{self.secret} -> {self.where} ({found})"


def fenced_regions(source: str):
    """(first line, last line, text) of each region between a line that says BEGIN SOLUTION and one
    that says END SOLUTION (`# BEGIN SOLUTION` in code, `<!-- BEGIN SOLUTION -->` in markdown)."""
    lines = source.splitlines()
    regions, start = [], None
    for number, line in enumerate(lines, start=1):
        if "BEGIN SOLUTION" in line and start is None:
            start = number
        elif "END SOLUTION" in line and start is not None:
            regions.append((start + 1, number - 1, "\n".join(lines[start:number - 1])))
            start = None
    return regions


def _solution_pieces(path: Path, label: str) -> list[Piece]:
    text = path.read_text(encoding="utf-8", errors="replace")
    regions = fenced_regions(text)
    if path.suffix == ".ipynb":
        notebook = Text.of_notebook(json.loads(text))
        return ([Piece.of_code(f"{label} code cell {i + 1}", s) for i, s in enumerate(notebook.python)]
                + [Piece.of_prose(f"{label} text cell {i + 1}", s) for i, s in enumerate(notebook.other)])
    if path.suffix == ".py":
        if not regions:
            return [Piece.of_code(f"{label} (whole file)", text)]
        return [Piece.of_code(f"{label} answer region, lines {a}-{b}", body) for a, b, body in regions]
    parts = [(f"{label} lines {a}-{b}", body) for a, b, body in regions] or [(f"{label} (whole file)", text)]
    pieces = []
    for where, body in parts:
        pieces.append(Piece.of_prose(where, body))
        pieces += [Piece.of_code(f"{where}, code block", code) for code in _MARKDOWN_CODE.findall(body)]
    return pieces


def _check_pieces(path: Path, label: str) -> list[Piece]:
    source = path.read_text(encoding="utf-8")
    pieces = [Piece.of_code(f"{label} (whole file)", source)]
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            pieces.append(Piece.of_code(f"{label}: {node.name}", ast.get_source_segment(source, node)))
    return [piece for piece in pieces if len(piece.tokens) >= MIN_CHECK_TOKENS]


def secrets(root: Path) -> list[Piece]:
    """Every recognisable answer region and hidden check of the course at `root`."""
    pieces = []
    for path in sorted((root / "solutions").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and Text.of_file(path) is not None:
            pieces += _solution_pieces(path, path.relative_to(root).as_posix())
    for path in sorted((root / "autograder" / "checks").rglob("*.py")):
        if path.name != "__init__.py":
            pieces += _check_pieces(path, f"hidden check {path.relative_to(root).as_posix()}")
    return [piece for piece in pieces if piece.recognisable]


def forbidden_paths(folder: Path) -> list[str]:
    """Paths in `folder` that only hidden material has."""
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if any(part in FORBIDDEN_PARTS for part in path.relative_to(folder).parts) or \
                any(relative == p or relative.startswith(p + "/") for p in FORBIDDEN_PATHS):
            found.append(relative)
    return found


def scan(folder: Path, pieces: list[Piece]) -> list[Leak]:
    """Every secret piece that appears in a file of `folder`, and every forbidden path there."""
    leaks = [Leak("a path only hidden material has", relative, None) for relative in forbidden_paths(folder)]
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        text = Text.of_file(path)
        if text is None:
            continue
        relative = path.relative_to(folder).as_posix()
        for piece in pieces:
            if piece.appears_in(text):
                leaks.append(Leak(piece.label, relative, piece.share_in(text)))
    return leaks


def check(folder: Path, root: Path) -> int:
    """Raise LeakError when any secret of the course at `root` is in `folder`; else the number checked."""
    pieces = secrets(root)
    leaks = scan(folder, pieces)
    if leaks:
        raise LeakError(leaks)
    return len(pieces)
