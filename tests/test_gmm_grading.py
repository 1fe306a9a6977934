"""The GMM exercise graded end to end: reference, stub, realistic mistakes, correct alternatives."""


import pytest

from conftest import ROOT, SUBMISSIONS, feedback_of, solution_source

REFERENCE = solution_source("gmm")

# One realistic mistake each: (text in the reference, what a student wrote instead, words the feedback must use).
MISTAKES = {
    "no_logsumexp": (
        "    log_px = logsumexp(log_joint, axis=1)  # (N,)\n    resp = np.exp(log_joint - log_px[:, None])  # (N, K)\n",
        "    joint = np.exp(log_joint)\n    px = joint.sum(axis=1)\n    log_px = np.log(px)\n    resp = joint / px[:, None]\n",
        "log-sum-exp",
    ),
    "reg_covar_dropped": ("        covs[k] += reg_covar * np.eye(D)\n", "", "reg_covar"),
    "cov_over_n": ("@ diff / Nk[k]  # (D, D)", "@ diff / N  # (D, D)", "divided by N"),
    "weights_unnormalised": ("    weights = Nk / N  # (K,)", "    weights = Nk  # (K,)", "not normalised"),
    "no_2pi": ("-0.5 * (D * np.log(2.0 * np.pi) + log_det", "-0.5 * (log_det", "log(2π)"),
    "half_log_det": ("log_det = 2.0 * np.sum(", "log_det = np.sum(", "half of -½·log|Σ|"),
    "diagonal_covariance": ("    L = np.linalg.cholesky(cov)", "    L = np.linalg.cholesky(np.diag(np.diag(cov)))",
                            "only the diagonal"),
    "transposed_resp": ("    return resp, float(np.mean(log_px))", "    return resp.T, float(np.mean(log_px))",
                        "transposed"),
    "hard_assignments": ("    N, D = X.shape\n    Nk = resp.sum(axis=0)",
                         "    N, D = X.shape\n    resp = np.eye(resp.shape[1])[resp.argmax(axis=1)]\n    Nk = resp.sum(axis=0)",
                         "hard assignments"),
    "stops_too_early": ("abs(log_likelihood - history[-1]) < tol", "abs(log_likelihood - history[-1]) > tol",
                        "iterations"),
    "sum_not_mean_log_likelihood": ("float(np.mean(log_px))", "float(np.sum(log_px))", "summed over data points"),
}


def mutate(name):
    old, new, _ = MISTAKES[name]
    assert REFERENCE.count(old) == 1, f"mistake {name}: the reference no longer contains {old!r}"
    return REFERENCE.replace(old, new)


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
    assert MISTAKES[name][2] in feedback_of(result), feedback_of(result)


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
