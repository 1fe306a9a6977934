"""The diffusion exercise: reference, stub, realistic mistakes, correct alternatives, the two ring smoke tests.

Full sandboxed grading (every check, both smoke tests included) runs for the reference, the
stub and the correct alternatives. Every wrong submission (the reference with the edits in
tests/submissions/diffusion/mistakes.py) is judged by the same check definitions in-process
without the training smoke test, so the whole catalogue stays fast; the training smoke test's
verdict on a broken loss is tested on its own probe.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from autograder import grading
from autograder.config import load_course
from autograder.grading import grade_submission, import_file
from conftest import ROOT, SUBMISSIONS, assert_loses_exactly, assert_named_mistake, feedback_of
from mutations import load_mistakes, mistake_files

torch.set_num_threads(1)

DIFFUSION_SUBMISSIONS = SUBMISSIONS / "diffusion"
MUTATIONS = load_mistakes("diffusion")  # name -> (old, new) edits of the reference
SAMPLING_SMOKE = "sampling smoke test:"
TRAINING_SMOKE = "training smoke test:"

# mistake -> (words the feedback must use, check names (prefixes) that must lose points)
MISTAKES = {
    "schedule_one_too_many": ("returns 11 values", ["linear_beta_schedule"]),
    "schedule_without_end": ("leaves out beta_end", ["linear_beta_schedule"]),
    "q_sample_no_sqrt": ("without the square root", ["q_sample: sqrt"]),
    "q_sample_index_off_by_one": ("off by one", ["q_sample: sqrt"]),
    "q_sample_broadcast_2d_only": ("size of tensor", ["q_sample: sqrt", "ddpm_loss: works on image-shaped"]),
    "loss_target_x0": ("target is x0", ["ddpm_loss: the mean squared error"]),
    "loss_t_misses_last_step": ("never reaches T - 1", ["ddpm_loss: t drawn"]),
    "loss_t_one_based": ("never takes the value 0", ["ddpm_loss: t drawn"]),
    "loss_sum_not_mean": ("sums instead of averaging", ["ddpm_loss: the mean squared error"]),
    "loss_uniform_noise": ("uniform", ["ddpm_loss: x_t = q_sample"]),
    "step_alpha_for_alpha_bar": ("α_t is used where ᾱ_t belongs", ["p_sample_step: the mean", SAMPLING_SMOKE]),
    "step_alpha_bar_no_sqrt": ("without the square root", ["p_sample_step: the mean", SAMPLING_SMOKE]),
    "step_noise_at_last_step": ("noise is added at the last step", ["p_sample_step: nothing is added"]),
    "step_variance_of_previous_step": ("another step's", ["p_sample_step: the mean", "p_sample_step: with noise=None",
                                                          SAMPLING_SMOKE]),
    "step_sigma_is_beta": ("scaled by β_t", ["p_sample_step: the mean", "p_sample_step: with noise=None",
                                             SAMPLING_SMOKE]),
    "sample_skips_last_step": ("stops before t = 0", ["ddpm_sample: T steps"]),
    "sample_runs_upwards": ("run upwards", ["ddpm_sample: T steps", SAMPLING_SMOKE]),
    "q_sample_coefficients_swapped": ("coefficients are swapped", ["q_sample: sqrt"]),
    "loss_one_t_per_batch": ("one step per example", ["ddpm_loss: t drawn"]),
    "loss_model_sees_x0": ("model is given x0", ["ddpm_loss: the mean squared error", "ddpm_loss: x_t = q_sample"]),
    "step_index_off_by_one": ("off by one", ["p_sample_step: the mean", SAMPLING_SMOKE]),
    "step_posterior_variance": ("posterior variance", ["p_sample_step: the mean", "p_sample_step: with noise=None",
                                                      SAMPLING_SMOKE]),
    "sample_starts_from_zeros": ("starts from zeros", ["ddpm_sample: samples distributed"]),
}
ALTERNATIVES = ["correct_closed_forms", "correct_loops_float64"]
# hand-written wrong files (not edits of the reference) -> {prefix of every check that must lose points: words}
WRONG_FILES = {
    "wrong_first_attempt": {"ddpm_loss: t drawn": "steps are 0-based",
                            "ddpm_loss: x_t = q_sample": "are steps counted from 1?",
                            "p_sample_step: nothing is added": "noise is added at the last step"},
}


def judge_in_process(path: Path, skip=("train",)) -> dict:
    """check name -> Verdict for the file at `path`, judged in this process (without the training smoke test)."""
    return grading.judge_in_process(ROOT, "diffusion", "diffusion", import_file(path, f"diffusion_{path.stem}"),
                                    skip=skip)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """graded(source_path, device="cpu") -> ExerciseResult of the full sandboxed grading, cached per file."""
    course = load_course(ROOT / "course.yml")
    cache = {}

    def run(source: Path, device="cpu"):
        if (source, device) not in cache:
            folder = tmp_path_factory.mktemp(source.stem)
            (folder / "diffusion.py").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
            cache[source, device] = grade_submission(course, ROOT, folder, ["diffusion"], device).exercises[0]
        return cache[source, device]

    return run


@pytest.fixture(scope="module")
def mistake_path(tmp_path_factory):
    """mistake_path(name) -> a file holding the reference with the edits of mistake `name`."""
    return mistake_files(tmp_path_factory.mktemp("diffusion_mistakes"), "diffusion", MUTATIONS)


def test_catalogue_has_every_named_mistake():
    assert set(MUTATIONS) == set(MISTAKES)
    assert {p.stem for p in DIFFUSION_SUBMISSIONS.glob("*.py")} >= set(ALTERNATIVES)


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_mistake_loses_points_and_is_named(mistake_path, name):
    words, failing = MISTAKES[name]
    assert_named_mistake(judge_in_process(mistake_path(name)), name, words, failing)


@pytest.mark.parametrize("name", sorted(WRONG_FILES))
def test_hand_written_wrong_file_loses_exactly_where_it_is_wrong(name):
    assert_loses_exactly(judge_in_process(DIFFUSION_SUBMISSIONS / f"{name}.py"), WRONG_FILES[name])


@pytest.mark.parametrize("name", ALTERNATIVES)
def test_correct_alternative_in_process(name):
    verdicts = judge_in_process(DIFFUSION_SUBMISSIONS / f"{name}.py")
    assert all(v.fraction == 1 for v in verdicts.values()), {k: v.feedback for k, v in verdicts.items() if v.fraction < 1}


def test_loss_with_x0_target_fails_the_training_smoke_test(mistake_path):
    from autograder.checking import load_checks

    others = tuple(n for n in load_checks("diffusion").probe_names() if n != "train")
    (verdict,) = judge_in_process(mistake_path("loss_target_x0"), skip=others).values()
    assert verdict.fraction == 0 and "modes" in verdict.feedback, verdict.feedback


def test_reference_full_marks_with_smoke_tests(graded):
    result = graded(ROOT / "solutions" / "diffusion" / "diffusion.py")
    assert result.score == pytest.approx(result.max_score) == pytest.approx(25), feedback_of(result)
    smoke = [c for c in result.checks if c.name.startswith((TRAINING_SMOKE, SAMPLING_SMOKE))]
    assert len(smoke) == 2 and all(c.passed for c in smoke)


def test_stub_scores_zero(graded):
    result = graded(ROOT / "exercises" / "diffusion" / "diffusion.py")
    assert result.score == 0
    assert all("not implemented" in c.feedback for c in result.checks), feedback_of(result)


@pytest.mark.parametrize("name", ALTERNATIVES)
def test_correct_alternative_full_marks_sandboxed(graded, name):
    result = graded(DIFFUSION_SUBMISSIONS / f"{name}.py")
    assert result.score == pytest.approx(result.max_score), feedback_of(result)


# ---------------------------------------------------------------- the trusted side's own pieces


def test_mixture_denoiser_is_the_scaled_score_of_the_noised_mixture():
    """eps*(x, t) = -sqrt(1 - ab_t) ∇ log q_t(x), checked against autograd on the mixture's log-density."""
    from genmodels.data import ring_centres
    from genmodels.diffusion import MixtureDenoiser

    alphas_cumprod = np.cumprod(1 - np.linspace(0.01, 0.3, 10))
    model = MixtureDenoiser(ring_centres(), 0.1, alphas_cumprod)
    x = torch.randn(6, 2, dtype=torch.float64, requires_grad=True)
    t = torch.tensor([0, 3, 9, 5, 1, 7])
    ab = torch.as_tensor(alphas_cumprod)[t][:, None]
    centres = torch.as_tensor(ring_centres())
    var = ab * 0.01 + 1 - ab
    log_q = torch.logsumexp(-0.5 * ((x[:, None] - ab.sqrt()[:, :, None] * centres) ** 2).sum(-1) / var, dim=1)
    (score,) = torch.autograd.grad(log_q.sum(), x)
    torch.testing.assert_close(model(x, t), -(1 - ab).sqrt() * score)


