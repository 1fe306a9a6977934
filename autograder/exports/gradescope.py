"""`course export gradescope OUT.zip`: a Gradescope autograder zip that grades with the course's grader.

    setup.sh              run once as root when Gradescope builds the image (Ubuntu 22.04): Python,
                          a venv in /opt/course-venv that the unprivileged grading user can run,
                          a CPU build of torch (CUDA on request), the course's dependencies, and
                          bubblewrap where the container allows it (the fallback isolation otherwise)
    run_autograder        grades /autograder/submission into /autograder/results/results.json
    course/               the course: course.yml, the engine, genmodels, the graded exercises'
                          solutions (root-only after setup), assignment.json (this assignment)

One zip is one Gradescope assignment: the exercises named with `--exercise` (default: all), or,
with `--per-exercise`, one zip per exercise in the folder OUT.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from pathlib import Path

from packaging.requirements import Requirement

from autograder.config import Course, Exercise
from autograder.exports.gradescope_run import ASSIGNMENT
from autograder.exports.rendering import render
from autograder.exports.requirements import declared

ENGINE = ("autograder", "genmodels")
TORCH = ("torch", "torchvision")  # installed by setup.sh from the CPU (or CUDA) index
EXECUTABLE = 0o755
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


def _course_folder(root: Path, course: Course, exercises: list[Exercise], folder: Path, due_dates: str) -> None:
    for package in ENGINE:
        shutil.copytree(root / package, folder / package, ignore=IGNORED)
    for exercise in exercises:
        shutil.copytree(root / "solutions" / exercise.id, folder / "solutions" / exercise.id, ignore=IGNORED)
    shutil.copy2(root / "course.yml", folder / "course.yml")
    requirements = [r for r in declared(root) if Requirement(r).name.lower() not in TORCH]
    (folder / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")
    assignment = {"exercises": [e.id for e in exercises], "due_dates": due_dates}
    (folder / ASSIGNMENT).write_text(json.dumps(assignment, indent=1) + "\n", encoding="utf-8")


def _write_zip(staging: Path, target: Path) -> None:
    """Zip the files of `staging` at the archive's root, scripts executable."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in staging.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo.from_file(path, path.relative_to(staging).as_posix())
            if path.name in ("setup.sh", "run_autograder"):
                info.external_attr = (0o100000 | EXECUTABLE) << 16
            with open(path, "rb") as handle:
                archive.writestr(info, handle.read(), compress_type=zipfile.ZIP_DEFLATED)


def build_zip(root: Path, course: Course, exercises: list[Exercise], target: Path, due_dates: str = "course",
              cuda: bool = False) -> Path:
    """One autograder zip for the Gradescope assignment made of `exercises`."""
    with tempfile.TemporaryDirectory(prefix="gradescope-") as scratch:
        staging = Path(scratch)
        _course_folder(root, course, exercises, staging / "course", due_dates)
        values = {"course": course, "exercises": exercises, "cuda": cuda}
        (staging / "setup.sh").write_text(render("gradescope_setup.sh.j2", **values), encoding="utf-8")
        (staging / "run_autograder").write_text(render("gradescope_run_autograder.j2", **values), encoding="utf-8")
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_zip(staging, target)
    return target


def export_gradescope(root: Path, course: Course, out: Path, exercises: list[Exercise], per_exercise: bool = False,
                      due_dates: str = "course", cuda: bool = False, log=print) -> list[Path]:
    """Write the autograder zip(s); their paths."""
    if not per_exercise and out.suffix != ".zip":
        raise ValueError(f"{out}: name a .zip file (or pass --per-exercise and a folder)")
    groups = [([e], out / f"{e.id}.zip") for e in exercises] if per_exercise else [(exercises, out)]
    written = []
    for group, target in groups:
        log(f"gradescope: {target.name} ({', '.join(e.id for e in group)})")
        written.append(build_zip(root, course, group, target, due_dates, cuda))
    return written
