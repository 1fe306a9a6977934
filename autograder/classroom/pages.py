"""HTML pages of class grading (feedback pages, the report): one jinja2 environment with autoescape.

Every string that came from a submission (feedback quoting an exception, printed output, file
names, names) goes through the `shown` filter as well: control characters (ANSI escapes, carriage
returns) and bidirectional overrides are written as Python escapes (`\x1b`, `\u202e`), so the page
shows exactly what was there and nothing can restyle or reorder it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _picture(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"  # ESC shows as \x1b, RLO as \u202e


def shown(value) -> str:
    """`value` as text with every invisible or control character made visible (tabs and newlines kept)."""
    return _CONTROL.sub(_picture, "" if value is None else str(value))


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
