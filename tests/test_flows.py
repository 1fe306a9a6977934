"""The flows exercise: reference, stub, realistic mistakes, correct alternatives, the two-moons smoke test.

Full sandboxed grading (every check, the smoke test included) runs for the reference, the
stub and the correct alternatives. Every wrong submission (the reference with the edits in
tests/submissions/flows/mistakes.py) is judged by the same check definitions in-process
(the path the nbgrader/otter exports take) without the smoke test, so the whole catalogue
stays fast; the smoke test's verdict on broken couplings is tested on its own probe.
"""

from __future__ import annotations

import math
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

FLOWS_SUBMISSIONS = SUBMISSIONS / "flows"
MUTATIONS = load_mistakes("flows")  # name -> (old, new) edits of the reference
SMOKE_PREFIX = "training smoke test:"

# mistake -> (words the feedback must use, check names (prefixes) that must lose points)
MISTAKES = {
    "log_det_wrong_sign": ("wrong sign", ["AffineCoupling.forward: log_det", "flow_log_prob: with your couplings"]),
    "log_det_not_summed": ("sum the log-scales over the dimensions", ["AffineCoupling.forward: log_det"]),
    "log_det_mean_over_dims": ("averaged over dimensions", ["AffineCoupling.forward: log_det"]),
    "log_det_includes_kept": ("only (1 - mask) * s counts", ["AffineCoupling.forward: log_det"]),
    "masked_half_transformed": ("must pass through unchanged", ["AffineCoupling.forward: coordinates where the mask",
                                                                 "AffineCoupling.forward: y ="]),
    "mask_inverted": ("wrong way round", ["AffineCoupling.forward: coordinates where the mask",
                                          "AffineCoupling.forward: y ="]),
    "conditioner_sees_all": ("conditioner sees the whole x", ["AffineCoupling.forward: y =",
                                                              "AffineCoupling.forward: log_det"]),
    "inverse_wrong_scale": ("exp(-s)", ["AffineCoupling.inverse"]),
    "inverse_wrong_order": ("subtracts t", ["AffineCoupling.inverse"]),
    "base_constant_dropped": ("constant", ["flow_log_prob: log N", "flow_log_prob: with your couplings"]),
    "log_prob_subtracts_log_det": ("log-determinants are subtracted", ["flow_log_prob: log N"]),
    "log_prob_reversed_layers": ("reverse order", ["flow_log_prob: log N"]),
    "sample_not_reversed": ("last layer first", ["flow_sample"]),
    "sample_uses_forward": ("forward maps", ["flow_sample"]),
    "log_det_detached": ("no gradient", ["AffineCoupling.forward: differentiable"]),
    "log_det_summed_over_batch": ("one value per example", ["AffineCoupling.forward: log_det"]),
    "base_log_density_averaged": ("averaged over dimensions", ["flow_log_prob: log N", "flow_log_prob: with your"]),
    "log_prob_returns_nll": ("negative log-likelihood", ["flow_log_prob: log N", "flow_log_prob: with your"]),
    "sample_uniform_base": ("torch.randn", ["flow_sample"]),
}
ALTERNATIVES = ["correct_distributions", "correct_loops"]
# hand-written wrong files (not edits of the reference) -> {prefix of every check that must lose points: words}
WRONG_FILES = {
    "wrong_first_attempt": {"AffineCoupling.forward: log_det": "wrong sign",
                            "flow_log_prob: with your couplings": "integrates to",
                            "flow_sample": "last layer first"},
}
# mistakes whose trained flow must fail the smoke test when evaluated with trusted couplings
SMOKE_FAILURES = ["log_det_wrong_sign", "conditioner_sees_all", "log_det_detached"]


def judge_in_process(path: Path, skip=("train",)) -> dict:
    """check name -> Verdict for the file at `path`, judged in this process (without the smoke test by default)."""
    return grading.judge_in_process(ROOT, "flows", "flows", import_file(path, f"flows_{path.stem}"), skip=skip)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """graded(source_path, device="cpu") -> ExerciseResult of the full sandboxed grading, cached per file."""
    course = load_course(ROOT / "course.yml")
    cache = {}

    def run(source: Path, device="cpu"):
        if (source, device) not in cache:
            folder = tmp_path_factory.mktemp(source.stem)
            (folder / "flows.py").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
            cache[source, device] = grade_submission(course, ROOT, folder, ["flows"], device).exercises[0]
        return cache[source, device]

    return run


