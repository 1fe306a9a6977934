"""A submitted notebook as the module the grader imports: definitions only, every line traced to its cell.

A notebook is a record of work, not a module: besides the graded functions it holds markdown,
IPython magics, leftover experiments that raise, and top-level training loops. The grader keeps
what the graded code needs and nothing else:

- every top-level `def` and `class`, from whichever cell defines it (a later definition wins, as
  when the cells run in order), and aliases (`elbo = my_elbo`, `f = lambda ...`);
- the imports and top-level assignments those definitions use (transitively), and star imports;
- nothing else: calls, loops, prints, plots, top-level training code and the cells that would
  raise are not run. Each skipped cell is named in the results.

Magics and shell escapes are commented out with jupytext; a cell that is not valid Python is
skipped and named. Every line of the module remembers its cell and line, so feedback can say
"cell 7, line 3" (cells are counted from 1, markdown cells included, as they appear on screen).
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
YOUR_LINE = re.compile(r"line (\d+) of your file")  # how the engine's feedback locates a line (executor.describe_error)


@dataclass
class Converted:
    """The module source, where each of its lines came from, and what was left out."""

    source: str
    origins: list = field(default_factory=list)  # origins[i] = (cell, line in cell) of source line i + 1
    skipped: dict = field(default_factory=dict)  # cell -> what in it was not run (a list of descriptions)

    def where(self, line: int) -> str:
        """'cell 7, line 3' for a line of `source` (1-based)."""
        if 1 <= line <= len(self.origins):
            cell, in_cell = self.origins[line - 1]
            return f"cell {cell}, line {in_cell}"
        return f"line {line}"

    def relabel(self, text: str) -> str:
        """Feedback with 'line N of your file' turned into 'cell C, line L of your notebook'."""
        return YOUR_LINE.sub(lambda m: f"{self.where(int(m.group(1)))} of your notebook", text)

    def notes(self, name: str) -> list[str]:
        """What the results say about the conversion of notebook `name`."""
        if not self.skipped:
            return []
        listed = "; ".join(f"cell {cell} ({', '.join(what)})" for cell, what in sorted(self.skipped.items()))
        return [f"{name}: graded its definitions (functions, classes, and the imports and constants they use); "
                f"the grader does not run top-level code, so it skipped: {listed}"]


def _bound_names(node) -> set:
    """Names a top-level statement binds."""
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in sub.names)
        elif isinstance(sub, DEFINITIONS):
            names.add(sub.name)
        elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
    return names


def _used_names(node) -> set:
    return {sub.id for sub in ast.walk(node) if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load)}


def _star_import(node) -> bool:
    return isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names)


def _candidate(node) -> bool:
    """Statements that may be kept: definitions, imports, assignments, and try blocks around imports."""
    if isinstance(node, (*DEFINITIONS, ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign)):
        return True
    if isinstance(node, ast.Try):
        return all(isinstance(s, (ast.Import, ast.ImportFrom, ast.Assign, ast.Pass, ast.Expr))
                   for s in node.body + [s for h in node.handlers for s in h.body])
    return False


def _alias(node) -> bool:
    """`elbo = my_elbo`, `reparameterize = lambda mu, logvar: ...`: a contract name may be bound this way."""
    return isinstance(node, ast.Assign) and isinstance(node.value, (ast.Name, ast.Attribute, ast.Lambda))


def _describe(node) -> str:
    kind = {ast.For: "a loop", ast.While: "a loop", ast.Expr: "a call or expression", ast.If: "an if block",
            ast.With: "a with block", ast.Assert: "an assert"}.get(type(node), "top-level code")
    return kind


def import_nbformat():
    """`import nbformat`, about 1.5 CPU-s sooner in a fresh process (once per grading worker).

    nbformat's validator imports jsonschema, which compiles a Lark grammar at import for its "iri" formats
    when the optional rfc3987-syntax package is installed (jupyter-events, a dependency of the notebook
    tools, installs it). No notebook schema uses those formats, so that package is hidden while jsonschema
    loads: jsonschema then skips the two formats as it does when the package is absent, and a later
    `import rfc3987_syntax` still gets the real package.
    """
    if "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # makes `import rfc3987_syntax` raise ImportError
        try:
            import jsonschema  # noqa: F401
        finally:
            del sys.modules["rfc3987_syntax"]
    import nbformat

    return nbformat


def convert(notebook: Path | str) -> Converted:
    """The graded module of a notebook: a path, or the notebook's JSON text already read safely
    (raises what nbformat raises on a broken file)."""
    nbformat = import_nbformat()
    from jupytext.magics import comment_magic

    text = notebook if isinstance(notebook, str) else Path(notebook).read_text(encoding="utf-8")
    notebook = nbformat.reads(text, as_version=4)
    statements, skipped = [], {}  # statements: (cell number, node, cell lines)
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        lines = comment_magic(cell.source.splitlines(), "python")
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError as error:
            skipped[number] = [f"the whole cell: it is not valid Python (line {error.lineno}: {error.msg})"]
            continue
        for node in tree.body:
            if _candidate(node):
                statements.append((number, node, lines))
            else:
                skipped.setdefault(number, []).append(f"{_describe(node)} at line {node.lineno}")

    # Keep every definition; keep imports and assignments only where the kept code uses their names.
    kept = {i for i, (_, node, _) in enumerate(statements)
            if isinstance(node, DEFINITIONS) or _star_import(node) or _alias(node)}
    needed = set().union(*(_used_names(statements[i][1]) for i in kept)) if kept else set()
    changed = True
    while changed:
        changed = False
        for i, (_, node, _) in enumerate(statements):
            if i not in kept and _bound_names(node) & needed:
                kept.add(i)
                needed |= _used_names(node)
                changed = True
    for i, (number, node, _) in enumerate(statements):
        if i not in kept and isinstance(node, (ast.Assign, ast.AnnAssign)):
            skipped.setdefault(number, []).append(f"an assignment your definitions do not use at line {node.lineno}")

    converted = Converted(source="")
    out = []
    for i, (number, node, lines) in enumerate(statements):
        if i not in kept:
            continue
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
        for line in range(first, node.end_lineno + 1):
            out.append(lines[line - 1])
            converted.origins.append((number, line))
    converted.source = "\n".join(out) + "\n"
    converted.skipped = {cell: sorted(what, key=lambda w: int(re.findall(r"line (\d+)", w)[0]))
                         for cell, what in skipped.items()}
    return converted
