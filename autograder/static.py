"""Checks made on the student's source without running it: syntax, banned imports."""

from __future__ import annotations

import ast


def syntax_problem(source: str, filename: str) -> str | None:
    """A one-line description of the first syntax error, or None."""
    try:
        ast.parse(source, filename=filename)
    except SyntaxError as exc:
        code = (exc.text or "").strip()
        shown = f": `{code}`" if code else ""
        return f"{filename} has a syntax error on line {exc.lineno}: {exc.msg}{shown}"
    except ValueError as exc:  # e.g. null bytes
        return f"{filename} could not be parsed: {exc}"
    return None


def _matches(module: str, banned: str) -> bool:
    return module == banned or module.startswith(banned + ".")


def banned_imports(source: str, banned) -> list[tuple[str, int]]:
    """(module, line) for each import of a banned module, including `from pkg import banned_sub`
    and string literals handed to `importlib.import_module` / `__import__`."""
    if not banned:
        return []
    found = []
    for node in ast.walk(ast.parse(source)):
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
