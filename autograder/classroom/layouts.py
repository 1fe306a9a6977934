"""The folders instructors download, read as submissions: who submitted what, and when.

    plain       SUBMISSIONS/<student>/ or SUBMISSIONS/<student>.zip, one per student
    gradescope  "Export Submissions": submission_metadata.yml mapping each submission_<id>/ folder to
                its :submitters: (name, sid, email) and :created_at:
    canvas      "Download Submissions": flat files <name>_[LATE_]<user id>_<file id>_<file name>,
                where Canvas renamed re-uploads (gmm.py -> gmm-1.py)
    nbgrader    submitted/<student>/<assignment>/ with nbgrader's timestamp.txt

A layout only says what belongs to whom; `staging` turns a submission's entries into the folder
that is graded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

LAYOUTS = ("plain", "gradescope", "canvas", "nbgrader")
JUNK = ("__MACOSX", ".DS_Store", "Thumbs.db", ".ipynb_checkpoints")
GRADESCOPE_METADATA = "submission_metadata.yml"
NBGRADER_TIMESTAMP = "timestamp.txt"

# Canvas's ContentZipper names each file [<sortable name>_][LATE_]<user id or anon_<id>>_<attachment id>_<display name>.
CANVAS_FILE = re.compile(
    r"^(?:(?P<name>.+?)_)??(?:(?P<late>late)_)?(?P<user>\d+|anon_[A-Za-z0-9]+)_(?P<attachment>\d+)_(?P<filename>.+)$",
    re.IGNORECASE,
)
CANVAS_RENAME = re.compile(r"^(?P<stem>.+)-(?P<copy>\d+)(?P<suffix>\.[A-Za-z0-9]+)$")


class LayoutError(Exception):
    """The SUBMISSIONS folder is not one of the layouts, or is ambiguous."""


@dataclass(frozen=True)
class Student:
    id: str
    name: str = ""
    email: str = ""


@dataclass(frozen=True)
class Entry:
    """One item of a submission: a folder (copied), a file, or a .zip (unpacked), placed at `name`."""

    name: str  # posix path inside the submission; "" for the submission's root
    path: Path


@dataclass(frozen=True)
class Submission:
    key: str  # unique in the class, safe as a folder name
    students: tuple[Student, ...]
    entries: tuple[Entry, ...]
    layout: str
    origin: str  # where it came from, relative to SUBMISSIONS
    submitted_at: dt.datetime | None = None
    marked_late: bool = False  # the layout says "late" but gives no time (Canvas)
    problems: tuple[tuple[str, str], ...] = field(default=())  # (status code, message) found while reading the layout


def safe_key(text: str) -> str:
    """A folder name made from `text`: letters, digits, `.`, `_`, `-`; a short hash when anything was changed."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")[:60]
    if cleaned == text and cleaned:
        return cleaned
    return f"{cleaned or 'student'}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def _visible(folder: Path):
    return sorted(p for p in folder.iterdir() if p.name not in JUNK and not p.name.startswith("."))


def _gradescope_root(root: Path) -> Path | None:
    if (root / GRADESCOPE_METADATA).is_file():
        return root
    inner = [p for p in _visible(root) if p.is_dir() and (p / GRADESCOPE_METADATA).is_file()]
    return inner[0] if len(inner) == 1 else None


def _nbgrader_root(root: Path) -> Path | None:
    base = root if root.name == "submitted" else root / "submitted"
    if not base.is_dir() or base.is_symlink():
        return None
    students = [p for p in _visible(base) if p.is_dir()]
    if students and all(any(a.is_dir() for a in _visible(s)) for s in students):
        return base
    return None


def _canvas_files(root: Path):
    files = [p for p in _visible(root) if not p.is_dir()]
    return [p for p in files if CANVAS_FILE.match(p.name)], files


def detect(root: Path) -> str:
    """The layout of `root`; LayoutError when it is none of them or looks like more than one."""
    matched, files = _canvas_files(root)
    specific = [name for name, found in (
        ("gradescope", _gradescope_root(root) is not None),
        ("nbgrader", _nbgrader_root(root) is not None),
        ("canvas", bool(matched) and len(matched) >= len(files) / 2),
    ) if found]
    if len(specific) > 1:
        raise LayoutError(f"{root} looks like more than one layout ({', '.join(specific)}); name one with --layout")
    if specific:
        return specific[0]
    if any(p.is_dir() or p.suffix.lower() == ".zip" for p in _visible(root)):
        return "plain"
    raise LayoutError(f"{root} holds no submissions: expected one folder or .zip per student, a Gradescope export "
                      f"({GRADESCOPE_METADATA}), a Canvas download or nbgrader's submitted/ folder")


def read(root: Path, layout: str, expected_files, timezone: str = "UTC") -> list[Submission]:
    """The submissions in `root`, read as `layout`, sorted by key.

    `expected_files`: the names students submit (gmm.py, gmm.ipynb, ...), for undoing Canvas renames.
    `timezone`: for times written without a UTC offset (nbgrader with an unknown zone name).
    """
    if layout not in LAYOUTS:
        raise LayoutError(f"unknown layout {layout!r} (expected one of {', '.join(LAYOUTS)})")
    if layout == "canvas":
        submissions = _read_canvas(root, set(expected_files))
    elif layout == "nbgrader":
        submissions = _read_nbgrader(root, timezone)
    elif layout == "gradescope":
        submissions = _read_gradescope(root)
    else:
        submissions = _read_plain(root)
    keys = [s.key for s in submissions]
    if len(set(keys)) != len(keys):
        raise LayoutError(f"{root}: two submissions map to the same name: {sorted({k for k in keys if keys.count(k) > 1})}")
    return sorted(submissions, key=lambda s: s.key)


