"""Figures of lecture 2 (Gaussian mixtures and EM), made with the course's reference EM
(solutions/gmm/gmm.py) on real data: digit classes projected by PCA, and small 1-D mixtures."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from autograder.site import trained as course_models
from genmodels.data import digits

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["lectures/02-gmm/figures.py", "solutions/gmm/gmm.py"]  # what cached figure data depends on
CLASSES = (0, 3, 4)  # three digit classes that separate well in two dimensions
SNAPSHOTS = (0, 2, 5, 10, 40)  # EM iterations shown
COLOURS = np.array([[0.84, 0.15, 0.16], [0.17, 0.63, 0.17], [0.12, 0.47, 0.71]])
_CACHE = {}


def _gmm():
    return course_models.solution(ROOT, "gmm")


def _pca(X, dims):
    """(N, dims) projection of the centred rows of X on their first principal components."""
    X = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(X, full_matrices=False)
    return X @ vt[:dims].T


def _data():
    """(N, 2) digits of CLASSES on their first two principal components, and their labels."""
    split = digits(binarise=False)
    keep = np.isin(split.train_labels, CLASSES)
    points = _pca(split.train[keep].reshape(keep.sum(), -1), 2)  # (N, 2)
    return points / points.std(), split.train_labels[keep]


def _start(X, K=3, seed=0):
    """A deliberately poor start: all means near the centre of the data, broad components."""
    rng = np.random.default_rng(seed)
    means = X.mean(axis=0) + 0.3 * rng.normal(size=(K, X.shape[1]))  # (K, D)
    return np.full(K, 1 / K), means, np.stack([np.eye(X.shape[1])] * K)


def kmeans_plus_plus(X, K, rng):
    """(K, D) initial means by k-means++ (Arthur & Vassilvitskii, 2007): each new centre is a data
    point drawn with probability proportional to its squared distance to the nearest centre so far."""
    centres = [X[rng.integers(len(X))]]
    for _ in range(K - 1):
        d2 = np.min(((X[:, None, :] - np.array(centres)[None]) ** 2).sum(-1), axis=1)  # (N,)
        centres.append(X[rng.choice(len(X), p=d2 / d2.sum())])
    return np.array(centres)


def _start_from_means(X, means):
    """Equal weights, the given means, every covariance the data's covariance."""
    K = len(means)
    cov = np.cov(X.T) + 1e-6 * np.eye(X.shape[1])
    return np.full(K, 1 / K), means, np.stack([cov] * K)


def _em():
    """Parameters after every iteration of the reference EM from the poor start, and the history."""
    if "em" not in _CACHE:
        gmm = _gmm()
        X, _ = _data()
        params, history = [_start(X)], []
        for _ in range(max(SNAPSHOTS)):
            resp, log_likelihood = gmm.e_step(X, *params[-1])
            history.append(log_likelihood)
            params.append(gmm.m_step(X, resp))
        _CACHE["em"] = (X, params, history)
    return _CACHE["em"]


def _ellipse(ax, mean, cov, colour, scales=(1, 2)):
    values, vectors = np.linalg.eigh(cov)
    angle = np.linspace(0, 2 * np.pi, 100)
    for scale in scales:
        circle = np.stack([np.cos(angle), np.sin(angle)])  # (2, 100)
        curve = mean[:, None] + vectors @ (scale * np.sqrt(values)[:, None] * circle)
        ax.plot(*curve, color=colour, lw=1.5)


def fig_em_iterations():
    """Responsibilities (colour) and components (1 and 2 standard deviations) during EM."""
    X, params, _ = _em()
    gmm = _gmm()
    fig, axes = plt.subplots(1, len(SNAPSHOTS), figsize=(13, 2.9), sharex=True, sharey=True)
    for ax, t in zip(axes, SNAPSHOTS):
        weights, means, covs = params[t]
        resp, _ = gmm.e_step(X, weights, means, covs)  # (N, 3)
        ax.scatter(*X.T, s=5, c=np.clip(resp @ COLOURS, 0, 1))
        for k in range(len(weights)):
            _ellipse(ax, means[k], covs[k], COLOURS[k])
        ax.set_title(f"iteration {t}")
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    return fig


def fig_log_likelihood():
    """The mean log-likelihood of every E-step: EM never decreases it."""
    _, _, history = _em()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(np.arange(len(history)), history, marker="o", ms=3)
    ax.set_xlabel("EM iteration")
    ax.set_ylabel("mean log-likelihood (nats)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _one_d_problem():
    """1-D data from two well-separated components, and the fixed parts of a 2-component model."""
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(-1.5, 0.6, 60), rng.normal(1.5, 0.6, 40)])[:, None]  # (100, 1)
    weights, covs = np.array([0.5, 0.5]), np.stack([np.eye(1) * 0.5] * 2)
    return x, weights, covs


