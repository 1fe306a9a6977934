"""The output folder of grade-all: per-student files written atomically, and their records read back.

    OUT/students/<key>/results.json            Gradescope-format results, as `course grade` writes them
    OUT/students/<key>/feedback.html           the page the student reads
    OUT/students/<key>/sources/<exercise>.py   the graded source (notebooks as scripts), for similarity
    OUT/students/<key>/record.json             what the gradebook needs; written last, so its presence
                                               means the student is done (a killed run leaves none)
    OUT/gradebook.csv, OUT/canvas_import.csv, OUT/report.html, OUT/report/*.png

Every file is written to a temporary name in its folder and renamed into place, so a reader sees
the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

STUDENTS = "students"
RECORD = "record.json"
RECORD_SCHEMA = 1
TEMP_PREFIX = ".partial-"
_UMASK = os.umask(0o022)  # read once, restored at once: files get the usual permissions, not mkstemp's 0600
os.umask(_UMASK)


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write `data` to `path` through a fresh temporary file (O_EXCL, never a planted link) and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX + path.name + ".")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_json(path: Path, value) -> None:
    atomic_write(path, json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def student_dir(out: Path, key: str) -> Path:
    return Path(out) / STUDENTS / key


def clear_partials(folder: Path) -> None:
    """Remove temporary files a killed run left behind in `folder`."""
    if folder.is_dir():
        for leftover in folder.rglob(TEMP_PREFIX + "*"):
            leftover.unlink(missing_ok=True)


def read_record(folder: Path) -> dict | None:
    """The record in a student's folder, or None when there is none (not graded yet) or it is unusable."""
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("schema") == RECORD_SCHEMA else None


def read_records(outs) -> list[dict]:
    """Every student's record in the output folders `outs`, sorted by key.

    A student found in more than one folder keeps the most recently graded record. Each record
    gets `folder`, the path of its student folder.
    """
    found: dict[str, dict] = {}
    for out in outs:
        base = Path(out) / STUDENTS
        if not base.is_dir():
            continue
        for folder in sorted(p for p in base.iterdir() if p.is_dir()):
            record = read_record(folder)
            if record is None:
                continue
            record["folder"] = str(folder)
            previous = found.get(record["key"])
            if previous is None or record.get("graded_at", "") > previous.get("graded_at", ""):
                found[record["key"]] = record
    return [found[key] for key in sorted(found)]
