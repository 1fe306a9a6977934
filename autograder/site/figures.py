"""Run a lecture's figures.py: every top-level `fig_<name>()` returns a matplotlib Figure, saved as
`figures/<name>.png` next to the lecture's pages, and every `table_<name>()` returns a Markdown
table, placed where a source has a line `{{ table:<name> }}`. Nothing here is committed to git."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable

FIGURE_PREFIX = "fig_"
TABLE_PREFIX = "table_"
DPI = 110


def load_module(path: Path, name: str) -> ModuleType:
    """Import a file by path (lecture folders are not packages)."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def lecture_module(path: Path, lecture_id: str) -> ModuleType | None:
    """The lecture's figures.py imported, or None when it has none."""
    return load_module(path, f"lecture_figures_{lecture_id}") if path.exists() else None


def functions(module: ModuleType | None, prefix: str) -> dict[str, Callable]:
    """{'em_iterations': fig_em_iterations, ...}: the module's `<prefix><name>` functions in file order."""
    if module is None:
        return {}
    found = [(obj.__code__.co_firstlineno, name, obj) for name, obj in vars(module).items()
             if name.startswith(prefix) and inspect.isfunction(obj) and obj.__module__ == module.__name__]
    return {name[len(prefix):]: obj for _, name, obj in sorted(found)}


def figure_functions(path: Path, lecture_id: str) -> dict[str, Callable]:
    """The `fig_*` functions of the figures.py at `path` (none when it does not exist)."""
    return functions(lecture_module(path, lecture_id), FIGURE_PREFIX)


def save(figure, target: Path) -> None:
    import matplotlib.pyplot as plt

    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)