def fig_lower_bound():
    """log p(X | mu_1) and the bound L(q, mu_1) made tight at the current mu_1: the M-step's move."""
    gmm = _gmm()
    x, weights, covs = _one_d_problem()
    mu2 = 1.5
    grid = np.linspace(-3.5, 1.0, 300)

    def log_likelihood(mu1):
        return gmm.e_step(x, weights, np.array([[mu1], [mu2]]), covs)[1] * len(x)

    def bound(resp, mu1):  # sum_n sum_k r_nk (log pi_k N(x_n | mu_k) - log r_nk)
        means = np.array([[mu1], [mu2]])
        log_joint = np.stack([np.log(weights[k]) + gmm.log_gaussian_pdf(x, means[k], covs[k]) for k in range(2)], 1)
        return float(np.sum(resp * (log_joint - np.log(np.clip(resp, 1e-300, None)))))

    current = 0.2
    resp, _ = gmm.e_step(x, weights, np.array([[current], [mu2]]), covs)
    curve = [log_likelihood(m) for m in grid]
    lower = [bound(resp, m) for m in grid]
    best = grid[int(np.argmax(lower))]
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.plot(grid, curve, color="#173f5f", label=r"$\log p(X \mid \theta)$")
    ax.plot(grid, lower, color="#c0392b", label=r"$\mathcal{L}(q, \theta)$, $q$ from the E-step at $\theta_{old}$")
    ax.axvline(current, color="#777", ls=":")
    ax.axvline(best, color="#c0392b", ls="--")
    ax.annotate(r"$\theta_{old}$: bound touches", (current, log_likelihood(current)), xytext=(-20, -50),
                textcoords="offset points", ha="right", fontsize=9, arrowprops=dict(arrowstyle="->"))
    ax.annotate(r"$\theta_{new}$: bound's maximum", (best, bound(resp, best)), xytext=(-40, 25),
                textcoords="offset points", ha="right", fontsize=9, arrowprops=dict(arrowstyle="->"))
    ax.set_ylim(min(curve) - 5, max(curve) + 15)
    ax.set_xlabel(r"$\mu_1$ (the other parameters fixed)")
    ax.set_ylabel("nats")
    ax.legend(frameon=False, loc="lower right", fontsize=9)
    fig.tight_layout()
    return fig


def fig_label_switching():
    """The log-likelihood of a 2-component 1-D mixture over (mu_1, mu_2): two equal, mirrored maxima."""
    gmm = _gmm()
    x, _, covs = _one_d_problem()
    weights = np.array([0.6, 0.4])
    grid = np.linspace(-3, 3, 90)
    surface = course_models.cached_arrays(ROOT, "gmm-label-switching", SOURCES, grid.tolist(), lambda: {
        "surface": [[gmm.e_step(x, weights, np.array([[a], [b]]), covs)[1] for a in grid] for b in grid]})["surface"]
    fig, ax = plt.subplots(figsize=(4.6, 4))
    ax.contourf(grid, grid, np.maximum(surface, surface.max() - 4), levels=16, cmap="Blues")
    ax.plot([-3, 3], [-3, 3], color="#777", lw=0.8, ls=":")
    ax.set_xlabel(r"$\mu_1$"), ax.set_ylabel(r"$\mu_2$")
    ax.set_title("mean log-likelihood; weights 0.6 / 0.4", fontsize=10)
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


INIT_RUNS = dict(K=8, seeds=12, max_iter=40, tol=1e-4)


def _initialisation_runs():
    """Final mean log-likelihoods of EM from random data points and from k-means++ (all digits, 2-D)."""
    gmm = _gmm()
    split = digits(binarise=False)
    X = _pca(split.train.reshape(len(split.train), -1), 2)
    X = X / X.std()
    K = INIT_RUNS["K"]
    finals = {"random data points": [], "k-means++": []}
    for seed in range(INIT_RUNS["seeds"]):
        rng = np.random.default_rng(seed)
        starts = {"random data points": X[rng.choice(len(X), K, replace=False)], "k-means++": kmeans_plus_plus(X, K, rng)}
        for name, means in starts.items():
            *_, history = gmm.fit_gmm(X, *_start_from_means(X, means), max_iter=INIT_RUNS["max_iter"],
                                      tol=INIT_RUNS["tol"])
            finals[name].append(history[-1])
    return finals


def fig_initialisation():
    """Final log-likelihood of EM from random starts and from k-means++ starts: local optima differ."""
    finals = course_models.cached_arrays(ROOT, "gmm-initialisation", SOURCES, INIT_RUNS, _initialisation_runs)
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    for row, (name, values) in enumerate(finals.items()):
        ax.scatter(values, np.full(len(values), row) + np.random.default_rng(row).uniform(-0.12, 0.12, len(values)),
                   s=22, alpha=0.8, label=name)
    ax.set_yticks([0, 1], list(finals))
    ax.set_ylim(-0.6, 1.6)
    ax.set_xlabel(f"mean log-likelihood after EM (nats), K = {INIT_RUNS['K']}, {INIT_RUNS['seeds']} starts each")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def _covariance_variants(X, resp, full):
    """The M-step's covariances under the four usual constraints (full, diagonal, spherical, tied)."""
    Nk = resp.sum(0)  # (K,)
    diagonal = np.stack([np.diag(np.diag(c)) for c in full])
    spherical = np.stack([np.eye(X.shape[1]) * np.trace(c) / X.shape[1] for c in full])
    tied = np.einsum("k,kij->ij", Nk / Nk.sum(), full)  # the weighted average of the full covariances
    return {"full": full, "diag": diagonal, "spherical": spherical, "tied": np.stack([tied] * len(full))}


