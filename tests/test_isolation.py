"""The sandbox level is detected and reported; the weaker fallback still grades correctly."""

import json
import os
import subprocess
import sys

import pytest

from autograder.sandbox import detect_isolation
from conftest import ROOT


def grade_reference(tmp_path, env):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "gmm.py").write_text((ROOT / "solutions/gmm/gmm.py").read_text())
    output = tmp_path / "results.json"
    done = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", str(tmp_path / "sub"), "--exercise", "gmm",
                           "--output", str(output), "--device", "cpu", "--quiet"],
                          cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(output.read_text())


def test_fallback_grades_and_says_it_is_weaker(tmp_path):
    results = grade_reference(tmp_path, {"COURSE_SANDBOX": "fallback"})
    assert results["score"] == pytest.approx(20)
    assert "weaker isolation" in results["output"]


@pytest.mark.skipif(not detect_isolation().strong, reason=detect_isolation().reason)
def test_bubblewrap_is_used_when_it_works(tmp_path):
    results = grade_reference(tmp_path, {})
    assert results["score"] == pytest.approx(20)
    assert "weaker isolation" not in results["output"]
