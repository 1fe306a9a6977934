"""Correct: fully vectorised with broadcasting over components (graded late in the made class)."""

import numpy as np
from scipy.special import logsumexp


def log_gaussian_pdf(X, mean, cov):
    sign, log_det = np.linalg.slogdet(cov)
    delta = X - mean
    solved = np.linalg.solve(cov[None, :, :], delta[:, :, None])[:, :, 0]
    return -0.5 * (np.einsum("ij,ij->i", delta, solved) + log_det + mean.size * np.log(2 * np.pi))


def e_step(X, weights, means, covs):
    k = np.arange(len(weights))
    log_w = np.log(weights)[None, :]
    log_dens = np.vstack([log_gaussian_pdf(X, means[i], covs[i]) for i in k]).T
    log_z = logsumexp(log_w + log_dens, axis=-1)
    return np.exp(log_w + log_dens - log_z[:, None]), log_z.mean().item()


def m_step(X, resp, reg_covar=1e-6):
    soft_counts = resp.sum(axis=0)
    means = (resp[:, :, None] * X[:, None, :]).sum(axis=0) / soft_counts[:, None]
    centred = X[:, None, :] - means[None, :, :]
    covs = np.einsum("nk,nki,nkj->kij", resp, centred, centred) / soft_counts[:, None, None]
    covs += reg_covar * np.eye(X.shape[1])
    return soft_counts / resp.shape[0], means, covs


def fit_gmm(X, weights, means, covs, max_iter=100, tol=1e-6, reg_covar=1e-6):
    history = []
    for _ in range(max_iter):
        resp, mean_ll = e_step(X, weights, means, covs)
        weights, means, covs = m_step(X, resp, reg_covar)
        if history and abs(mean_ll - history[-1]) < tol:
            history.append(mean_ll)
            break
        history.append(mean_ll)
    return weights, means, covs, history