def _read_plain(root: Path) -> list[Submission]:
    submissions = []
    for item in _visible(root):
        if item.is_symlink():
            student = item.name.removesuffix(".zip")
            submissions.append(Submission(safe_key(student), (Student(student),), (), "plain", item.name,
                                          problems=(("symlink", f"{item.name} is a symbolic link; it was not followed"),)))
        elif item.is_dir() or item.suffix.lower() == ".zip":
            student = item.name[: -len(item.suffix)] if item.suffix.lower() == ".zip" else item.name
            submissions.append(Submission(safe_key(student), (Student(student),), (Entry("", item),), "plain", item.name))
    return submissions


def _aware(value, timezone: str) -> dt.datetime | None:
    """A datetime with a UTC offset from YAML/text; a time without one is read in `timezone`."""
    from zoneinfo import ZoneInfo

    if value is None or value == "":
        return None
    if not isinstance(value, dt.datetime):
        import warnings

        from dateutil import parser

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an unknown zone name (e.g. "PST") parses as naive
            value = parser.parse(str(value))
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(timezone))


def _plain_keys(mapping):
    """Gradescope writes Ruby symbols as keys (":name"); read them as plain names."""
    if isinstance(mapping, dict):
        return {str(k).lstrip(":"): _plain_keys(v) for k, v in mapping.items()}
    if isinstance(mapping, list):
        return [_plain_keys(v) for v in mapping]
    return mapping


def _read_gradescope(root: Path) -> list[Submission]:
    base = _gradescope_root(root)
    if base is None:
        raise LayoutError(f"{root}: no {GRADESCOPE_METADATA} (expected Gradescope's \"Export Submissions\" folder)")
    try:
        metadata = _plain_keys(yaml.safe_load((base / GRADESCOPE_METADATA).read_text(encoding="utf-8")) or {})
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise LayoutError(f"{base / GRADESCOPE_METADATA}: not readable YAML: {exc}") from None
    if not isinstance(metadata, dict):
        raise LayoutError(f"{base / GRADESCOPE_METADATA}: expected a mapping of submission folders")
    submissions = []
    for folder_name, info in metadata.items():
        info = info if isinstance(info, dict) else {}
        students = tuple(
            Student(str(s.get("sid") or s.get("email") or s.get("name") or folder_name), str(s.get("name") or ""),
                    str(s.get("email") or ""))
            for s in info.get("submitters") or [] if isinstance(s, dict)
        ) or (Student(folder_name),)
        folder = base / folder_name
        entries = (Entry("", folder),) if folder.is_dir() and not folder.is_symlink() else ()
        problems = () if entries else (("empty", f"the export has no folder {folder_name}/ for this submission"),)
        submissions.append(Submission(safe_key(folder_name), students, entries, "gradescope",
                                      str(folder.relative_to(root)), _aware(info.get("created_at"), "UTC"),
                                      problems=problems))
    return submissions


def _read_canvas(root: Path, expected: set) -> list[Submission]:
    by_user: dict[str, dict] = {}
    for path in _canvas_files(root)[0]:
        match = CANVAS_FILE.match(path.name)
        user = match["user"]
        record = by_user.setdefault(user, {"name": match["name"] or "", "late": False, "files": {}, "notes": []})
        record["late"] |= bool(match["late"])
        filename, copy = match["filename"], 0
        renamed = CANVAS_RENAME.match(filename)
        if renamed and renamed["stem"] + renamed["suffix"] in expected:
            filename, copy = renamed["stem"] + renamed["suffix"], int(renamed["copy"])
        record["files"].setdefault(filename, []).append((copy, int(match["attachment"]), path))
    submissions = []
    for user, record in by_user.items():
        entries, problems = [], []
        for filename, versions in sorted(record["files"].items()):
            versions.sort()
            entries.append(Entry(filename, versions[-1][2]))
            if len(versions) > 1:
                dropped = ", ".join(p.name for _, _, p in versions[:-1])
                problems.append(("two-files", f"{len(versions)} uploads named like {filename}: graded "
                                              f"{versions[-1][2].name}, not {dropped}"))
        student = Student(user, record["name"])
        submissions.append(Submission(safe_key(f"{record['name']}_{user}" if record["name"] else user), (student,),
                                      tuple(entries), "canvas", ", ".join(e.path.name for e in entries),
                                      marked_late=record["late"], problems=tuple(problems)))
    return submissions


def _read_nbgrader(root: Path, timezone: str) -> list[Submission]:
    base = _nbgrader_root(root)
    if base is None:
        raise LayoutError(f"{root}: expected nbgrader's submitted/<student>/<assignment>/ folders")
    submissions = []
    for student_dir in (p for p in _visible(base) if p.is_dir()):
        assignments = [a for a in _visible(student_dir) if a.is_dir() and not a.is_symlink()]
        times = []
        for assignment in assignments:
            stamp = assignment / NBGRADER_TIMESTAMP
            if stamp.is_file() and not stamp.is_symlink():
                try:
                    times.append(_aware(stamp.read_text(encoding="utf-8").strip(), timezone))
                except (ValueError, OverflowError, UnicodeDecodeError):
                    pass
        submissions.append(Submission(
            safe_key(student_dir.name), (Student(student_dir.name),),
            tuple(Entry("", a) for a in assignments), "nbgrader", str(student_dir.relative_to(root)),
            max(times) if times else None,
            problems=() if assignments else (("empty", f"{student_dir.name}/ has no assignment folder"),),
        ))
    return submissions
