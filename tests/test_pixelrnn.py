"""The PixelRNN skew/unskew part: reference, stub, named mistakes, a correct alternative."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from autograder import grading
from autograder.grading import import_file
from conftest import ROOT, SUBMISSIONS, feedback_of

torch.set_num_threads(1)

PIXELRNN_SUBMISSIONS = SUBMISSIONS / "pixelrnn"
MISTAKES = {
    "shift_left": ("shifted left", ["skew: row i", "unskew: takes row i"]),
    "square_only": ("2W - 1 holds only for square images", ["skew: row i"]),
    "numpy_skew": ("no gradient reaches x", ["skew: keeps the dtype"]),
}


def judge_in_process(path: Path) -> dict:
    """check name -> Verdict for the file at `path`, judged in this process."""
    return grading.judge_in_process(ROOT, "pixelrnn", "pixelrnn", import_file(path, f"pixelrnn_{path.stem}"))


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_mistake_loses_points_and_is_named(name):
    words, failing = MISTAKES[name]
    lost = {c: v for c, v in judge_in_process(PIXELRNN_SUBMISSIONS / f"{name}.py").items() if v.fraction < 1}
    assert lost, f"{name} got full marks"
    for prefix in failing:
        assert any(check.startswith(prefix) for check in lost), f"{name}: no failing check starts with {prefix!r}"
    feedback = "\n".join(v.feedback for v in lost.values())
    assert words in feedback, f"{name}: feedback does not say {words!r}:\n{feedback}"


def test_reference_full_marks(grade):
    result = grade("pixelrnn", {"pixelrnn.py": (ROOT / "solutions" / "pixelrnn" / "pixelrnn.py").read_text()})
    assert result.score == pytest.approx(result.max_score), feedback_of(result)


def test_stub_scores_zero(grade):
    result = grade("pixelrnn", {"pixelrnn.py": (ROOT / "exercises" / "pixelrnn" / "pixelrnn.py").read_text()})
    assert result.score == 0
    assert "not implemented" in feedback_of(result)


def test_correct_alternative_full_marks(grade):
    result = grade("pixelrnn", {"pixelrnn.py": (PIXELRNN_SUBMISSIONS / "correct_gather.py").read_text()})
    assert result.score == pytest.approx(result.max_score), feedback_of(result)
