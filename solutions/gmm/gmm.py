"""EM for a Gaussian mixture model, in NumPy.

A mixture of K Gaussians in D dimensions has weights pi (K,), means mu (K, D) and
covariances Sigma (K, D, D). EM alternates two steps from a given start:

- E-step: responsibilities r_nk = p(z_n = k | x_n), computed in log space;
- M-step: the weights, means and covariances that maximise the expected
  complete-data log-likelihood under those responsibilities.

Fill in the four functions below. Work in log space wherever probabilities of
far-away points could underflow.
"""

import numpy as np
from scipy.special import logsumexp


def log_gaussian_pdf(X, mean, cov):
    """Log-density of a multivariate Gaussian at every row of X.

    Inputs:
        X:    (N, D) data points.
        mean: (D,) mean of the Gaussian.
        cov:  (D, D) symmetric positive-definite covariance.
    Returns:
        (N,) array with log N(x_n | mean, cov) for each row x_n.
    """
    # BEGIN SOLUTION
    from scipy.linalg import solve_triangular

    X = np.asarray(X, dtype=float)
    D = X.shape[1]
    L = np.linalg.cholesky(cov)  # cov = L L^T, (D, D)
    diff = X - mean  # (N, D)
    # (x - mean)^T cov^-1 (x - mean) = |L^-1 (x - mean)|^2. Solve for L^-1 once (a (D, D) triangular
    # solve, cheap); applying it to all N points is then one matrix product.
    L_inv = solve_triangular(L, np.eye(D), lower=True)  # (D, D), lower triangular
    y = diff @ L_inv.T  # (N, D), row n is L^-1 (x_n - mean)
    mahalanobis = np.einsum("nd,nd->n", y, y)  # (N,) squared length of each row
    log_det = 2.0 * np.sum(np.log(np.diag(L)))  # log |cov|
    return -0.5 * (D * np.log(2.0 * np.pi) + log_det + mahalanobis)
    # END SOLUTION


def e_step(X, weights, means, covs):
    """E-step: responsibilities and the mean log-likelihood of the data.

    Inputs:
        X:       (N, D) data points.
        weights: (K,) mixture weights, non-negative, summing to 1.
        means:   (K, D) component means.
        covs:    (K, D, D) component covariances.
    Returns:
        resp: (N, K) responsibilities; each row sums to 1, finite even for
              points far from every component.
        mean_log_likelihood: float, (1/N) sum_n log p(x_n).
    """
    # BEGIN SOLUTION
    K = len(weights)
    # log pi_k + log N(x_n | mu_k, Sigma_k), stacked one component per row and transposed to (N, K): each
    # component's column stays contiguous in memory, which makes the sums over k below (and the M-step's
    # resp[:, k]) faster than rows of K numbers would.
    log_joint = np.stack(
        [np.log(weights[k]) + log_gaussian_pdf(X, means[k], covs[k]) for k in range(K)]
    ).T  # (N, K)
    log_px = logsumexp(log_joint, axis=1)  # (N,)
    resp = np.exp(log_joint - log_px[:, None])  # (N, K)
    return resp, float(np.mean(log_px))
    # END SOLUTION


def m_step(X, resp, reg_covar=1e-6):
    """M-step: maximum-likelihood parameters under the responsibilities.

    Inputs:
        X:         (N, D) data points.
        resp:      (N, K) responsibilities, rows summing to 1.
        reg_covar: float added to the diagonal of every covariance, so that
                   none becomes singular (a component on a single point).
    Returns:
        weights: (K,) summing to 1.
        means:   (K, D).
        covs:    (K, D, D), each with reg_covar added to its diagonal.
    """
    # BEGIN SOLUTION
    N, D = X.shape
    Nk = resp.sum(axis=0)  # (K,) effective number of points per component
    weights = Nk / N  # (K,)
    means = (resp.T @ X) / Nk[:, None]  # (K, D)
    covs = np.empty((len(Nk), D, D))
    for k in range(len(Nk)):
        diff = X - means[k]  # (N, D)
        covs[k] = (resp[:, k, None] * diff).T @ diff / Nk[k]  # (D, D)
        covs[k] += reg_covar * np.eye(D)
    return weights, means, covs
    # END SOLUTION


def fit_gmm(X, weights, means, covs, max_iter=100, tol=1e-6, reg_covar=1e-6):
    """Run EM from the given start.

    Iteration t = 1, 2, ..., max_iter:
      1. E-step on the current parameters; append its mean log-likelihood l_t
         to history;
      2. M-step (always, also in the iteration that stops);
      3. stop if t >= 2 and |l_t - l_(t-1)| < tol.
    So history has one entry per iteration, and the parameters returned come
    from the last M-step (their own log-likelihood is not computed). This is
    scikit-learn's GaussianMixture rule, fed the same start.

    Inputs:
        X:        (N, D) data points.
        weights:  (K,) initial weights.
        means:    (K, D) initial means.
        covs:     (K, D, D) initial covariances.
        max_iter: int, the most EM iterations to run.
        tol:      float, convergence threshold on the change in log-likelihood.
        reg_covar: float, passed to the M-step.
    Returns:
        weights (K,), means (K, D), covs (K, D, D) after the last M-step, and
        history: list of floats, the mean log-likelihood of every E-step.
    """
    # BEGIN SOLUTION
    history = []
    for _ in range(max_iter):
        resp, log_likelihood = e_step(X, weights, means, covs)
        weights, means, covs = m_step(X, resp, reg_covar)
        converged = bool(history) and abs(log_likelihood - history[-1]) < tol
        history.append(log_likelihood)
        if converged:
            break
    return weights, means, covs, history
    # END SOLUTION
