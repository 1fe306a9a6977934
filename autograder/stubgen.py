"""Generate student stubs from the reference solutions (the one source of both).

In a solution file, each answer is fenced::

        # BEGIN SOLUTION
        ...the answer...
        # END SOLUTION

The stub keeps everything else (module docstring, imports, signatures, the
Inputs/Returns docstrings) and replaces each fenced region by
``raise NotImplementedError`` at the region's indentation.
"""

from __future__ import annotations

import re
from pathlib import Path

BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
HEADER = "# Generated from the reference solution by `course stubs`. Fill in the parts that raise NotImplementedError.\n"


class StubError(ValueError):
    """A solution file's fences are unbalanced."""


def make_stub(source: str, name: str) -> str:
    """The stub text for a solution's source text."""
    lines = source.splitlines(keepends=True)
    out, inside, opened_at = [HEADER.format(name=name)], False, 0
    for number, line in enumerate(lines, start=1):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            if inside:
                raise StubError(f"{name}:{number}: BEGIN SOLUTION inside another (opened at line {opened_at})")
            inside, opened_at = True, number
            out.append(f"{begin.group(1)}# YOUR CODE HERE\n{begin.group(1)}raise NotImplementedError\n")
        elif end:
            if not inside:
                raise StubError(f"{name}:{number}: END SOLUTION without BEGIN SOLUTION")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise StubError(f"{name}:{opened_at}: BEGIN SOLUTION is never closed")
    return "".join(out)


def stub_pairs(root: Path):
    """(solution file, stub file) for every exercise: solutions/X/*.py -> exercises/X/*.py."""
    for solution in sorted((root / "solutions").glob("*/*.py")):
        if solution.name.startswith("_"):
            continue
        yield solution, root / "exercises" / solution.parent.name / solution.name


def generate(root: Path, check_only: bool = False) -> list[Path]:
    """Write every stub (or, with check_only, list those that differ from their solution)."""
    stale = []
    for solution, stub in stub_pairs(root):
        relative = solution.relative_to(root / "solutions").as_posix()
        text = make_stub(solution.read_text(encoding="utf-8"), relative)
        if not stub.exists() or stub.read_text(encoding="utf-8") != text:
            stale.append(stub)
            if not check_only:
                stub.parent.mkdir(parents=True, exist_ok=True)
                stub.write_text(text, encoding="utf-8")
    return stale
