"""Correct: Cholesky factors, a hand-written log-sum-exp, per-component M-step."""

import numpy as np


def log_gaussian_pdf(X, mean, cov):
    L = np.linalg.cholesky(cov)
    z = np.linalg.solve(L, (X - mean).T)  # (D, N)
    half_log_det = np.log(np.diag(L)).sum()
    return -0.5 * (z**2).sum(axis=0) - half_log_det - 0.5 * X.shape[1] * np.log(2 * np.pi)


def e_step(X, weights, means, covs):
    scores = np.column_stack([np.log(w) + log_gaussian_pdf(X, m, c) for w, m, c in zip(weights, means, covs)])
    peak = scores.max(axis=1, keepdims=True)
    log_norm = peak + np.log(np.exp(scores - peak).sum(axis=1, keepdims=True))
    return np.exp(scores - log_norm), float(log_norm.mean())


def m_step(X, resp, reg_covar=1e-6):
    counts = resp.sum(axis=0)
    centres = resp.T @ X / counts[:, None]
    spreads = []
    for k, centre in enumerate(centres):
        offset = X - centre
        spreads.append(offset.T @ (offset * resp[:, [k]]) / counts[k] + reg_covar * np.eye(X.shape[1]))
    return counts / X.shape[0], centres, np.array(spreads)


def fit_gmm(X, weights, means, covs, max_iter=100, tol=1e-6, reg_covar=1e-6):
    history = []
    for step in range(max_iter):
        resp, value = e_step(X, weights, means, covs)
        weights, means, covs = m_step(X, resp, reg_covar)
        history.append(value)
        if step > 0 and abs(history[-1] - history[-2]) < tol:
            break
    return weights, means, covs, history
