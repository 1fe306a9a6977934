"""A correct GMM written differently from the reference: plain loops and scipy.stats."""

import numpy as np
from scipy.stats import multivariate_normal


def log_gaussian_pdf(X, mean, cov):
    return np.atleast_1d(multivariate_normal(mean=mean, cov=cov).logpdf(X)).astype(float)


def e_step(X, weights, means, covs):
    N, K = len(X), len(weights)
    log_joint = np.zeros((N, K))
    for k in range(K):
        log_joint[:, k] = np.log(weights[k]) + log_gaussian_pdf(X, means[k], covs[k])
    resp = np.zeros((N, K))
    total = 0.0
    for n in range(N):
        top = log_joint[n].max()
        log_px = top + np.log(np.sum(np.exp(log_joint[n] - top)))
        resp[n] = np.exp(log_joint[n] - log_px)
        total += log_px
    return resp, total / N


def m_step(X, resp, reg_covar=1e-6):
    N, D = X.shape
    K = resp.shape[1]
    weights, means, covs = np.zeros(K), np.zeros((K, D)), np.zeros((K, D, D))
    for k in range(K):
        nk = resp[:, k].sum()
        weights[k] = nk / N
        means[k] = sum(resp[n, k] * X[n] for n in range(N)) / nk
        scatter = np.zeros((D, D))
        for n in range(N):
            d = X[n] - means[k]
            scatter += resp[n, k] * np.outer(d, d)
        covs[k] = scatter / nk + reg_covar * np.eye(D)
    return weights, means, covs


def fit_gmm(X, weights, means, covs, max_iter=100, tol=1e-6, reg_covar=1e-6):
    history = []
    previous = -np.inf
    for _ in range(max_iter):
        resp, ll = e_step(X, weights, means, covs)
        history.append(ll)
        weights, means, covs = m_step(X, resp, reg_covar=reg_covar)
        if abs(ll - previous) < tol:
            break
        previous = ll
    return weights, means, covs, history
