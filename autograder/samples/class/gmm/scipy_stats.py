"""Correct: scipy.stats for the density, np.logaddexp.reduce for the normaliser."""

import numpy as np
from scipy import stats


def log_gaussian_pdf(X, mean, cov):
    return np.asarray(stats.multivariate_normal(mean, cov).logpdf(X), dtype=float).reshape(len(X))


def e_step(X, weights, means, covs):
    lj = np.log(weights) + np.array([log_gaussian_pdf(X, mu, sig) for mu, sig in zip(means, covs)]).T
    lse = np.logaddexp.reduce(lj, axis=1)
    return np.exp(lj - lse[:, np.newaxis]), float(lse.sum() / len(X))


def m_step(X, resp, reg_covar=1e-6):
    mass = resp.sum(0)
    mu = np.dot(resp.T, X) / mass[:, np.newaxis]
    cov = np.empty((resp.shape[1], X.shape[1], X.shape[1]))
    for i in range(resp.shape[1]):
        dev = X - mu[i]
        cov[i] = np.dot(resp[:, i] * dev.T, dev) / mass[i]
        cov[i].flat[:: X.shape[1] + 1] += reg_covar
    return mass / X.shape[0], mu, cov


def fit_gmm(X, weights, means, covs, max_iter=100, tol=1e-6, reg_covar=1e-6):
    lls = []
    i = 0
    for i in range(max_iter):
        r, ll = e_step(X, weights, means, covs)
        weights, means, covs = m_step(X, r, reg_covar=reg_covar)
        lls.append(ll)
        if i and np.abs(lls[i] - lls[i - 1]) < tol:
            break
    return weights, means, covs, lls
