"""Checks made on the student's source without running it: syntax, banned imports.

Both survive any source: deeply nested code that exhausts the parser's stack or memory is
reported as a problem with the file, never raised into the grader.
"""

from __future__ import annotations

import ast

from autograder import sanitize


def _parse(source: str, filename: str):
    """(tree, None) or (None, a one-line description of why the source cannot be parsed)."""
    try:
        return ast.parse(source, filename=filename), None
    except SyntaxError as exc:
        code = sanitize.line((exc.text or "").strip(), 120)
        shown = f": `{code}`" if code else ""
        where = f" on line {exc.lineno}" if exc.lineno else ""
        return None, f"{filename} has a syntax error{where}: {sanitize.line(exc.msg, 200)}{shown}"
    except (RecursionError, MemoryError, SystemError, OverflowError):
        return None, (f"{filename} is nested too deeply for Python to compile (brackets, lambdas or expressions "
                      "inside one another hundreds of levels deep): simplify it")
    except ValueError as exc:  # e.g. null bytes
        return None, f"{filename} could not be parsed: {sanitize.line(exc, 200)}"


def syntax_problem(source: str, filename: str) -> str | None:
    """A one-line description of the first syntax error, or None."""
    return _parse(source, filename)[1]


def _matches(module: str, banned: str) -> bool:
    return module == banned or module.startswith(banned + ".")


def banned_imports(source: str, banned) -> list[tuple[str, int]]:
    """(module, line) for each import of a banned module, including `from pkg import banned_sub`
    and string literals handed to `importlib.import_module` / `__import__`."""
    tree = _parse(source, "<submission>")[0] if banned else None
    if tree is None:
        return []
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            function = node.func
            called = getattr(function, "attr", None) or getattr(function, "id", None)
            if called in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                names = [node.args[0].value]
        for name in names:
            for rule in banned:
                if _matches(name, rule):
                    found.append((rule, node.lineno))
    return sorted(set(found), key=lambda item: item[1])


def imported_modules(source: str) -> set[str]:
    """Dotted names of the modules the source imports with a plain (absolute) import statement."""
    tree = _parse(source, "<submission>")[0]
    names = set()
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names
