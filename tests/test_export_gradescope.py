"""`course export gradescope`, run as Gradescope runs it: the zip's `run_autograder` in a temporary
/autograder layout (source, submission, results, submission_metadata.json), as root, with
bubblewrap unavailable (the fallback isolation), against the project's venv instead of the one
setup.sh builds. results.json is checked field by field against Gradescope's specification."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from autograder.config import ConfigError, load_course, parse_course
from autograder.exports.gradescope import export_gradescope
from conftest import ROOT
from export_submissions import BEYOND, baseline, cache_dir, same_score, submissions  # noqa: F401
from redteam import mode_env

BIN = Path(sys.executable).parent
TOP_LEVEL = {"score", "execution_time", "output", "output_format", "tests"}
TEST_FIELDS = {"name", "score", "max_score", "status", "output", "visibility"}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
HELD_BACK = "fit_gmm: agrees with scikit-learn's GaussianMixture from the same start"
ON_TIME = "2026-12-01T12:00:00.000000-08:00"
ONE_DAY_LATE = "2026-12-05T10:00:00.000000+01:00"  # gmm is due 2026-12-04 23:59 +01:00
HOSTILE = '''
import sys
print("\\x1b[2J\\x1b[31mgmm: 20.00 / 20.00\\x1b[0m <b>all passed</b>" * 50)
def log_gaussian_pdf(X, mean, cov):
    raise ValueError("\\x1b[32mgmm: 20.00 / 20.00\\x07\\x00 <script>alert(1)</script>")
'''


@pytest.fixture(scope="module")
def course_copy(tmp_path_factory):
    """The course with visibility settings for gmm in its course.yml."""
    root = tmp_path_factory.mktemp("course")
    for folder in ("autograder", "genmodels", "solutions", "exercises"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", root)
    data = yaml.safe_load((ROOT / "course.yml").read_text(encoding="utf-8"))
    gmm = next(e for e in data["exercises"] if e["id"] == "gmm")
    gmm["visibility"] = "after_due_date"
    gmm["check_visibility"] = {HELD_BACK: "hidden"}
    (root / "course.yml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return root


def export(root: Path, target: Path, *exercises, **options) -> Path:
    course = load_course(root / "course.yml")
    [written] = export_gradescope(root, course, target, [course.exercise(e) for e in exercises], log=lambda *_: None,
                                  **options)
    return written


@pytest.fixture(scope="module")
def gmm_zip(course_copy, tmp_path_factory):
    return export(course_copy, tmp_path_factory.mktemp("zips") / "gmm.zip", "gmm")


def gradescope_run(autograder_zip: Path, files: dict, root: Path, created_at=ON_TIME):
    """Lay out /autograder under `root`, run run_autograder there, return (exit code, results.json)."""
    for folder in ("source", "submission", "results"):
        (root / folder).mkdir(parents=True)
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(root / "source")
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    for name, text in files.items():
        (root / "submission" / name).write_text(text, encoding="utf-8")
    metadata = {"id": 1, "created_at": created_at, "assignment": {
        "due_date": "2026-12-10T23:59:00.000000+01:00", "late_due_date": None, "title": "GMM", "total_points": "20.0"},
        "users": [{"email": "student@example.edu", "id": 7, "name": "A Student"}], "previous_submissions": []}
    (root / "submission_metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    # As Gradescope runs it: a root grader, no namespaces (the fallback), a sandbox Python the sandbox
    # users can run (what setup.sh builds with `course sandbox-python`), the project's venv as the grader's.
    env = {**os.environ, **mode_env("fallback"), "AUTOGRADER_ROOT": str(root), "COURSE_PYTHON": sys.executable}
    done = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True,
                          timeout=900)
    return done.returncode, json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


def assert_follows_the_specification(results: dict):
    assert set(results) == TOP_LEVEL
    assert isinstance(results["score"], float) and isinstance(results["execution_time"], float)
    assert results["execution_time"] >= 0 and results["output_format"] == "text"
    for test in results["tests"]:
        assert set(test) == TEST_FIELDS, test
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] == ("passed" if test["score"] >= test["max_score"] - 1e-9 else "failed")
        assert test["visibility"] in VISIBILITIES
    for text in [results["output"], *(t["output"] for t in results["tests"]), *(t["name"] for t in results["tests"])]:
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text), f"control characters in {text!r}"


def test_the_zip_has_gradescopes_layout(gmm_zip):
    with zipfile.ZipFile(gmm_zip) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        assignment = json.loads(archive.read("course/assignment.json"))
    for script in ("setup.sh", "run_autograder"):
        assert infos[script].external_attr >> 16 & 0o111, f"{script} is not executable"
    assert assignment == {"exercises": ["gmm"], "due_dates": "course"}
    assert "course/solutions/gmm/gmm.py" in infos and not any(n.startswith("course/solutions/vae") for n in infos)
    assert "course/course.yml" in infos and "course/requirements.txt" in infos
    with zipfile.ZipFile(gmm_zip) as archive:
        setup = archive.read("setup.sh").decode()
    assert subprocess.run(["bash", "-n"], input=setup, text=True).returncode == 0
    assert "bubblewrap" in setup and "/opt/course-venv" in setup and "download.pytorch.org/whl/cpu" in setup


@pytest.mark.parametrize("label", ["reference", "stub", "flawed", "hostile"])
def test_a_simulated_gradescope_run_writes_results_to_the_specification(label, gmm_zip, course_copy, tmp_path):
    source = {"reference": (ROOT / "solutions" / "gmm" / "gmm.py").read_text(encoding="utf-8"),
              "stub": (ROOT / "exercises" / "gmm" / "gmm.py").read_text(encoding="utf-8"),
              "flawed": (ROOT / "autograder" / "samples" / "flawed" / "gmm.py").read_text(encoding="utf-8"),
              "hostile": HOSTILE}[label]
    status, results = gradescope_run(gmm_zip, {"gmm.py": source}, tmp_path / "autograder")
    assert status == 0
    assert_follows_the_specification(results)
    scores = {t["name"].removeprefix("gmm: "): t for t in results["tests"]}
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]), abs=1e-3)
    assert sum(t["max_score"] for t in results["tests"]) == pytest.approx(20)
    assert scores[HELD_BACK]["visibility"] == "hidden"
    assert {t["visibility"] for n, t in scores.items() if n != HELD_BACK} == {"after_due_date"}
    assert "fallback" in results["output"]  # the fallback graded it, and says so
    expected = {"reference": 20.0, "stub": 0.0}
    if label in expected:
        assert results["score"] == pytest.approx(expected[label], abs=1e-3)
    if label == "hostile":
        assert results["score"] == 0 and "\x1b" not in json.dumps(results)
        assert "ValueError" in scores["log_gaussian_pdf: returns an (N,) float array"]["output"]


def test_flows_and_diffusion_score_in_a_gradescope_run_what_course_grade_gives(course, cache_dir, tmp_path):
    """Issue 16's exercises in one zip, run as Gradescope runs it: the reference flow gets full marks and a wrong
    diffusion file loses, check by check, the points `course grade` takes. The zip's grader is `course grade`'s
    pipeline, so this run checks what the zip must carry for them (genmodels for their smoke tests, their
    solutions for the reference outputs); their references, stubs and wrong files go through otter and nbgrader
    in test_export_otter.py and test_export_nbgrader.py."""
    files = {"flows.py": submissions("flows")["reference"], "diffusion.py": submissions("diffusion")["wrong_first_attempt"]}
    status, results = gradescope_run(export(ROOT, tmp_path / "beyond.zip", *BEYOND), files, tmp_path / "autograder")
    assert status == 0, results["output"]
    assert_follows_the_specification(results)
    for exercise_id in BEYOND:
        points = course.exercise(exercise_id).points
        expected = baseline(course, exercise_id, files[f"{exercise_id}.py"], cache_dir, tmp_path)
        tests = {t["name"].removeprefix(f"{exercise_id}: "): t for t in results["tests"]
                 if t["name"].startswith(f"{exercise_id}: ")}
        assert sum(t["max_score"] for t in tests.values()) == pytest.approx(points)
        assert same_score(sum(t["score"] for t in tests.values()), expected["score"], points), exercise_id
        for check in expected["checks"]:
            assert tests[check["name"]]["score"] == pytest.approx(check["score"], abs=1e-3), (exercise_id, check)
    assert expected["score"] < course.exercise("diffusion").points - 1  # the wrong file lost points
    assert sum(t["score"] for t in results["tests"] if t["name"].startswith("flows: ")) == pytest.approx(
        course.exercise("flows").points, abs=1e-3)


def test_late_policy_applies_to_the_submission_time_from_the_metadata(course_copy, tmp_path):
    """One day late against course.yml's due date: 90% kept; against the Gradescope assignment's
    later due date (`--due-dates gradescope`): on time."""
    reference = {"gmm.py": (ROOT / "solutions" / "gmm" / "gmm.py").read_text(encoding="utf-8")}
    own = export(course_copy, tmp_path / "own.zip", "gmm")
    _, late = gradescope_run(own, reference, tmp_path / "own", created_at=ONE_DAY_LATE)
    assert late["score"] == pytest.approx(18.0, abs=1e-3) and "1 day(s) late" in late["output"]
    theirs = export(course_copy, tmp_path / "theirs.zip", "gmm", due_dates="gradescope")
    _, on_time = gradescope_run(theirs, reference, tmp_path / "theirs", created_at=ONE_DAY_LATE)
    assert on_time["score"] == pytest.approx(20.0, abs=1e-3) and "late" not in on_time["output"]


def test_a_grader_failure_still_writes_results(gmm_zip, tmp_path):
    root = tmp_path / "autograder"
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(gmm_zip) as source, zipfile.ZipFile(broken, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, b'{"exercises": ["no_such_exercise"]}' if info.filename.endswith("assignment.json")
                            else data)
    status, results = gradescope_run(broken, {"gmm.py": "x = 1\n"}, root)
    assert status == 1 and results["score"] == 0 and results["tests"] == []
    assert "could not grade this submission" in results["output"]
    assert_follows_the_specification(results)


def test_per_exercise_export_writes_one_assignment_each(tmp_path):
    course = load_course(ROOT / "course.yml")
    zips = export_gradescope(ROOT, course, tmp_path / "zips", [course.exercise("gmm"), course.exercise("iwae")],
                             per_exercise=True, log=lambda *_: None)
    assert [z.name for z in zips] == ["gmm.zip", "iwae.zip"]
    with zipfile.ZipFile(zips[1]) as archive:
        assert json.loads(archive.read("course/assignment.json"))["exercises"] == ["iwae"]
    done = subprocess.run([str(BIN / "course"), "export", "gradescope", str(tmp_path / "not-a-zip")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 2 and "name a .zip file" in done.stderr


def test_visibility_settings_are_validated(tmp_path):
    data = yaml.safe_load((ROOT / "course.yml").read_text(encoding="utf-8"))
    data["exercises"][0]["visibility"] = "sometimes"
    with pytest.raises(ConfigError, match=r"exercises\[0\]\.visibility"):
        parse_course(data)
    data["exercises"][0]["visibility"] = "after_published"
    data["exercises"][0]["check_visibility"] = {"no such check": "hidden"}
    (tmp_path / "course.yml").write_text(yaml.safe_dump(data), encoding="utf-8")
    for folder in ("solutions",):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    for lecture in data["lectures"]:
        (tmp_path / lecture["folder"]).mkdir(parents=True, exist_ok=True)
    done = subprocess.run([str(BIN / "course"), "--course", str(tmp_path), "validate"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 2 and "check_visibility names no check of it: 'no such check'" in done.stderr
