"""Build the real lecture site once per test session (shared by the site tests)."""

from __future__ import annotations

import time
from pathlib import Path

from autograder.config import load_course
from autograder.site.build import build_site

ROOT = Path(__file__).resolve().parent.parent
_BUILT: dict[str, object] = {}


def real_site(tmp_path_factory, solutions: bool = False) -> tuple[Path, int, float]:
    """(output folder, exit code, seconds) of building the course's site; built on first use.

    solutions=False is the student edition (what the release ships); solutions=True the instructor
    edition, a superset with each lecture's worked solutions.
    """
    edition = "instructor" if solutions else "student"
    if edition not in _BUILT:
        output = tmp_path_factory.mktemp(f"site-{edition}")
        started = time.perf_counter()
        code = build_site(ROOT, load_course(ROOT / "course.yml"), output, solutions=solutions)
        _BUILT[edition] = (output, code, time.perf_counter() - started)
    return _BUILT[edition]


def lecture_ids() -> list[str]:
    """The lectures of course.yml, in order."""
    return [lecture.id for lecture in load_course(ROOT / "course.yml").lectures]
