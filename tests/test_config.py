"""course.yml is validated on load; errors name the file, the key path and what was expected."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from autograder.config import ConfigError, load_course
from conftest import ROOT

GOOD = yaml.safe_load((ROOT / "course.yml").read_text())


def write(tmp_path, data=None, text=None) -> Path:
    path = tmp_path / "course.yml"
    path.write_text(text if text is not None else yaml.safe_dump(data))
    return path


def edited(change):
    data = yaml.safe_load(yaml.safe_dump(GOOD, default_flow_style=False))
    change(data)
    return data


def test_the_shipped_course_is_valid():
    course = load_course(ROOT / "course.yml")
    gmm = course.exercise("gmm")
    assert gmm.student_file == "gmm.py" and "sklearn.mixture" in gmm.banned_imports
    limits = course.limits_for(gmm)
    assert limits.check_time_s == 15 and limits.memory_mib == course.limits.memory_mib


def test_flows_and_diffusion_are_graded_exercises_of_their_lectures():
    """Issue 16: both exercises are in the shipped course.yml with points, a due date and their own lecture, and
    each has what `course validate` needs (hidden checks and a reference)."""
    course = load_course(ROOT / "course.yml")
    for exercise_id in ("flows", "diffusion"):
        exercise = course.exercise(exercise_id)
        assert exercise.lecture == exercise_id and exercise.points > 0 and exercise.due.utcoffset() is not None
        assert (ROOT / "solutions" / exercise_id / exercise.student_file).is_file()
        assert (ROOT / "autograder" / "checks" / exercise_id / "checks.py").is_file()


@pytest.mark.parametrize("change, expected", [
    (lambda d: d["exercises"][0].update(points="ten"), "exercises[0].points: Input should be a valid number"),
    (lambda d: d["exercises"][0].pop("student_file"), "exercises[0].student_file: required key is missing"),
    (lambda d: d["exercises"][0].update(pionts=3), "exercises[0].pionts: unknown key"),
    (lambda d: d["exercises"][0].update(due="2026-12-04T23:59:00"), "exercises[0].due: expected a date with a UTC offset"),
    (lambda d: d["exercises"][0].update(due="next friday"), "exercises[0].due: Input should be a valid datetime"),
    (lambda d: d["exercises"][0].update(lecture="nope"), "exercises[0].lecture: 'nope' is not a lecture id"),
    (lambda d: d["exercises"][0].update(student_file="GMM.txt"), "exercises[0].student_file: String should match pattern"),
    (lambda d: d["exercises"][0]["limits"].update(memory_mib=-5), "exercises[0].limits.memory_mib: Input should be greater than or equal to 64"),
    (lambda d: d["exercises"][0]["late_policy"].update(penalty_per_day=2), "exercises[0].late_policy.penalty_per_day: Input should be less than or equal to 1"),
    (lambda d: d["lectures"].insert(1, dict(d["lectures"][0])), "lectures[1].id: duplicate id 'intro'"),  # any number of lectures
    (lambda d: d["instructors"][0].update(email="not-an-email"), "instructors[0].email: expected an e-mail address"),
    (lambda d: d.pop("title"), "title: required key is missing"),
    (lambda d: d.update(lectures=[]), "lectures: List should have at least 1 item"),
])
def test_bad_files_name_file_key_and_expectation(tmp_path, change, expected):
    path = write(tmp_path, edited(change))
    with pytest.raises(ConfigError) as error:
        load_course(path)
    assert str(path) in str(error.value)
    assert expected in str(error.value)


def test_yaml_syntax_error_gives_line(tmp_path):
    path = write(tmp_path, text="title: x\nlectures: [a, b\n")
    with pytest.raises(ConfigError, match=r"course.yml: line \d+, column \d+: not valid YAML"):
        load_course(path)


def test_top_level_must_be_a_mapping(tmp_path):
    with pytest.raises(ConfigError, match="expected a mapping of keys at the top level, got list"):
        load_course(write(tmp_path, text="- a\n- b\n"))


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_course(tmp_path / "course.yml")


def test_course_validate_command(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "autograder.cli", "validate"], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "course.yml: OK" in ok.stdout
    bad = write(tmp_path, edited(lambda d: d["exercises"][0].update(points=0)))
    done = subprocess.run([sys.executable, "-m", "autograder.cli", "--course", str(tmp_path), "validate"],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert f"{bad}: exercises[0].points: Input should be greater than 0" in done.stderr
