"""Wrong submissions built from a reference solution: the reference with a few (old, new) text edits.

A realistic mistake differs from the reference in a line or two, so the catalogue stores only
those edits (tests/submissions/<exercise>/mistakes.py) instead of near-copies of the reference.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FENCES = ("# BEGIN SOLUTION", "# END SOLUTION")


def reference_source(exercise: str) -> str:
    """solutions/<exercise>/<exercise>.py without its `# BEGIN SOLUTION` / `# END SOLUTION` lines."""
    text = (ROOT / "solutions" / exercise / f"{exercise}.py").read_text(encoding="utf-8")
    return "".join(line for line in text.splitlines(keepends=True) if line.strip() not in FENCES)


def replace_docstring(source: str, docstring: str) -> str:
    """`source` with its module docstring (which must exist) replaced by `docstring` (a triple-quoted body)."""
    first = ast.parse(source).body[0]
    assert isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)
    lines = source.splitlines(keepends=True)
    before = "".join(lines[: first.lineno - 1])
    after = "".join(lines[first.end_lineno:])
    return f'{before}"""{docstring}"""\n{after}'


def mutated(exercise: str, edits, docstring: str | None = None) -> str:
    """reference_source(exercise) with each (old, new) edit applied in order; `old` must occur exactly once.

    `docstring`, if given, replaces the module docstring.
    """
    source = reference_source(exercise)
    for old, new in edits:
        count = source.count(old)
        assert count == 1, f"{exercise}: edit {old!r} -> {new!r}: the old text occurs {count} times, not once"
        source = source.replace(old, new)
    if docstring is not None:
        source = replace_docstring(source, docstring)
    return source


def mistake_files(folder: Path, exercise: str, mistakes: dict):
    """path(name) -> folder/<name>.py holding mutated(exercise, mistakes[name]), for helpers that take a file."""

    def path(name: str) -> Path:
        target = folder / f"{name}.py"
        if not target.exists():
            target.write_text(mutated(exercise, mistakes[name]), encoding="utf-8")
        return target

    return path


def load_mistakes(exercise: str) -> dict:
    """The MISTAKES dict of tests/submissions/<exercise>/mistakes.py: name -> list of (old, new) edits."""
    path = ROOT / "tests" / "submissions" / exercise / "mistakes.py"
    namespace: dict = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    return namespace["MISTAKES"]