def fig_covariance_types():
    """The same data fitted under the four covariance constraints scikit-learn offers."""
    gmm = _gmm()
    X, _ = _data()
    params = _start(X, seed=1)
    fits = {}
    for name in ("full", "diag", "spherical", "tied"):
        weights, means, covs = params
        for _ in range(60):  # EM with the constrained M-step
            resp, _ = gmm.e_step(X, weights, means, covs)
            weights, means, full = gmm.m_step(X, resp)
            covs = _covariance_variants(X, resp, full)[name]
        fits[name] = (weights, means, covs, gmm.e_step(X, weights, means, covs)[1])
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.1), sharex=True, sharey=True)
    for ax, (name, (weights, means, covs, ll)) in zip(axes, fits.items()):
        resp, _ = gmm.e_step(X, weights, means, covs)
        ax.scatter(*X.T, s=4, c=np.clip(resp @ COLOURS, 0, 1))
        for k in range(3):
            _ellipse(ax, means[k], covs[k], COLOURS[k], scales=(2,))
        ax.set_title(f"{name}: {ll:.3f} nats/point", fontsize=10)
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    return fig


def _bic(gmm, X, K, seed=0):
    """(BIC, mean training log-likelihood, fitted parameters) of a full-covariance GMM with K components."""
    N, D = X.shape
    params = _start_from_means(X, kmeans_plus_plus(X, K, np.random.default_rng(seed)))
    weights, means, covs, history = gmm.fit_gmm(X, *params, max_iter=200, tol=1e-5, reg_covar=1e-4)
    free = (K - 1) + K * D + K * D * (D + 1) // 2
    return -2 * history[-1] * N + free * np.log(N), (weights, means, covs)


CHOOSE_K = dict(dims=5, ks=list(range(1, 16)))


def _choose_k_runs():
    gmm = _gmm()
    split = digits(binarise=False)
    train = split.train.reshape(len(split.train), -1)
    mean = train.mean(axis=0)
    _, _, vt = np.linalg.svd(train - mean, full_matrices=False)
    project = lambda images: (images.reshape(len(images), -1) - mean) @ vt[:CHOOSE_K["dims"]].T  # (N, dims)
    X, X_test = project(split.train), project(split.test)
    scale = X.std()
    X, X_test = X / scale, X_test / scale
    bics, held_out = [], []
    for K in CHOOSE_K["ks"]:
        bic, params = _bic(gmm, X, K)
        bics.append(bic)
        held_out.append(gmm.e_step(X_test, *params)[1])
    return {"bic": bics, "held_out": held_out}


def fig_choose_k():
    """Choosing K on the digits (PCA to 5-D): held-out log-likelihood and BIC of the reference EM."""
    runs = course_models.cached_arrays(ROOT, "gmm-choose-k", SOURCES, CHOOSE_K, _choose_k_runs)
    ks, bics, held_out = CHOOSE_K["ks"], runs["bic"], runs["held_out"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.3))
    axes[0].plot(ks, held_out, marker="o", ms=3, color="#2a6f97")
    axes[0].set_title("held-out mean log-likelihood (higher is better)", fontsize=10)
    axes[1].plot(ks, bics, marker="o", ms=3, color="#c0392b")
    axes[1].axvline(ks[int(np.argmin(bics))], color="#c0392b", ls=":")
    axes[1].set_title(f"BIC (lower is better): minimum at K = {ks[int(np.argmin(bics))]}", fontsize=10)
    for ax in axes:
        ax.set_xlabel("components K")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def fig_singular():
    """A component shrinking onto one data point while another covers all the data: log p grows like -log sigma."""
    x, _, _ = _one_d_problem()
    point = x[0, 0]
    sigmas = np.logspace(-1, -12, 45)
    gmm = _gmm()
    broad = np.cov(x.T).reshape(1, 1)  # the second component: one Gaussian fitted to all the data
    values = [gmm.e_step(x, np.array([0.5, 0.5]), np.array([[point], [x.mean()]]),
                         np.stack([np.eye(1) * s**2, broad]))[1] * len(x) for s in sigmas]
    fig, ax = plt.subplots(figsize=(6, 3.1))
    ax.plot(sigmas, values, color="#c0392b")
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_title("no maximum: every factor of 10 adds ln 10 = 2.3 nats", fontsize=10)
    ax.set_xlabel(r"$\sigma_1$ of the component centred on $x_1$")
    ax.set_ylabel(r"$\log p(X)$, nats")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
