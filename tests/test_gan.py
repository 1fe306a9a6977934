"""The GAN exercise: reference, stub, realistic mistakes, correct alternatives, the ring smoke test.

Full sandboxed grading (every check, the training smoke test included) runs for the
reference, the stub, the correct alternatives and one broken loss. Every wrong
submission (the reference with the edits in tests/submissions/gan/mistakes.py) is also
judged by the same check definitions in-process (the path the nbgrader/otter exports take), without the smoke test, so
that the whole catalogue of mistakes stays fast to test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from autograder.config import load_course
from autograder import grading
from autograder.grading import grade_submission, import_file
from conftest import ROOT, assert_named_mistake, SUBMISSIONS, feedback_of
from mutations import load_mistakes, mistake_files

torch.set_num_threads(1)

GAN_SUBMISSIONS = SUBMISSIONS / "gan"
MUTATIONS = load_mistakes("gan")  # name -> (old, new) edits of the reference
SMOKE_CHECK = "training smoke test: the course GAN trained with your step covers the ring of 8 Gaussians"

# mistake -> (words the feedback must use, check names (prefixes) that must fail)
MISTAKES = {
    "labels_swapped": ("labels are swapped", ["discriminator_loss:"]),
    "saturating_generator_loss": ("saturating minimax loss", ["generator_loss: the non-saturating", "generator losses:"]),
    "log_of_sigmoid": ("log(sigmoid(x))", ["all three losses"]),
    "softplus_by_hand": ("exp(x) overflows to inf", ["all three losses"]),
    "sigmoid_twice": ("sigmoid is applied twice", ["discriminator_loss:", "generator_loss:"]),
    "sum_not_mean": ("sums instead of means", ["discriminator_loss:", "generator_loss:"]),
    "generator_first": ("generator is updated first", ["gan_train_step: the discriminator step comes first",
                                                       "gan_train_step: parameters"]),
    "no_zero_grad": ("zero_grad()", ["gan_train_step: parameters", "gan_train_step: zeroes gradients"]),
    "minimax_in_step": ("saturating minimax loss", ["gan_train_step: parameters"]),
    "d_loss_halved": ("halved", ["gan_train_step: parameters", "gan_train_step: returns"]),
    "names_swapped": ("names are swapped", ["generator losses:"]),
    "no_detach_no_zero_grad": ("not detached", ["gan_train_step: parameters"]),
    "concat_batch_mean": ("concatenated batch", ["discriminator_loss:"]),
    "discriminator_loss_halved": ("halved", ["discriminator_loss:"]),
}
# Mistakes in the losses alone: gan_train_step is right, so its checks keep full marks (one mistake costs once).
LOSS_ONLY = ["labels_swapped", "saturating_generator_loss", "sigmoid_twice", "sum_not_mean", "names_swapped",
             "concat_batch_mean", "discriminator_loss_halved"]
ALTERNATIVES = ["ok_logsigmoid", "ok_single_pass"]


def judge_in_process(path: Path, skip=("smoke_ring",)) -> dict:
    """check name -> Verdict for the file at `path`, judged in this process without the smoke test."""
    return grading.judge_in_process(ROOT, "gan", "gan", import_file(path, f"gan_{path.stem}"), skip=skip)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """grade(source_path) -> ExerciseResult of the full sandboxed grading, cached per file."""
    course = load_course(ROOT / "course.yml")
    cache = {}

    def run(source: Path):
        if source not in cache:
            folder = tmp_path_factory.mktemp(source.stem)
            (folder / "gan.py").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
            cache[source] = grade_submission(course, ROOT, folder, ["gan"], "cpu").exercises[0]
        return cache[source]

    return run


@pytest.fixture(scope="module")
def mistake_path(tmp_path_factory):
    """mistake_path(name) -> a file holding the reference with the edits of mistake `name`."""
    return mistake_files(tmp_path_factory.mktemp("gan_mistakes"), "gan", MUTATIONS)


def test_catalogue_has_every_named_mistake():
    assert set(MUTATIONS) == set(MISTAKES)
    assert {p.stem for p in GAN_SUBMISSIONS.glob("*.py")} >= set(ALTERNATIVES)


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_mistake_loses_points_and_is_named(mistake_path, name):
    words, failing = MISTAKES[name]
    verdicts = judge_in_process(mistake_path(name))
    assert_named_mistake(verdicts, name, words, failing)


@pytest.mark.parametrize("name", LOSS_ONLY)
def test_a_wrong_loss_costs_nothing_in_the_step_checks(mistake_path, name):
    verdicts = judge_in_process(mistake_path(name))
    step = {check: v for check, v in verdicts.items() if check.startswith("gan_train_step")}
    assert len(step) == 4 and all(v.fraction == 1 for v in step.values()), {k: v.feedback for k, v in step.items()}
    assert any("correct, given your `" in v.feedback for v in step.values())


def test_a_step_mistake_does_not_cost_the_zeroing_check(mistake_path):
    """The step zeroes its gradients; only its halved loss is wrong, so the stale-gradient check passes."""
    verdicts = judge_in_process(mistake_path("d_loss_halved"))
    check = next(v for k, v in verdicts.items() if k.startswith("gan_train_step: zeroes gradients"))
    assert check.fraction == 1, check.feedback


@pytest.mark.parametrize("name", ALTERNATIVES)
def test_correct_alternative_in_process(name):
    verdicts = judge_in_process(GAN_SUBMISSIONS / f"{name}.py")
    assert all(v.fraction == 1 for v in verdicts.values()), {k: v.feedback for k, v in verdicts.items() if v.fraction < 1}


def test_reference_full_marks_with_smoke_test(graded):
    result = graded(ROOT / "solutions" / "gan" / "gan.py")
    assert result.score == pytest.approx(result.max_score), feedback_of(result)
    assert any(c.name == SMOKE_CHECK and c.passed for c in result.checks)


def test_stub_scores_zero(graded):
    result = graded(ROOT / "exercises" / "gan" / "gan.py")
    assert result.score == 0
    assert "not implemented" in feedback_of(result)


@pytest.mark.parametrize("name", ALTERNATIVES)
def test_correct_alternative_full_marks_sandboxed(graded, name):
    result = graded(GAN_SUBMISSIONS / f"{name}.py")
    assert result.score == pytest.approx(result.max_score), feedback_of(result)


def test_broken_step_fails_the_smoke_test(graded, mistake_path):
    result = graded(mistake_path("no_zero_grad"))
    smoke = next(c for c in result.checks if c.name == SMOKE_CHECK)
    assert not smoke.passed
    assert "modes" in smoke.feedback


def test_broken_loss_costs_nothing_in_the_smoke_test(graded, mistake_path):
    """Swapped labels break training, but the smoke test judges the step given the reference's losses."""
    result = graded(mistake_path("labels_swapped"))
    smoke = next(c for c in result.checks if c.name == SMOKE_CHECK)
    assert smoke.passed and "correct, given your `discriminator_loss`" in smoke.feedback, smoke.feedback


