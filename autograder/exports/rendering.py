"""Jinja2 templates of the exports (README files, configuration, notebook cells): `render(name, **values)`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

FOLDER = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=None)
def _environment() -> Environment:
    # HTML is escaped; Markdown, TOML and Python templates are written as they are.
    return Environment(loader=FileSystemLoader(FOLDER), undefined=StrictUndefined, keep_trailing_newline=True,
                       autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def render(name: str, **values) -> str:
    return _environment().get_template(name).render(**values)
