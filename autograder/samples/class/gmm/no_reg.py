"""Wrong: reg_covar is never added to the covariances (singular components blow up)."""

import numpy as np


def log_gaussian_pdf(X, mean, cov):
    dims = len(mean)
    precision = np.linalg.pinv(cov)
    deviation = X - mean[None, :]
    exponent = -0.5 * np.sum(deviation @ precision * deviation, axis=1)
    return exponent - 0.5 * (dims * np.log(2 * np.pi) + np.log(np.linalg.det(cov)))


def e_step(X, weights, means, covs):
    components = range(len(weights))
    joint = np.array([log_gaussian_pdf(X, means[c], covs[c]) + np.log(weights[c]) for c in components]).T
    biggest = np.max(joint, axis=1)
    marginal = biggest + np.log(np.sum(np.exp(joint - biggest[:, None]), axis=1))
    return np.exp(joint - marginal[:, None]), float(np.average(marginal))


def m_step(X, resp, reg_covar=1e-6):
    effective = np.sum(resp, axis=0)
    mixing = effective / np.sum(effective)
    locations = (resp.T @ X) / effective[:, None]
    shapes = np.array([
        ((X - locations[c]).T * resp[:, c]) @ (X - locations[c]) / effective[c] for c in range(resp.shape[1])
    ])
    return mixing, locations, shapes


def fit_gmm(X, weights, means, covs, max_iter=100, tol=1e-6, reg_covar=1e-6):
    trace, previous, rounds = [], None, 0
    while rounds < max_iter:
        resp, current = e_step(X, weights, means, covs)
        trace += [current]
        weights, means, covs = m_step(X, resp, reg_covar)
        rounds += 1
        if previous is not None and abs(current - previous) < tol:
            break
        previous = current
    return weights, means, covs, trace