def test_smoke_scoring_on_known_samples():
    from genmodels.data import ring_centres, ring_of_gaussians
    from genmodels.gan import score_modes

    perfect = score_modes(ring_of_gaussians(2000, std=0.1, seed=3), ring_centres())
    assert perfect.modes_covered == 8 and perfect.share_near_mode > 0.99
    collapsed = score_modes(np.tile(ring_centres()[:1], (2000, 1)), ring_centres())
    assert collapsed.modes_covered == 1
    assert score_modes(np.full((10, 2), np.nan), ring_centres()).modes_covered == 0


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_reference_full_marks_on_cuda():
    course = load_course(ROOT / "course.yml")
    result = grade_submission(course, ROOT, ROOT / "solutions" / "gan", ["gan"], "cuda").exercises[0]
    assert result.score == pytest.approx(result.max_score), feedback_of(result)


def test_explore_notebook_runs_with_the_reference(tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    shutil.copy(ROOT / "exercises/gan/explore_gan.py", tmp_path)
    shutil.copy(ROOT / "solutions/gan/gan.py", tmp_path)
    done = subprocess.run([sys.executable, "explore_gan.py"], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "400 steps: 8 of 8 modes" in done.stdout
    assert (tmp_path / "gan_ring.png").stat().st_size > 10_000