@pytest.fixture(scope="module")
def mistake_path(tmp_path_factory):
    """mistake_path(name) -> a file holding the reference with the edits of mistake `name`."""
    return mistake_files(tmp_path_factory.mktemp("flows_mistakes"), "flows", MUTATIONS)


def test_catalogue_has_every_named_mistake():
    assert set(MUTATIONS) == set(MISTAKES)
    assert {p.stem for p in FLOWS_SUBMISSIONS.glob("*.py")} >= set(ALTERNATIVES)


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_mistake_loses_points_and_is_named(mistake_path, name):
    words, failing = MISTAKES[name]
    assert_named_mistake(judge_in_process(mistake_path(name)), name, words, failing)


@pytest.mark.parametrize("name", sorted(WRONG_FILES))
def test_hand_written_wrong_file_loses_exactly_where_it_is_wrong(name):
    assert_loses_exactly(judge_in_process(FLOWS_SUBMISSIONS / f"{name}.py"), WRONG_FILES[name])


@pytest.mark.parametrize("name", ALTERNATIVES)
def test_correct_alternative_in_process(name):
    verdicts = judge_in_process(FLOWS_SUBMISSIONS / f"{name}.py")
    assert all(v.fraction == 1 for v in verdicts.values()), {k: v.feedback for k, v in verdicts.items() if v.fraction < 1}


@pytest.mark.parametrize("name", SMOKE_FAILURES)
def test_broken_coupling_fails_the_smoke_test(mistake_path, name):
    from autograder.checking import load_checks

    others = tuple(n for n in load_checks("flows").probe_names() if n != "train")
    (verdict,) = judge_in_process(mistake_path(name), skip=others).values()
    assert verdict.fraction == 0 and "held-out NLL" in verdict.feedback, verdict.feedback


def test_reference_full_marks_with_smoke_test(graded):
    result = graded(ROOT / "solutions" / "flows" / "flows.py")
    assert result.score == pytest.approx(result.max_score) == pytest.approx(20), feedback_of(result)
    assert any(c.name.startswith(SMOKE_PREFIX) and c.passed for c in result.checks)


def test_stub_scores_zero(graded):
    result = graded(ROOT / "exercises" / "flows" / "flows.py")
    assert result.score == 0
    assert all("not implemented" in c.feedback for c in result.checks), feedback_of(result)


@pytest.mark.parametrize("name", ALTERNATIVES)
def test_correct_alternative_full_marks_sandboxed(graded, name):
    result = graded(FLOWS_SUBMISSIONS / f"{name}.py")
    assert result.score == pytest.approx(result.max_score), feedback_of(result)


# ---------------------------------------------------------------- the trusted side's own pieces


