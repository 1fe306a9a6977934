"""Public checks for gmm.py — run them with `course check gmm` (or `pytest exercises/gmm`).

They test the basics on small inputs. The hidden checks used for grading test
more: other dimensions, points far from every component, reg_covar, and EM
against scikit-learn's GaussianMixture.
"""

import numpy as np
import pytest
from scipy.stats import multivariate_normal


@pytest.fixture
def blobs():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-3, 1, size=(60, 2)), rng.normal(3, 0.5, size=(40, 2))])
    weights = np.array([0.5, 0.5])
    means = np.array([[-1.0, 0.0], [1.0, 0.0]])
    covs = np.stack([np.eye(2), np.eye(2)])
    return X, weights, means, covs


def test_log_gaussian_pdf_matches_scipy(student):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(5, 2))
    mean = np.array([0.5, -0.2])
    cov = np.array([[2.0, 0.3], [0.3, 0.5]])
    result = student.log_gaussian_pdf(X, mean, cov)
    assert np.shape(result) == (5,), "log_gaussian_pdf should return one value per row of X"
    np.testing.assert_allclose(result, multivariate_normal(mean, cov).logpdf(X), rtol=1e-6)


def test_e_step_rows_sum_to_one(student, blobs):
    X, weights, means, covs = blobs
    resp, mean_ll = student.e_step(X, weights, means, covs)
    assert np.shape(resp) == (100, 2), "resp should have shape (N, K)"
    np.testing.assert_allclose(np.sum(resp, axis=1), 1.0, atol=1e-8)
    assert isinstance(float(mean_ll), float)


def test_e_step_far_points_stay_finite(student, blobs):
    X, weights, means, covs = blobs
    resp, mean_ll = student.e_step(X + 1000.0, weights, means, 0.01 * covs)
    assert np.all(np.isfinite(resp)), "use log-sum-exp: far-away points make exp() underflow"
    assert np.isfinite(mean_ll)


def test_m_step_shapes_and_weights(student, blobs):
    X, *_ = blobs
    resp = np.tile([0.25, 0.75], (100, 1))
    weights, means, covs = student.m_step(X, resp, reg_covar=0.1)
    assert np.shape(weights) == (2,) and np.shape(means) == (2, 2) and np.shape(covs) == (2, 2, 2)
    np.testing.assert_allclose(weights, [0.25, 0.75])
    np.testing.assert_allclose(means[0], X.mean(axis=0))
    np.testing.assert_allclose(covs[0], np.cov(X.T, bias=True) + 0.1 * np.eye(2))


def test_fit_gmm_log_likelihood_never_decreases(student, blobs):
    weights, means, covs, history = student.fit_gmm(*blobs, max_iter=50)
    assert 1 <= len(history) <= 50
    assert np.all(np.diff(history) >= -1e-9), "EM never lowers the log-likelihood"
    np.testing.assert_allclose(np.sort(weights), [0.4, 0.6], atol=1e-3)
