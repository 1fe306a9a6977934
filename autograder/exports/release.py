"""`course release OUT`: the student bundle, and the leak check that ends every release.

The bundle holds what students work from and nothing hidden:

    README.md, pyproject.toml   one command sets up a venv with `course check`
    course.yml                  the course as data (exercise ids, points, due dates)
    exercises/                  stubs, instructions, public checks, notebooks (.py and .ipynb)
    genmodels/                  the helper package (data, models, training loops)
    autograder/                 only what `course check` needs (`student_cli.MODULES`)
    site/                       the built lecture site

It is written to a temporary folder beside OUT, leak-checked (`leakcheck.check`), and only
then moved to OUT (or zipped, when OUT ends in .zip). A bundle that fails the check is kept as
OUT.leaked for inspection and the release fails.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from autograder.config import Course
from autograder.exports import leakcheck
from autograder.exports.rendering import render
from autograder.exports.requirements import for_students
from autograder.exports.student_cli import MODULES

IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", ".pytest_cache")
JUPYTEXT_HEADER = "# ---\n# jupyter:"


class ReleaseError(Exception):
    """The release could not be built (bad output path, missing sources)."""


@dataclass
class Release:
    path: Path  # the bundle folder, or the .zip
    files: int
    secrets_checked: int


def _copy_exercises(root: Path, course: Course, bundle: Path) -> None:
    target = bundle / "exercises"
    target.mkdir(parents=True)
    shutil.copy2(root / "exercises" / "conftest.py", target / "conftest.py")
    for exercise in course.exercises:
        source = root / "exercises" / exercise.id
        if not (source / exercise.student_file).is_file():
            raise ReleaseError(f"exercise {exercise.id!r} has no stub {source / exercise.student_file} "
                               "(run `course stubs`)")
        shutil.copytree(source, target / exercise.id, ignore=IGNORED)
    for script in sorted(target.glob("*/*.py")):
        if script.read_text(encoding="utf-8").startswith(JUPYTEXT_HEADER):
            _write_notebook(script)


def _write_notebook(script: Path) -> None:
    """Beside a jupytext notebook script, the same notebook as .ipynb (outputs empty)."""
    import jupytext

    jupytext.write(jupytext.read(script), script.with_suffix(".ipynb"))


def _write_package(root: Path, course: Course, bundle: Path) -> None:
    shutil.copytree(root / "genmodels", bundle / "genmodels", ignore=IGNORED)
    for relative in MODULES:
        (bundle / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, bundle / relative)
    shutil.copy2(root / "course.yml", bundle / "course.yml")
    values = {"course": course, "dependencies": for_students(root)}
    (bundle / "pyproject.toml").write_text(render("bundle_pyproject.toml.j2", **values), encoding="utf-8")
    (bundle / "README.md").write_text(render("bundle_README.md.j2", **values), encoding="utf-8")


def _prepare(out: Path, force: bool) -> Path:
    """An empty folder named like OUT (without .zip), in a private folder beside OUT."""
    if out.exists():
        if not force:
            raise ReleaseError(f"{out} already exists; remove it or pass --force")
        shutil.rmtree(out) if out.is_dir() else out.unlink()
    out.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".release-", dir=out.parent)) / out.name.removesuffix(".zip")
    folder.mkdir()
    return folder


def build_release(root: Path, course: Course, out: Path, site: bool = True, force: bool = False,
                  log=print) -> Release:
    """Write the student bundle for the course at `root` to `out` (a folder, or a .zip).

    Raises LeakError (after keeping the bundle as OUT.leaked) when hidden material is in it.
    """
    out = Path(out).resolve()
    bundle = _prepare(out, force)
    try:
        log(f"exercises: {', '.join(e.id for e in course.exercises)}")
        _copy_exercises(root, course, bundle)
        _write_package(root, course, bundle)
        if site:
            from autograder.site.build import build_site

            log("building the lecture site ...")
            if build_site(root, course, bundle / "site") != 0:
                raise ReleaseError("the lecture site did not build (see above)")
    except BaseException:
        shutil.rmtree(bundle.parent, ignore_errors=True)
        raise
    log("leak check: looking for answer regions and hidden checks in the bundle ...")
    try:
        checked = leakcheck.check(bundle, root)
    except leakcheck.LeakError:
        leaked = out.with_name(out.name.removesuffix(".zip") + ".leaked")
        shutil.rmtree(leaked, ignore_errors=True)
        bundle.rename(leaked)
        bundle.parent.rmdir()
        print(f"the bundle is kept for inspection in {leaked}: DO NOT distribute it", file=sys.stderr)
        raise
    files = sum(1 for p in bundle.rglob("*") if p.is_file())
    if out.suffix == ".zip":
        archive = shutil.make_archive(str(bundle), "zip", root_dir=bundle.parent, base_dir=bundle.name)
        Path(archive).rename(out)
    else:
        bundle.rename(out)
    shutil.rmtree(bundle.parent)
    return Release(out, files, checked)
