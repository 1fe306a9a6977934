"""Wrong: responsibilities normalised over the points (axis 0) instead of over the components."""

import numpy as np
from scipy.special import logsumexp


def log_gaussian_pdf(X, mean, cov):
    inverse = np.linalg.inv(cov)
    gap = X - mean
    mahalanobis = np.einsum("nd,de,ne->n", gap, inverse, gap)
    return -0.5 * mahalanobis - 0.5 * np.log(np.linalg.det(2 * np.pi * cov))


def e_step(X, weights, means, covs):
    logp = np.stack([np.log(weights[k]) + log_gaussian_pdf(X, means[k], covs[k]) for k in range(len(weights))], axis=1)
    resp = np.exp(logp - logsumexp(logp, axis=0, keepdims=True))
    return resp, float(np.mean(logsumexp(logp, axis=1)))


def m_step(X, resp, reg_covar=1e-6):
    nk = resp.sum(axis=0)
    mu = np.einsum("nk,nd->kd", resp, X) / nk[:, None]
    sigma = np.stack([
        np.einsum("n,nd,ne->de", resp[:, k], X - mu[k], X - mu[k]) / nk[k] + reg_covar * np.eye(X.shape[1])
        for k in range(resp.shape[1])
    ])
    return nk / len(X), mu, sigma


def fit_gmm(X, weights, means, covs, max_iter=100, tol=1e-6, reg_covar=1e-6):
    history = []
    for _ in range(max_iter):
        resp, ll = e_step(X, weights, means, covs)
        weights, means, covs = m_step(X, resp, reg_covar)
        done = len(history) > 0 and abs(ll - history[-1]) < tol
        history.append(ll)
        if done:
            break
    return weights, means, covs, history
