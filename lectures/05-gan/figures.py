"""Figures of lecture 5 (GANs and DCGAN), made with the course GAN (genmodels/gan.py) and the
reference training step (solutions/gan/gan.py): the 2-D ring of Gaussians and the real digits."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from genmodels import gan
from genmodels.data import digits, ring_centres, ring_of_gaussians

ROOT = Path(__file__).resolve().parents[2]
_CACHE = {}


def reference():
    from autograder.site.figures import load_module

    if "ref" not in _CACHE:
        _CACHE["ref"] = load_module(ROOT / "solutions" / "gan" / "gan.py", "lecture_gan_reference")
    return _CACHE["ref"]


def fig_optimal_discriminator():
    """For a fixed generator the best discriminator is p_data / (p_data + p_g)."""
    x = np.linspace(-4, 6, 400)
    normal = lambda m, s: np.exp(-0.5 * ((x - m) / s) ** 2) / (s * np.sqrt(2 * np.pi))
    p_data = 0.5 * normal(-1, 0.6) + 0.5 * normal(1.5, 0.8)
    p_g = normal(2.5, 1.2)
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.plot(x, p_data, label=r"$p_{data}$", color="#173f5f")
    ax.plot(x, p_g, label=r"$p_g$", color="#c0392b")
    ax.plot(x, p_data / (p_data + p_g), "--", label=r"$D^*(x)$", color="#555")
    ax.legend(frameon=False)
    ax.set_xlabel("x")
    fig.tight_layout()
    return fig


def fig_saturation():
    """The generator losses and their gradients as functions of the discriminator's logit on a fake.

    As a function of D itself, log(1 - D) has slope -1 at D = 0: it is not flat there. What vanishes
    is the gradient with respect to the logit l (D = sigmoid(l)), through which every gradient reaches
    the generator: d/dl log(1 - sigmoid(l)) = -sigmoid(l) -> 0 as l -> -inf, while the non-saturating
    loss -log sigmoid(l) has gradient sigmoid(l) - 1 -> -1.
    """
    logit = np.linspace(-8, 4, 400)
    d = 1 / (1 + np.exp(-logit))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    axes[0].plot(logit, np.log1p(-d), label=r"minimax: $\log(1 - \sigma(\ell))$", color="#c0392b")
    axes[0].plot(logit, -np.log(d), label=r"non-saturating: $-\log \sigma(\ell)$", color="#2a6f97")
    axes[0].set_ylabel("generator loss (minimised)")
    axes[0].set_ylim(-5, 9)
    axes[1].plot(logit, -d, label=r"$\partial_\ell \log(1 - \sigma(\ell)) = -\sigma(\ell)$", color="#c0392b")
    axes[1].plot(logit, d - 1, label=r"$\partial_\ell\,[-\log \sigma(\ell)] = \sigma(\ell) - 1$", color="#2a6f97")
    axes[1].set_ylabel("gradient with respect to the logit")
    for ax in axes:
        ax.axvspan(-8, -3, color="#eee")
        ax.set_xlabel(r"discriminator logit $\ell$ on a fake ($D = \sigma(\ell)$)")
        ax.legend(frameon=False, fontsize=8, loc="upper right" if ax is axes[0] else "center left")
        ax.grid(alpha=0.3)
    axes[1].text(-7.8, -0.2, "early training:\nD rejects the fakes", fontsize=8)
    fig.tight_layout()
    return fig


def fig_ring():
    """The course GAN on the ring of 8 Gaussians: data, samples, discriminator and losses."""
    smoke = gan.SMOKE
    data = ring_of_gaussians(smoke.n_data, std=smoke.ring_std, seed=0)
    generator, discriminator, history = gan.train_gan(reference().gan_train_step, data, smoke.model, smoke.train)
    samples = gan.sample(generator, 1000, smoke.model.z_dim, seed=1)
    score = gan.score_modes(samples, ring_centres(), radius=gan.SMOKE.score_radius)
    grid = np.linspace(-3, 3, 100, dtype=np.float32)
    gx, gy = np.meshgrid(grid, grid)
    with torch.no_grad():
        logits = discriminator(torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1)))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    axes[0].contourf(gx, gy, torch.sigmoid(logits).reshape(gx.shape).numpy(), levels=12, cmap="Greys", alpha=0.6)
    axes[0].scatter(*data[:1000].T, s=3, color="#173f5f", label="data")
    axes[0].scatter(*samples.T, s=3, color="#c0392b", label="generator")
    axes[0].set_aspect("equal")
    axes[0].legend(frameon=False, loc="upper right", fontsize=8)
    axes[0].set_title(f"after {len(history)} steps: {score.modes_covered} of 8 modes covered (grey: D)", fontsize=10)
    d_loss, g_loss = np.array(history).T
    axes[1].plot(d_loss, label="discriminator loss", color="#173f5f", lw=1)
    axes[1].plot(g_loss, label="generator loss (non-saturating)", color="#c0392b", lw=1)
    axes[1].set_xlabel("step")
    axes[1].legend(frameon=False)
    axes[1].set_title("losses oscillate: a game, not a minimisation", fontsize=10)
    fig.tight_layout()
    return fig


def fig_digit_samples():
    """An MLP GAN trained with the reference step on the real digits (grey levels in [-1, 1])."""
    data = digits(binarise=False).train.reshape(-1, 64) * 2 - 1  # (N, 64)
    config = gan.MLPGANConfig(data_dim=64, z_dim=16, hidden=128, layers=2)
    train = gan.TrainConfig(steps=800, batch=64, lr=1e-3, betas=(0.5, 0.999))
    generator, _, _ = gan.train_gan(reference().gan_train_step, data, config, train, seed=0)
    samples = gan.sample(generator, 48, config.z_dim, seed=2).reshape(-1, 8, 8)  # (48, 8, 8)
    fig, axes = plt.subplots(3, 16, figsize=(10, 2.1))
    for ax, image in zip(axes.flat, samples):
        ax.imshow(np.clip((image + 1) / 2, 0, 1), cmap="gray_r", vmin=0, vmax=1)
        ax.set_axis_off()
    fig.suptitle("GAN samples on the 8x8 digits (MLP generator and discriminator, 800 steps)", fontsize=9)
    return fig
