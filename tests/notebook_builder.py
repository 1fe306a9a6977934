"""Notebooks built from a Python file for the tests: the same definitions, as a student's notebook holds them.

Each top-level definition gets its own code cell under a markdown heading; the imports sit in a cell
with IPython magics; and three cells a grader must not run follow: a leftover experiment that raises,
a top-level training loop that never ends, and a cell magic.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

LEFTOVER = 'experiment = {"answer": None}\nexperiment["ratio"] = 1 / 0  # a leftover experiment that raises\n'
TRAINING = "import time\n\nfor epoch in range(10**9):  # top-level training that never ends\n    time.sleep(1)\n"
CELL_MAGIC = "%%time\nsum(range(10))\n"


def notebook_from_source(source: str, extra_cells=(LEFTOVER, TRAINING, CELL_MAGIC)):
    """A notebook with the definitions of `source`, one per cell, plus markdown, magics and `extra_cells`."""
    tree = ast.parse(source)
    lines = source.splitlines()
    header, cells = [], [new_markdown_cell("# My exercise\n\nWork through the cells in order.")]
    for node in tree.body:
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
        text = "\n".join(lines[first - 1:node.end_lineno])
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            cells += [new_markdown_cell(f"## `{node.name}`"), new_code_cell(text)]
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):  # not the docstring
            header.append(text)
    cells.insert(1, new_code_cell("%matplotlib inline\n!pip list > /dev/null\n" + "\n".join(header)))
    cells += [new_code_cell(text) for text in extra_cells]
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                              "language": "python"}})


def write_notebook(source: str, path: Path, extra_cells=(LEFTOVER, TRAINING, CELL_MAGIC)) -> Path:
    nbformat.write(notebook_from_source(source, extra_cells), str(path))
    return path
