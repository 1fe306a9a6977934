"""A correct GMM written differently from the reference: einsum, slogdet/inv, float64 arrays, a while loop."""

import numpy as np
from scipy.special import logsumexp


def log_gaussian_pdf(X, mean, cov):
    D = cov.shape[0]
    _, log_det = np.linalg.slogdet(cov)
    diff = X - mean
    maha = np.einsum("ni,ij,nj->n", diff, np.linalg.inv(cov), diff)
    return -0.5 * (maha + log_det + D * np.log(2 * np.pi))


def e_step(X, weights, means, covs):
    log_joint = np.log(weights)[None, :] + np.stack(
        [log_gaussian_pdf(X, m, c) for m, c in zip(means, covs)], axis=-1)
    norm = logsumexp(log_joint, axis=-1, keepdims=True)
    return np.exp(log_joint - norm), norm.mean().item()


def m_step(X, resp, reg_covar=1e-6):
    nk = resp.sum(0)
    means = np.einsum("nk,nd->kd", resp, X) / nk[:, None]
    diff = X[None] - means[:, None]  # (K, N, D)
    covs = np.einsum("nk,kni,knj->kij", resp, diff, diff) / nk[:, None, None]
    covs = covs + reg_covar * np.eye(X.shape[1])[None]
    return nk / nk.sum(), means, covs


def fit_gmm(X, weights, means, covs, max_iter=100, tol=1e-6, reg_covar=1e-6):
    history, it = [], 0
    while it < max_iter:
        resp, ll = e_step(X, weights, means, covs)
        weights, means, covs = m_step(X, resp, reg_covar)
        history.append(ll)
        it += 1
        if len(history) > 1 and abs(history[-1] - history[-2]) < tol:
            break
    return weights, means, covs, history
