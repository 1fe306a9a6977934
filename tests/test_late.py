"""Late policy from course.yml: whole days late cost penalty_per_day each; past max_days_late, 0."""

import datetime as dt
import json
import subprocess
import sys

import pytest

from autograder.late import days_late, kept_fraction
from conftest import ROOT


@pytest.fixture
def gmm(course):
    return course.exercise("gmm")  # due 2026-12-04 23:59 +01:00, 10 % a day, 3 days


def at(gmm, **delta):
    return gmm.due + dt.timedelta(**delta)


def test_on_time_keeps_everything(gmm):
    assert kept_fraction(gmm, at(gmm, hours=-1)) == (1.0, None)
    assert kept_fraction(gmm, None) == (1.0, None)


def test_a_minute_late_is_a_day_late(gmm):
    assert days_late(gmm, at(gmm, minutes=1)) == 1
    kept, note = kept_fraction(gmm, at(gmm, minutes=1))
    assert kept == pytest.approx(0.9) and "1 day(s) late" in note


def test_past_the_last_day_scores_zero(gmm):
    assert kept_fraction(gmm, at(gmm, days=2, hours=1))[0] == pytest.approx(0.7)
    kept, note = kept_fraction(gmm, at(gmm, days=3, minutes=1))
    assert kept == 0 and "close after 3 day(s)" in note


def test_grade_applies_the_penalty_to_the_gradescope_score(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "gmm.py").write_text((ROOT / "solutions/gmm/gmm.py").read_text())
    out = tmp_path / "r.json"
    done = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", str(tmp_path / "sub"), "--exercise", "gmm",
                           "--output", str(out), "--device", "cpu", "--quiet",
                           "--submitted-at", "2026-12-06T12:00:00+01:00"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text())
    assert results["score"] == pytest.approx(16.0)
    assert sum(t["score"] for t in results["tests"]) == pytest.approx(20.0)
    assert "2 day(s) late" in results["output"]


def test_naive_timestamp_is_refused(tmp_path):
    done = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", "tests", "--exercise", "gmm",
                           "--submitted-at", "2026-12-06T12:00:00"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2 and "UTC offset" in done.stderr
