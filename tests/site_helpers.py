"""Build the real lecture site once per test session (shared by the site tests)."""

from __future__ import annotations

import time
from pathlib import Path

from autograder.config import load_course
from autograder.site.build import build_site

ROOT = Path(__file__).resolve().parent.parent
_BUILT: dict[str, object] = {}


def real_site(tmp_path_factory) -> tuple[Path, int, float]:
    """(output folder, exit code, seconds) of building the course's site; built on first use."""
    if "site" not in _BUILT:
        output = tmp_path_factory.mktemp("site")
        started = time.perf_counter()
        code = build_site(ROOT, load_course(ROOT / "course.yml"), output)
        _BUILT["site"] = (output, code, time.perf_counter() - started)
    return _BUILT["site"]
