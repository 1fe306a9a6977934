"""Figures of lecture 1 (What are generative models?), made on the real digits of scikit-learn with
the course's simplest model (independent Bernoulli pixels, autograder/site/trained.py) and small
density estimates. Each fig_<name>() -> figures/<name>.png."""

import math

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import logsumexp

from autograder.site import trained as course_models
from genmodels.data import digits


def _pca2(split):
    """Train and test digits (grey levels) on the first two principal components of the training set."""
    train = split.train.reshape(len(split.train), -1)
    test = split.test.reshape(len(split.test), -1)
    mean = train.mean(axis=0)
    _, _, vt = np.linalg.svd(train - mean, full_matrices=False)
    return (train - mean) @ vt[:2].T, (test - mean) @ vt[:2].T  # (N, 2) each


def fig_digits():
    """A grid of real training digits, binarised as the course uses them."""
    images = digits().train[:60, 0]  # (60, 8, 8)
    fig, axes = plt.subplots(4, 15, figsize=(9, 2.6))
    for ax, image in zip(axes.flat, images):
        ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
        ax.set_axis_off()
    fig.suptitle("Binarised 8×8 digits (scikit-learn), 1,438 for training", fontsize=10)
    return fig


def fig_density():
    """Fit a density to a 2-D projection of the digits, then sample from it."""
    from scipy.stats import gaussian_kde

    split = digits(binarise=False)
    points, _ = _pca2(split)
    kde = gaussian_kde(points.T, bw_method=0.25)
    grid = np.linspace(points.min() - 0.5, points.max() + 0.5, 120)
    gx, gy = np.meshgrid(grid, grid)
    density = kde(np.stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
    samples = kde.resample(400, seed=0).T  # (400, 2)

    fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharex=True, sharey=True)
    axes[0].scatter(*points.T, s=4, c=split.train_labels, cmap="tab10")
    axes[0].set_title("data: digits projected to 2-D (colour = label)")
    axes[1].contourf(gx, gy, density, levels=14, cmap="Blues")
    axes[1].scatter(*samples.T, s=4, c="#c0392b")
    axes[1].set_title(r"model $p_\theta(x)$ (contours) and samples (red)")
    for ax in axes:
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    return fig