def test_trusted_log_det_is_the_sum_of_the_transformed_log_scales():
    """The judge's autograd log-determinant agrees with the triangular closed form on a random layer."""
    from autograder.checks.flows.checks import TrustedCoupling, autograd_log_det

    torch.manual_seed(0)
    layer = TrustedCoupling(5, torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0]), hidden=16).double()
    x = torch.randn(7, 5, dtype=torch.float64)
    s, _ = layer.scale_shift(x * layer.mask)
    np.testing.assert_allclose(autograd_log_det(layer, x), s.sum(1).detach().numpy(), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(layer.inverse(layer(x)[0]), x)


@pytest.mark.parametrize("seed", [None, 1, 2, 3, 4])
def test_the_grid_holds_the_exact_flows_mass_for_any_seed(seed):
    """Whatever weights a grading draws, a correct flow keeps almost all of its mass on the probe's grid."""
    from autograder.checking import load_checks
    from autograder.checks.flows import probes
    from autograder.checks.flows.checks import trusted_layer, trusted_log_prob
    from autograder.grading import probe_inputs
    from genmodels.flows import coupling_mask, grid

    inputs = probe_inputs(load_checks("flows"), ["log_prob_grid"], seed)["log_prob_grid"]
    layers = [trusted_layer(2, coupling_mask(2, k), [inputs[f"{k}_w{j}"] for j in range(6)])
              for k in range(probes.GRID_LAYERS)]
    points, _, area = grid(probes.GRID_LIMIT, probes.GRID_POINTS)
    with torch.no_grad():
        log_prob = trusted_log_prob(layers, torch.as_tensor(points)).numpy()
    assert 0.97 < np.exp(log_prob).sum() * area < 1.001


def test_smoke_weights_must_match_the_course_flow():
    from autograder.checks.flows.checks import held_out_nll

    with pytest.raises(ValueError):
        held_out_nll([np.zeros((3, 3))])


def test_two_moons_are_standardised_and_fixed():
    from genmodels.flows import two_moons

    points = two_moons(4000, seed=3)
    assert points.shape == (4000, 2) and points.dtype == np.float32
    assert np.all(np.abs(points.mean(0)) < 0.1) and np.all(np.abs(points.std(0) - 1) < 0.15)
    np.testing.assert_array_equal(points, two_moons(4000, seed=3))


def test_two_moons_are_scikit_learns_moons():
    """Without noise, the same points as scikit-learn's make_moons (in another order)."""
    from sklearn.datasets import make_moons

    from genmodels.flows import MOONS_CENTRE, MOONS_SCALE, two_moons

    for n in (7, 200):
        ours = two_moons(n, noise=0.0, seed=1).astype(np.float64) * MOONS_SCALE + MOONS_CENTRE
        theirs, _ = make_moons(n, noise=0.0, shuffle=False)
        ours, theirs = np.round(ours, 5) + 0.0, np.round(theirs, 5) + 0.0  # float32 noise; -0.0 -> 0.0
        np.testing.assert_allclose(ours[np.lexsort(ours.T)], theirs[np.lexsort(theirs.T)], atol=1e-5)
    assert not np.array_equal(two_moons(50, seed=1), two_moons(50, seed=2))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_reference_full_marks_on_gpu(graded):
    result = graded(ROOT / "solutions" / "flows" / "flows.py", device="cuda")
    assert result.score == pytest.approx(result.max_score), feedback_of(result)


# ---------------------------------------------------------------- the student's side


def _course_check(*args):
    return subprocess.run([sys.executable, "-m", "autograder.cli", "check", "flows", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_public_checks_pass_on_reference_and_fail_on_stub():
    done = _course_check("solutions/flows/flows.py")
    assert done.returncode == 0 and "all public checks pass" in done.stdout, done.stdout + done.stderr
    done = _course_check()
    assert done.returncode == 1 and "NotImplementedError" in done.stdout


def test_notebook_runs_with_the_reference(tmp_path):
    shutil.copy(ROOT / "exercises" / "flows" / "explore_flows.py", tmp_path)
    shutil.copy(ROOT / "solutions" / "flows" / "flows.py", tmp_path)
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "explore_flows.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "held-out NLL" in done.stdout
    assert (tmp_path / "flows_moons.png").stat().st_size > 10_000


def test_a_wrong_density_that_integrates_to_one_by_chance_still_fails():
    """With a wrong log_det sign, the inputs of secret seed 193 happen to give a density whose grid integral is 1.005
    (the check allowed 0.01): it once earned the check in CI. It must also be the flow's density point by point."""
    from autograder.checking import load_checks

    checks = load_checks("flows")
    skip = [name for name in checks.probe_names() if name != "log_prob_grid"]
    wrong = import_file(SUBMISSIONS / "flows" / "wrong_first_attempt.py", "flows_wrong_first_attempt")
    verdicts = grading.judge_in_process(ROOT, "flows", "flows", wrong, skip=skip, seed=193)
    verdict = next(v for name, v in verdicts.items() if "integrates to 1" in name)
    assert verdict.fraction == 0.0 and "integrates to 1.005" in verdict.feedback and "by chance" in verdict.feedback
    reference = import_file(ROOT / "solutions" / "flows" / "flows.py", "flows_reference")
    verdicts = grading.judge_in_process(ROOT, "flows", "flows", reference, skip=skip, seed=193)
    assert next(v for name, v in verdicts.items() if "integrates to 1" in name).fraction == 1.0
