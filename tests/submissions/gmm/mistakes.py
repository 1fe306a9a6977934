"""Wrong gmm submissions: mistake -> (old, new) edits of the reference, applied by tests/mutations.py."""

MISTAKES = {
    'cov_over_n': [
        (
            '@ diff / Nk[k]  # (D, D)',
            '@ diff / N  # (D, D)',
        ),
    ],
    'diagonal_covariance': [
        (
            '    L = np.linalg.cholesky(cov)',
            '    L = np.linalg.cholesky(np.diag(np.diag(cov)))',
        ),
    ],
    'half_log_det': [
        (
            'log_det = 2.0 * np.sum(',
            'log_det = np.sum(',
        ),
    ],
    'hard_assignments': [
        (
            '    N, D = X.shape\n    Nk = resp.sum(axis=0)',
            '    N, D = X.shape\n    resp = np.eye(resp.shape[1])[resp.argmax(axis=1)]\n    Nk = resp.sum(axis=0)',
        ),
    ],
    'no_2pi': [
        (
            '-0.5 * (D * np.log(2.0 * np.pi) + log_det',
            '-0.5 * (log_det',
        ),
    ],
    'no_logsumexp': [
        (
            '    log_px = logsumexp(log_joint, axis=1)  # (N,)\n    resp = np.exp(log_joint - log_px[:, None])  # (N, K)\n',
            '    joint = np.exp(log_joint)\n    px = joint.sum(axis=1)\n    log_px = np.log(px)\n    resp = joint / px[:, None]\n',
        ),
    ],
    'reg_covar_dropped': [
        (
            '        covs[k] += reg_covar * np.eye(D)\n',
            '',
        ),
    ],
    'stops_too_early': [
        (
            'abs(log_likelihood - history[-1]) < tol',
            'abs(log_likelihood - history[-1]) > tol',
        ),
    ],
    'sum_not_mean_log_likelihood': [
        (
            'float(np.mean(log_px))',
            'float(np.sum(log_px))',
        ),
    ],
    'transposed_resp': [
        (
            '    return resp, float(np.mean(log_px))',
            '    return resp.T, float(np.mean(log_px))',
        ),
    ],
    'weights_unnormalised': [
        (
            '    weights = Nk / N  # (K,)',
            '    weights = Nk  # (K,)',
        ),
    ],
    # the iteration that converges returns before its M-step (not scikit-learn's rule).
    "no_final_m_step": [
        (
            "        weights, means, covs = m_step(X, resp, reg_covar)\n"
            "        converged = bool(history) and abs(log_likelihood - history[-1]) < tol\n"
            "        history.append(log_likelihood)\n"
            "        if converged:\n"
            "            break\n",
            "        converged = bool(history) and abs(log_likelihood - history[-1]) < tol\n"
            "        history.append(log_likelihood)\n"
            "        if converged:\n"
            "            break\n"
            "        weights, means, covs = m_step(X, resp, reg_covar)\n",
        ),
    ],
}
