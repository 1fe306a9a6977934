"""Where the course lives: the folder holding course.yml."""

from __future__ import annotations

import os
from pathlib import Path

ENGINE_ROOT = Path(__file__).resolve().parent.parent


def course_root(start: Path | None = None) -> Path:
    """$COURSE_ROOT, else the nearest folder at or above `start` (the cwd) with a course.yml,
    else the folder this engine was installed from."""
    if os.environ.get("COURSE_ROOT"):
        return Path(os.environ["COURSE_ROOT"]).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "course.yml").is_file():
            return folder
    return ENGINE_ROOT
