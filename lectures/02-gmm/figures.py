"""Figures of lecture 2 (Gaussian mixtures and EM), made with the course's reference EM
(solutions/gmm/gmm.py) on real data: three digit classes projected to two dimensions."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from genmodels.data import digits

ROOT = Path(__file__).resolve().parents[2]
CLASSES = (0, 3, 4)  # three digit classes that separate well in two dimensions
SNAPSHOTS = (0, 2, 5, 10, 40)  # EM iterations shown


def _gmm():
    from autograder.site.figures import load_module

    return load_module(ROOT / "solutions" / "gmm" / "gmm.py", "lecture_gmm_reference")


def _data():
    """(N, 2) digits of CLASSES on their first two principal components, and their labels."""
    split = digits(binarise=False)
    keep = np.isin(split.train_labels, CLASSES)
    X = split.train[keep].reshape(keep.sum(), -1)  # (N, 64)
    X = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(X, full_matrices=False)
    points = X @ vt[:2].T  # (N, 2)
    return points / points.std(), split.train_labels[keep]


def _start(X, K=3, seed=0):
    """A deliberately poor start: all means near the centre of the data, broad components."""
    rng = np.random.default_rng(seed)
    means = X.mean(axis=0) + 0.3 * rng.normal(size=(K, 2))  # (K, 2)
    return np.full(K, 1 / K), means, np.stack([np.eye(2)] * K)


def _run_em(n_iter=max(SNAPSHOTS)):
    """Parameters after every iteration of the reference EM, and the log-likelihood history."""
    gmm = _gmm()
    X, _ = _data()
    params = [_start(X)]
    history = []
    for _ in range(n_iter):
        resp, log_likelihood = gmm.e_step(X, *params[-1])
        history.append(log_likelihood)
        params.append(gmm.m_step(X, resp))
    return X, params, history, gmm


def _ellipse(ax, mean, cov, colour):
    values, vectors = np.linalg.eigh(cov)
    angle = np.linspace(0, 2 * np.pi, 100)
    for scale in (1, 2):
        circle = np.stack([np.cos(angle), np.sin(angle)])  # (2, 100)
        curve = mean[:, None] + vectors @ (scale * np.sqrt(values)[:, None] * circle)
        ax.plot(*curve, color=colour, lw=1.5)


_CACHE = {}


def _em():
    if "em" not in _CACHE:
        _CACHE["em"] = _run_em()
    return _CACHE["em"]


def fig_em_iterations():
    """Responsibilities (colour) and components (1 and 2 standard deviations) during EM."""
    X, params, _, gmm = _em()
    colours = np.array([[0.84, 0.15, 0.16], [0.17, 0.63, 0.17], [0.12, 0.47, 0.71]])
    fig, axes = plt.subplots(1, len(SNAPSHOTS), figsize=(13, 2.9), sharex=True, sharey=True)
    for ax, t in zip(axes, SNAPSHOTS):
        weights, means, covs = params[t]
        resp, _ = gmm.e_step(X, weights, means, covs)  # (N, 3)
        ax.scatter(*X.T, s=5, c=np.clip(resp @ colours, 0, 1))
        for k in range(len(weights)):
            _ellipse(ax, means[k], covs[k], colours[k])
        ax.set_title(f"iteration {t}")
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    return fig


def fig_log_likelihood():
    """The mean log-likelihood of every E-step: EM never decreases it."""
    _, _, history, _ = _em()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(np.arange(len(history)), history, marker="o", ms=3)
    ax.set_xlabel("EM iteration")
    ax.set_ylabel("mean log-likelihood (nats)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def fig_kmeans_limit():
    """Responsibilities of one component along a line between two means, as the shared variance shrinks."""
    gmm = _gmm()
    x = np.linspace(-2, 2, 400)[:, None]  # (400, 1)
    means = np.array([[-1.0], [1.0]])
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for var in (1.0, 0.3, 0.1, 0.01):
        resp, _ = gmm.e_step(x, np.array([0.5, 0.5]), means, np.stack([np.eye(1) * var] * 2))
        ax.plot(x[:, 0], resp[:, 1], label=rf"$\sigma^2 = {var}$")
    ax.set_xlabel("x"), ax.set_ylabel(r"$r_{n2}$")
    ax.legend(frameon=False)
    ax.set_title("soft assignments become hard: k-means")
    fig.tight_layout()
    return fig
