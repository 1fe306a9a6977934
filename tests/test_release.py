"""`course release`: the student bundle holds what students work from and nothing hidden, and its
README's one command gives a working `course check`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from autograder.config import load_course
from autograder.exports import leakcheck
from autograder.exports.student_cli import MODULES
from conftest import ROOT

BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def course_cli(*args, cwd=ROOT, timeout=900, env=ENV):
    return subprocess.run([str(BIN / "course"), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """The full release (lecture site included), built once by the command line."""
    out = tmp_path_factory.mktemp("release") / "bundle"
    done = course_cli("release", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "leak check passed" in done.stdout
    return out


def test_the_bundle_holds_what_students_work_from(bundle, course):
    for exercise in course.exercises:
        folder = bundle / "exercises" / exercise.id
        stub = ROOT / "exercises" / exercise.id / exercise.student_file
        assert (folder / exercise.student_file).read_text(encoding="utf-8") == stub.read_text(encoding="utf-8")
        assert (folder / "README.md").is_file()
        assert list(folder.glob("test_*.py")), f"{exercise.id}: no public checks"
        for script in folder.glob("*.py"):
            if script.read_text(encoding="utf-8").startswith("# ---\n# jupyter:"):
                assert script.with_suffix(".ipynb").is_file(), f"{script.name} has no .ipynb beside it"
    assert (bundle / "exercises" / "conftest.py").is_file()
    assert (bundle / "site" / "index.html").is_file()
    for lecture in course.lectures:
        assert (bundle / "site" / lecture.id / "notes.html").is_file(), lecture.id
    assert (bundle / "genmodels" / "data.py").is_file()
    assert load_course(bundle / "course.yml") == course
    engine = sorted(p.relative_to(bundle).as_posix() for p in (bundle / "autograder").rglob("*.py"))
    assert engine == sorted(MODULES)


def test_the_bundle_holds_nothing_hidden(bundle):
    assert not (bundle / "solutions").exists() and not (bundle / "autograder" / "checks").exists()
    assert not list(bundle.rglob("*.npz")) and not list(bundle.rglob("course_reference"))
    assert leakcheck.scan(bundle, leakcheck.secrets(ROOT)) == []


def _setup_command(readme: str) -> str:
    """The one command under the README's "Set up" heading."""
    section = readme.split("## Set up", 1)[1]
    [command] = re.findall(r"```bash\n(.*?)\n```", section, flags=re.DOTALL)[:1]
    assert "\n" not in command.strip(), f"the set-up is more than one command: {command!r}"
    return command.strip()


def test_the_readme_command_gives_a_working_course_check_in_the_unpacked_zip(tmp_path):
    """Release to a zip, unpack it, run the README's command (dependencies come from the project's
    venv instead of being downloaded again), and check a stub (fails) and a solution (passes)."""
    archive = tmp_path / "gm101.zip"
    done = course_cli("release", str(archive), "--no-site")
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(tmp_path / "unpacked")
    bundle = tmp_path / "unpacked" / "gm101"
    command = _setup_command((bundle / "README.md").read_text(encoding="utf-8"))
    setup = subprocess.run(["bash", "-c", command], cwd=bundle, capture_output=True, text=True, timeout=900,
                           env={**ENV, "PIP_NO_DEPS": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    assert setup.returncode == 0, setup.stdout[-2000:] + setup.stderr[-2000:]
    site_packages = next((bundle / ".venv" / "lib").glob("python3*/site-packages"))
    (site_packages / "course_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    student_course = bundle / ".venv" / "bin" / "course"
    env = {key: value for key, value in ENV.items() if key != "COURSE_ROOT"}

    stub = subprocess.run([str(student_course), "check", "gmm"], cwd=bundle, env=env, capture_output=True,
                          text=True, timeout=600)
    assert stub.returncode == 1 and "NotImplementedError" in stub.stdout, stub.stdout + stub.stderr
    (bundle / "exercises" / "gmm" / "gmm.py").write_bytes((ROOT / "solutions" / "gmm" / "gmm.py").read_bytes())
    solved = subprocess.run([str(student_course), "check", "gmm"], cwd=bundle / "exercises" / "gmm", env=env, capture_output=True,
                            text=True, timeout=600)
    assert solved.returncode == 0 and "all public checks pass" in solved.stdout, solved.stdout + solved.stderr
    hidden = subprocess.run([str(student_course), "grade", "x"], cwd=bundle, env=env, capture_output=True,
                            text=True, timeout=120)
    assert hidden.returncode == 2 and "invalid choice" in hidden.stderr


def test_release_refuses_to_overwrite(tmp_path):
    (tmp_path / "out").mkdir()
    done = course_cli("release", str(tmp_path / "out"), "--no-site")
    assert done.returncode == 2 and "already exists" in done.stderr
