"""Figures of lecture 1 (What are generative models?). Each fig_<name>() -> figures/<name>.png."""

import matplotlib.pyplot as plt
import numpy as np

from genmodels.data import digits


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
    X = split.train.reshape(len(split.train), -1)  # (N, 64)
    X = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(X, full_matrices=False)
    points = X @ vt[:2].T  # (N, 2): the first two principal components
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
