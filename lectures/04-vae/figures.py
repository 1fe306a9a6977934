"""Figures of lecture 4 (autoencoders, the Bayesian view and VAEs), made with the course VAE
(genmodels/vae.py) and the reference ELBO and IWAE bound (solutions/vae, solutions/iwae),
trained on the real digits."""

import math
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from genmodels.data import digits

from autograder.site import trained as course_models

ROOT = Path(__file__).resolve().parents[2]


def _solution(name):
    return course_models.solution(ROOT, name)


def trained(z_dim=16):
    """The course VAE after its fixed training budget (genmodels.vae.TrainConfig) with the reference ELBO."""
    return course_models.vae(ROOT, z_dim)


def _grid(ax_rows, images):
    for ax, image in zip(ax_rows, images):
        ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
        ax.set_axis_off()


def fig_reconstructions():
    """Held-out digits (top) and the decoder's pixel probabilities at the encoder mean (bottom)."""
    model = trained()
    x = torch.as_tensor(digits().test[:16])  # (16, 1, 8, 8)
    with torch.no_grad():
        mu, _ = model.encode(x)
        recon = torch.sigmoid(model.decode(mu))[:, 0].numpy()  # (16, 8, 8)
    fig, axes = plt.subplots(2, 16, figsize=(10, 1.6))
    _grid(axes[0], x[:, 0].numpy())
    _grid(axes[1], recon)
    fig.suptitle("held-out digits (top) and reconstructions p(x | z = mu(x)) (bottom)", fontsize=9)
    return fig


def fig_samples():
    """Decoder probabilities for z drawn from the prior N(0, I)."""
    model = trained()
    torch.manual_seed(0)
    with torch.no_grad():
        probs = torch.sigmoid(model.decode(torch.randn(48, model.config.z_dim)))[:, 0].numpy()  # (48, 8, 8)
    fig, axes = plt.subplots(3, 16, figsize=(10, 2.1))
    _grid(axes.flat, probs)
    fig.suptitle("samples: z ~ N(0, I), pixel probabilities of p(x | z)", fontsize=9)
    return fig


def fig_latent_space():
    """A VAE with a 2-D latent space: encoder means of held-out digits, coloured by label."""
    model = trained(z_dim=2)
    split = digits()
    with torch.no_grad():
        mu, _ = model.encode(torch.as_tensor(split.test))  # (N, 2)
        grid = torch.linspace(-2.5, 2.5, 9)
        z = torch.stack(torch.meshgrid(grid, -grid, indexing="xy"), dim=-1).reshape(-1, 2)  # (81, 2)
        tiles = torch.sigmoid(model.decode(z))  # (81, 1, 8, 8), row by row from the top left
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.3))
    points = axes[0].scatter(*mu.numpy().T, c=split.test_labels, cmap="tab10", s=10)
    axes[0].legend(*points.legend_elements(), fontsize=7, ncol=2, frameon=False, loc="upper right")
    axes[0].set_title("encoder means of held-out digits")
    from torchvision.utils import make_grid

    mosaic = make_grid(tiles, nrow=9, padding=1, pad_value=0.0)[0].numpy()  # (82, 82)
    axes[1].imshow(mosaic, cmap="gray_r", vmin=0, vmax=1, extent=(-2.8, 2.8, -2.8, 2.8))
    axes[1].set_title("decoder over a grid of z")
    fig.tight_layout()
    return fig


def fig_bounds():
    """Held-out ELBO and importance-weighted bounds for k = 1, 5, 50 (higher is tighter)."""
    model = trained()
    ref, iwae = _solution("vae"), _solution("iwae")
    x = torch.as_tensor(digits().test)  # (N, 1, 8, 8)
    torch.manual_seed(0)
    bounds = {}
    with torch.no_grad():
        mu, logvar = model.encode(x)  # (N, D)
        std = torch.exp(0.5 * logvar)
        for k in (1, 5, 50):
            z = mu + std * torch.randn(k, *mu.shape)  # (k, N, D)
            logits = model.decode(z.reshape(-1, mu.shape[1])).reshape(k, *x.shape)  # (k, N, 1, 8, 8)
            log_px = torch.stack([ref.bernoulli_log_likelihood(x, logits[i]) for i in range(k)])  # (k, N)
            log_pz = -0.5 * (z**2 + math.log(2 * math.pi)).sum(-1)  # (k, N)
            log_qz = -0.5 * (((z - mu) / std) ** 2 + logvar + math.log(2 * math.pi)).sum(-1)  # (k, N)
            bounds[k] = float(iwae.iwae_bound(log_px, log_pz, log_qz).mean())
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ks, values = list(bounds), list(bounds.values())
    ax.plot(ks, values, marker="o", color="#2a6f97")
    ax.set_xscale("log")
    ax.set_xticks(ks, [str(k) for k in ks])
    for k, value in bounds.items():
        ax.annotate(f"{value:.2f}", (k, value), textcoords="offset points", xytext=(0, 8), ha="center", fontsize=9)
    ax.set_xlabel("importance samples k")
    ax.grid(alpha=0.3)
    ax.set_ylabel("mean bound on log p(x), nats")
    ax.set_title("held-out digits: k = 1 is the ELBO")
    fig.tight_layout()
    return fig
