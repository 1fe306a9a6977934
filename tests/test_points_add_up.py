"""Per-check points in every results file add up exactly (as written, in decimal) to the exercise's points."""

import dataclasses
import json
import subprocess
import sys
from decimal import Decimal

import numpy as np
import pytest

from autograder.checking import load_checks
from autograder.config import load_course
from autograder.grading import _scaled_results, apportion
from autograder.results import ExerciseResult, SubmissionResult
from conftest import ROOT

COURSE = load_course(ROOT / "course.yml")


def written(result: SubmissionResult) -> dict:
    """The Gradescope results as a results file holds them, numbers read back as exact decimals."""
    return json.loads(json.dumps(result.to_gradescope()), parse_float=Decimal, parse_int=Decimal)


def results_for(exercise, fractions) -> dict:
    checks = load_checks(exercise.id)
    verdicts = [(f, "") for f in fractions]
    result = ExerciseResult(exercise.id, exercise.title, _scaled_results(exercise, checks, verdicts))
    return written(SubmissionResult([result]))


@pytest.mark.parametrize("exercise", COURSE.exercises, ids=lambda e: e.id)
def test_maxima_and_scores_add_up_for_every_exercise(exercise):
    n = len(load_checks(exercise.id).checks)
    rng = np.random.default_rng(len(exercise.id))
    for fractions in ([1.0] * n, [0.0] * n, list(rng.uniform(size=n)), [1 / 3] * n, [float("nan")] + [0.7] * (n - 1)):
        tests = results_for(exercise, fractions)
        maxima = sum(t["max_score"] for t in tests["tests"])
        scores = sum(t["score"] for t in tests["tests"])
        assert maxima == Decimal(str(exercise.points)), (exercise.id, maxima)
        assert scores == tests["score"], (exercise.id, fractions, scores, tests["score"])
        assert all(t["score"] <= t["max_score"] for t in tests["tests"])
    assert results_for(exercise, [1.0] * n)["score"] == Decimal(str(exercise.points))


def test_a_25_point_exercise_of_three_equal_checks():
    exercise = COURSE.exercise("vae").model_copy(update={"points": 25})
    checks = load_checks("vae")
    three = type(checks)(checks.probes_module, [dataclasses.replace(c, points=1) for c in checks.checks[:3]])
    results = _scaled_results(exercise, three, [(1.0, "")] * 3)
    assert [r.max_score for r in results] == [8.3334, 8.3333, 8.3333]
    assert sum(Decimal(str(r.max_score)) for r in results) == 25


def test_apportion_gives_floor_or_ceiling_and_the_exact_total():
    quotas = [1, 1, 1, 2.5, 0]
    shares = apportion(1000, quotas)
    assert sum(shares) == 1000 and shares[-1] == 0
    exact = [q * 1000 / sum(quotas) for q in quotas]
    assert all(abs(s - x) < 1 for s, x in zip(shares, exact))
    assert apportion(0, quotas) == [0] * 5 and apportion(7, [0, 0]) == [0, 0]


def test_results_file_of_course_grade_adds_up(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "gmm.py").write_text((ROOT / "solutions/gmm/gmm.py").read_text())
    output = tmp_path / "results.json"
    done = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", str(tmp_path / "sub"), "--exercise", "gmm",
                           "--output", str(output), "--quiet"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    results = json.loads(output.read_text(), parse_float=Decimal, parse_int=Decimal)
    assert sum(t["max_score"] for t in results["tests"]) == 20
    assert sum(t["score"] for t in results["tests"]) == results["score"] == 20