def fig_independent_pixels():
    """The maximum-likelihood independent-Bernoulli model: its pixel probabilities and its samples."""
    theta = course_models.pixel_marginals()[0]  # (8, 8)
    test = digits().test
    log_p = (test * np.log(theta) + (1 - test) * np.log1p(-theta)).reshape(len(test), -1).sum(1)
    samples = np.random.default_rng(0).random((24, 8, 8)) < theta  # (24, 8, 8)
    fig = plt.figure(figsize=(10, 2.8))
    grid = fig.add_gridspec(3, 12)
    ax = fig.add_subplot(grid[:, :3])
    ax.imshow(theta, cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(r"$\hat{\theta}_i$: share of digits with pixel $i$ on", fontsize=9)
    ax.set_axis_off()
    for k, image in enumerate(samples[:18]):
        a = fig.add_subplot(grid[k // 6, 4 + k % 6 + (k % 6 >= 6)])
        a.imshow(image, cmap="gray_r", vmin=0, vmax=1)
        a.set_axis_off()
    fig.text(0.63, 0.95, f"samples: held-out log-likelihood {log_p.mean():.1f} nats per digit", ha="center", fontsize=9)
    return fig


def fig_generative_classifier():
    """Bayes' rule turns class-conditional generative models into a classifier (naive Bayes on the digits)."""
    split = digits()
    train, test = split.train.reshape(len(split.train), -1), split.test.reshape(len(split.test), -1)
    theta = np.stack([(train[split.train_labels == c].sum(0) + 1) / ((split.train_labels == c).sum() + 2)
                      for c in range(10)])  # (10, 64): p(x_i = 1 | y = c)
    prior = np.bincount(split.train_labels, minlength=10) / len(train)
    log_joint = test @ np.log(theta).T + (1 - test) @ np.log1p(-theta).T + np.log(prior)  # (N, 10)
    accuracy = np.mean(log_joint.argmax(1) == split.test_labels)
    fig, axes = plt.subplots(2, 5, figsize=(6.4, 4.4))
    for c, ax in enumerate(axes.flat):
        ax.imshow(theta[c].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"p(x | y = {c})", fontsize=9)
        ax.set_axis_off()
    fig.suptitle(f"one independent-pixel model per class; Bayes' rule classifies\nheld-out digits with "
                 f"{accuracy:.0%} accuracy", fontsize=10)
    fig.tight_layout()
    return fig


def fig_kl_directions():
    """Fitting one Gaussian to a two-mode density: forward KL covers both modes, reverse KL picks one."""
    x = np.linspace(-6, 6, 1201)
    dx = x[1] - x[0]
    normal = lambda m, s: np.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
    p = 0.5 * normal(-2, 0.6) + 0.5 * normal(2, 0.6)
    # KL(p || q) is minimised by matching the mean and variance of p (moment matching).
    mean = np.sum(x * p) * dx
    forward = normal(mean, math.sqrt(np.sum((x - mean) ** 2 * p) * dx))
    # KL(q || p): search a grid of means and widths.
    best, reverse = np.inf, None
    for m in np.linspace(-3, 3, 121):
        for s in np.linspace(0.3, 3, 55):
            q = normal(m, s)
            value = np.sum(q * (np.log(q + 1e-300) - np.log(p + 1e-300))) * dx
            if value < best:
                best, reverse = value, q
    fig, axes = plt.subplots(1, 2, figsize=(10, 3), sharey=True)
    for ax, q, title in ((axes[0], forward, r"minimise KL$(p \| q)$: maximum likelihood, covers both modes"),
                         (axes[1], reverse, r"minimise KL$(q \| p)$: locks onto one mode")):
        ax.fill_between(x, p, color="#173f5f", alpha=0.25, label="p (data)")
        ax.plot(x, q, color="#c0392b", lw=2, label="q (one Gaussian)")
        ax.set_title(title, fontsize=10)
        ax.legend(frameon=False, fontsize=8)
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def fig_overfitting():
    """A kernel density estimate of 2-D digits: training likelihood keeps rising as the bandwidth shrinks,
    held-out likelihood peaks and falls. Maximum likelihood on training data alone memorises."""
    split = digits(binarise=False)
    train, test = _pca2(split)
    scale = train.std()
    train, test = train / scale, test / scale
    widths = np.logspace(-2.3, 0.3, 16)

    squared = {"training points": ((train[:, None] - train[None]) ** 2).sum(-1),  # (N, N)
               "held-out points": ((test[:, None] - train[None]) ** 2).sum(-1)}  # (M, N)

    def mean_log_density(d2, h):  # Gaussian kernels of width h on the training points, in 2-D
        return np.mean(logsumexp(-d2 / (2 * h * h), axis=1) - math.log(d2.shape[1]) - math.log(2 * math.pi * h * h))

    curves = {name: [mean_log_density(d2, h) for h in widths] for name, d2 in squared.items()}
    fig, ax = plt.subplots(figsize=(6.5, 3.3))
    for name, values in curves.items():
        ax.plot(widths, values, marker="o", ms=3, label=name)
    best = widths[int(np.argmax(curves["held-out points"]))]
    ax.axvline(best, color="#777", ls=":")
    ax.set_xscale("log")
    ax.set_xlabel("bandwidth h of the kernel density estimate")
    ax.set_ylabel("mean log-likelihood, nats")
    ax.set_ylim(-6, 6)
    ax.legend(frameon=False)
    ax.set_title(f"held-out likelihood peaks at h = {best:.2f}; the training likelihood only grows", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def fig_families():
    """The map of model families used as the course's thread."""
    fig, ax = plt.subplots(figsize=(9, 3.4))
    ax.set_axis_off()
    boxes = [
        (0.5, 0.85, "Generative models\nfit $p_\\theta(x)$ by (approximate) maximum likelihood, or not at all", "#dfe9f1"),
        (0.17, 0.35, "explicit, tractable\nmixtures (ch. 2)\nauto-regressive (ch. 3)", "#e6f2e1"),
        (0.5, 0.35, "explicit, approximate\nlatent variables + ELBO\nVAE (ch. 4)", "#fbf1d9"),
        (0.83, 0.35, "implicit\nsampler only\nGAN (ch. 5)", "#f6e0df"),
    ]
    for x, y, text, colour in boxes:
        ax.text(x, y, text, ha="center", va="center", fontsize=11,
                bbox=dict(boxstyle="round,pad=0.6", fc=colour, ec="#555"))
    for x in (0.17, 0.5, 0.83):
        ax.annotate("", xy=(x, 0.52), xytext=(0.5, 0.7), arrowprops=dict(arrowstyle="->", color="#555"))
    ax.set_xlim(0, 1), ax.set_ylim(0.1, 1)
    return fig
