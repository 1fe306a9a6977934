"""The GMM exercise graded end to end: reference, stub, realistic mistakes, correct alternatives."""


import pytest

from conftest import ROOT, SUBMISSIONS, feedback_of, solution_source
from mutations import load_mistakes, mutated

REFERENCE = solution_source("gmm")

MUTATIONS = load_mistakes("gmm")  # name -> (old, new) edits of the reference (tests/submissions/gmm/mistakes.py)
# mistake -> words the feedback must use
MISTAKES = {
    "no_logsumexp": "log-sum-exp",
    "reg_covar_dropped": "reg_covar",
    "cov_over_n": "divided by N",
    "weights_unnormalised": "not normalised",
    "no_2pi": "log(2π)",
    "half_log_det": "half of -½·log|Σ|",
    "diagonal_covariance": "only the diagonal",
    "transposed_resp": "transposed",
    "hard_assignments": "hard assignments",
    "stops_too_early": "iterations",
    "sum_not_mean_log_likelihood": "summed over data points",
    "no_final_m_step": "skips its M-step",
}


def mutate(name):
    return mutated("gmm", MUTATIONS[name])


def test_catalogue_has_every_named_mistake():
    assert set(MUTATIONS) == set(MISTAKES)


def test_reference_gets_full_marks(grade):
    result = grade("gmm", {"gmm.py": REFERENCE})
    assert result.score == pytest.approx(result.max_score) == pytest.approx(20)
    assert all(c.passed for c in result.checks), feedback_of(result)


def test_untouched_stub_gets_zero_with_not_implemented(grade):
    result = grade("gmm", {"gmm.py": (ROOT / "exercises/gmm/gmm.py").read_text()})
    assert result.score == 0
    assert all("not implemented" in c.feedback for c in result.checks)


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_each_mistake_loses_points_and_is_named(grade, name):
    result = grade("gmm", {"gmm.py": mutate(name)})
    assert result.score < result.max_score - 0.5, f"{name} kept {result.score}"
    assert MISTAKES[name] in feedback_of(result), feedback_of(result)


@pytest.mark.parametrize("filename", ["loops_scipy.py", "einsum_slogdet.py"])
def test_correct_alternatives_get_full_marks(grade, filename):
    result = grade("gmm", {"gmm.py": (SUBMISSIONS / "gmm" / filename).read_text()})
    assert result.score == pytest.approx(result.max_score), feedback_of(result)


def test_partial_credit_is_per_check(grade):
    """One wrong formula costs its checks, not the whole exercise."""
    result = grade("gmm", {"gmm.py": mutate("no_2pi")})
    assert 0 < result.score < result.max_score
    by_name = {c.name: c for c in result.checks}
    assert by_name["m_step: weights, means and covariances match the reference"].passed
    assert not by_name["log_gaussian_pdf: values match the reference for D = 1, 2, 3, 5"].passed


def test_the_referee_keeps_its_expected_convergence_warnings_to_itself():
    """The loose-tol and cut-short referee runs stop before EM converges on purpose: scikit-learn's
    ConvergenceWarning about them cluttered `course grade-all` output, once per submission."""
    import warnings

    import numpy as np

    from autograder.checks.gmm import checks, probes

    inputs = probes._fit_inputs(np.random.default_rng(0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = checks._sklearn_fit({**inputs, "tol": inputs["loose_tol"], "max_iter": 1})
    assert not model.converged_  # the run the warning was about
    assert caught == []
