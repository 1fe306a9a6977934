"""Correct: a solve() for the quadratic form, scipy's logsumexp, explicit loops over components."""

import numpy as np
from scipy.special import logsumexp


def log_gaussian_pdf(X, mean, cov):
    d = X.shape[1]
    centred = X - mean
    quad = np.sum(centred * np.linalg.solve(cov, centred.T).T, axis=1)
    sign, logdet = np.linalg.slogdet(cov)
    return -(quad + logdet + d * np.log(2.0 * np.pi)) / 2.0


def e_step(X, weights, means, covs):
    n_points, n_comp = X.shape[0], len(weights)
    table = np.empty((n_points, n_comp))
    for j in range(n_comp):
        table[:, j] = log_gaussian_pdf(X, means[j], covs[j]) + np.log(weights[j])
    per_point = logsumexp(table, axis=1)
    return np.exp(table - per_point.reshape(-1, 1)), per_point.mean().item()


def m_step(X, resp, reg_covar=1e-6):
    n_points, dim = X.shape
    n_comp = resp.shape[1]
    new_weights = np.zeros(n_comp)
    new_means = np.zeros((n_comp, dim))
    new_covs = np.zeros((n_comp, dim, dim))
    for j in range(n_comp):
        r = resp[:, j]
        total = r.sum()
        new_weights[j] = total / n_points
        new_means[j] = (r[:, None] * X).sum(axis=0) / total
        c = X - new_means[j]
        new_covs[j] = (r[:, None, None] * np.einsum("ni,nj->nij", c, c)).sum(axis=0) / total
        new_covs[j][np.diag_indices(dim)] += reg_covar
    return new_weights, new_means, new_covs


def fit_gmm(X, weights, means, covs, max_iter=100, tol=1e-6, reg_covar=1e-6):
    history = []
    last = None
    iteration = 0
    while iteration < max_iter:
        resp, ll = e_step(X, weights, means, covs)
        history.append(ll)
        weights, means, covs = m_step(X, resp, reg_covar=reg_covar)
        iteration += 1
        if last is not None and abs(ll - last) < tol:
            break
        last = ll
    return weights, means, covs, history
