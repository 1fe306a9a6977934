"""HTML pages of class grading (feedback pages, the report): one jinja2 environment with autoescape.

Every string that came from a submission (feedback quoting an exception, printed output, file
names, names) goes through the `shown` filter as well (`autograder.sanitize`): terminal escapes are
removed and other control characters and bidirectional overrides are written as `\x0d`, `\u202e`,
so nothing can restyle or reorder the page.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from autograder import sanitize

TEMPLATES = Path(__file__).resolve().parent / "templates"


def shown(value) -> str:
    """`value` as text: newlines and tabs kept, terminal escapes removed, every other invisible character
    written as `\\xNN` / `\\uNNNN` (autoescape then handles HTML). Not shortened: the engine bounds feedback."""
    value = "" if value is None else str(value)
    return sanitize.text(value, limit=max(len(value), 1))


def points(value) -> str:
    """A score as written in results: up to four decimals, no trailing zeros."""
    return f"{float(value):.4f}".rstrip("0").rstrip(".")


@lru_cache(maxsize=None)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"], default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["shown"] = shown
    env.filters["points"] = points
    return env


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)