def test_chain_variance_matches_a_simulation():
    from autograder.checks.diffusion.checks import chain_variance, step_coefficients

    betas, coef = np.linspace(0.05, 0.3, 6), np.linspace(-0.4, 0.4, 6)
    scale, sigma = step_coefficients(betas, coef)
    rng = np.random.default_rng(0)
    x = rng.normal(size=200_000)
    for t in reversed(range(6)):
        x = scale[t] * x + sigma[t] * rng.normal(size=x.shape)
    assert abs(x.var() / chain_variance(scale, sigma) - 1) < 0.02


def test_reference_sampler_covers_the_ring_with_the_exact_denoiser():
    from autograder.checks.diffusion.checks import _ring_score, mode_spread, reference_sample
    from genmodels.data import ring_centres
    from genmodels.diffusion import SMOKE, MixtureDenoiser, cosine_beta_schedule

    betas = cosine_beta_schedule(SMOKE.steps)
    samples = reference_sample(MixtureDenoiser(ring_centres(), SMOKE.ring_std, np.cumprod(1 - betas)), 2000, betas, 5)
    score = _ring_score(samples)
    assert score.modes_covered == 8 and score.share_near_mode > 0.97
    assert 0.1 < mode_spread(samples) < 0.108


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_reference_full_marks_on_gpu(graded):
    result = graded(ROOT / "solutions" / "diffusion" / "diffusion.py", device="cuda")
    assert result.score == pytest.approx(result.max_score), feedback_of(result)


# ---------------------------------------------------------------- the student's side


def _course_check(*args):
    return subprocess.run([sys.executable, "-m", "autograder.cli", "check", "diffusion", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_public_checks_pass_on_reference_and_fail_on_stub():
    done = _course_check("solutions/diffusion/diffusion.py")
    assert done.returncode == 0 and "all public checks pass" in done.stdout, done.stdout + done.stderr
    done = _course_check()
    assert done.returncode == 1 and "NotImplementedError" in done.stdout


def test_notebook_runs_with_the_reference(tmp_path):
    shutil.copy(ROOT / "exercises" / "diffusion" / "explore_diffusion.py", tmp_path)
    shutil.copy(ROOT / "solutions" / "diffusion" / "diffusion.py", tmp_path)
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "explore_diffusion.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "modes covered" in done.stdout
    assert (tmp_path / "diffusion_ring.png").stat().st_size > 10_000
