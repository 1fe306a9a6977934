"""Figures of lecture 5 (GANs and DCGAN), made with the course GAN (genmodels/gan.py), the reference
training step (solutions/gan/gan.py) and the reference DCGAN blocks (solutions/dcgan/dcgan.py):
the 2-D ring of Gaussians and the real digits. Trained models are cached under build/."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from autograder.site import trained as course_models
from genmodels import gan
from genmodels.data import digits, ring_centres

ROOT = Path(__file__).resolve().parents[2]


def _images(ax_grid, images):
    for ax, image in zip(ax_grid, images):
        ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
        ax.set_axis_off()


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
    from genmodels.data import ring_of_gaussians

    smoke = gan.SMOKE
    data = ring_of_gaussians(smoke.n_data, std=smoke.ring_std, seed=0)
    generator, discriminator, history = course_models.ring_gan(ROOT)
    samples = gan.sample(generator, 1000, smoke.model.z_dim, seed=1)
    score = gan.score_modes(samples, ring_centres(), radius=smoke.score_radius)
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
    d_loss, g_loss = np.asarray(history).T
    axes[1].plot(d_loss, label="discriminator loss", color="#173f5f", lw=1)
    axes[1].plot(g_loss, label="generator loss (non-saturating)", color="#c0392b", lw=1)
    axes[1].axhline(2 * np.log(2), color="#777", ls=":", lw=0.8)
    axes[1].text(len(history) * 0.6, 2 * np.log(2) + 0.05, "log 4: D guessing", fontsize=8, color="#555")
    axes[1].set_xlabel("step")
    axes[1].legend(frameon=False)
    axes[1].set_title("losses oscillate: a game, not a minimisation", fontsize=10)
    fig.tight_layout()
    return fig


def fig_disjoint_supports():
    """Two distributions on parallel lines (Arjovsky et al., 2017): JS is log 2 for every offset, W1 = |theta|."""
    theta = np.linspace(-1, 1, 401)
    js = np.where(np.abs(theta) < 1e-9, 0.0, np.log(2))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    ax = axes[0]
    for x, colour, label in ((0.0, "#173f5f", r"$P_0$: $(0, u)$"), (0.6, "#c0392b", r"$P_\theta$: $(\theta, u)$")):
        ax.plot([x, x], [0, 1], color=colour, lw=3, label=label)
    ax.annotate("", (0.6, 0.5), (0, 0.5), arrowprops=dict(arrowstyle="<->", color="#555"))
    ax.text(0.3, 0.55, r"$\theta$", ha="center")
    ax.set_xlim(-0.5, 1.1), ax.set_ylim(-0.1, 1.1)
    ax.set_title(r"$u \sim U[0, 1]$: the supports never overlap for $\theta \neq 0$", fontsize=10)
    ax.legend(frameon=False, loc="lower right")
    ax = axes[1]
    ax.plot(theta, js, color="#c0392b", label="JS divergence")
    ax.plot(theta, np.abs(theta), color="#2a6f97", label=r"Wasserstein-1 $= |\theta|$")
    ax.plot([0], [0], "o", color="#c0392b", ms=4)
    ax.set_xlabel(r"$\theta$")
    ax.set_title("JS is flat: no gradient toward the data", fontsize=10)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _as_binary_images(samples):
    """GAN outputs in [-1, 1] -> (N, 1, 8, 8) binary images (grey level >= 1/2, the course's binarisation)."""
    return torch.as_tensor((np.asarray(samples).reshape(-1, 1, 8, 8) >= 0).astype(np.float32))


def dcgan_samples(n, seed=2):
    """(n, 8, 8) grey-level samples of the cached reference DCGAN, in [0, 1]."""
    generator, _ = course_models.dcgan(ROOT)
    z = torch.randn(n, course_models.DCGANBudget().z_dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return ((generator(z)[:, 0] + 1) / 2).clamp(0, 1).numpy()


def mlp_gan_samples(n, seed=2):
    """(n, 8, 8) grey-level samples of the cached MLP GAN on the digits, in [0, 1]."""
    generator = course_models.digit_gan(ROOT)
    samples = gan.sample(generator, n, course_models.DigitGAN().z_dim, seed=seed)  # (n, 64) in [-1, 1]
    return np.clip((samples.reshape(-1, 8, 8) + 1) / 2, 0, 1)


def fig_digit_samples():
    """An MLP GAN trained with the reference step on the real digits (grey levels in [-1, 1])."""
    samples = mlp_gan_samples(48)
    fig, axes = plt.subplots(3, 16, figsize=(10, 2.1))
    _images(axes.flat, samples)
    budget = course_models.DigitGAN()
    fig.suptitle(f"MLP GAN samples on the 8x8 digits ({budget.layers} hidden layers of {budget.hidden}, "
                 f"{budget.steps} steps)", fontsize=9)
    return fig


def fig_transposed_convolution():
    """How many kernel taps reach each output pixel of a stride-2 transposed convolution."""
    fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.6))
    for ax, kernel in zip(axes, (4, 3)):
        padding = 1
        out = torch.nn.functional.conv_transpose2d(torch.ones(1, 1, 4, 4), torch.ones(1, 1, kernel, kernel),
                                                   stride=2, padding=padding)[0, 0].numpy()
        ax.imshow(out, cmap="Blues", vmin=0, vmax=4.5)
        for (i, j), value in np.ndenumerate(out):
            ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=8)
        size = (4 - 1) * 2 - 2 * padding + kernel
        ax.set_title(f"kernel {kernel}, stride 2, padding 1: 4x4 -> {size}x{size}", fontsize=10)
        ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle("taps per output pixel: even with kernel 4 (as in DCGAN), a checkerboard with kernel 3", fontsize=10)
    fig.tight_layout()
    return fig


def fig_dcgan():
    """Samples of the reference DCGAN (exercise dcgan) trained with the reference step (exercise gan), and its losses."""
    _, history = course_models.dcgan(ROOT)
    budget = course_models.DCGANBudget()
    samples = dcgan_samples(40)
    fig = plt.figure(figsize=(11, 3.6))
    grid = fig.add_gridspec(4, 16)
    for i, image in enumerate(samples):
        ax = fig.add_subplot(grid[i // 10, i % 10])
        ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
        ax.set_axis_off()
    ax = fig.add_subplot(grid[:, 11:])
    d_loss, g_loss = np.asarray(history).T
    smooth = lambda v: np.convolve(v, np.ones(25) / 25, mode="valid")
    ax.plot(smooth(d_loss), label="discriminator", color="#173f5f", lw=1)
    ax.plot(smooth(g_loss), label="generator (non-saturating)", color="#c0392b", lw=1)
    ax.set_xlabel("step")
    ax.set_title("losses (moving average of 25)", fontsize=9)
    ax.legend(frameon=False, fontsize=8)
    fig.suptitle(f"reference DCGAN on the digits: {budget.steps} steps, Adam lr {budget.lr:g}, "
                 f"beta1 {budget.betas[0]}, batch {budget.batch}", fontsize=10)
    return fig


def fig_interpolation():
    """DCGAN outputs along straight lines between random codes: the generator's map is smooth."""
    generator, _ = course_models.dcgan(ROOT)
    z_dim = course_models.DCGANBudget().z_dim
    ends = torch.randn(4, 2, z_dim, generator=torch.Generator().manual_seed(7))  # (rows, 2, z_dim)
    t = torch.linspace(0, 1, 10)[:, None]
    fig, axes = plt.subplots(4, 10, figsize=(8, 3.4))
    for row in range(4):
        z = (1 - t) * ends[row, 0] + t * ends[row, 1]  # (10, z_dim)
        with torch.no_grad():
            images = ((generator(z)[:, 0] + 1) / 2).clamp(0, 1).numpy()
        _images(axes[row], images)
    fig.suptitle("each row: G((1 - t) z_a + t z_b) for t from 0 to 1", fontsize=9)
    return fig


def _class_shares(images):
    """Share of each digit class among binary images (N, 1, 8, 8), by the course's digit classifier."""
    classifier = course_models.digit_classifier(ROOT)
    with torch.no_grad():
        classes = classifier(images).argmax(1).numpy()
    return np.bincount(classes, minlength=10) / len(classes)


def fig_mode_diagnostics():
    """Mode collapse diagnostics on the digits: the class mix of samples, and nearest training digits."""
    split = digits()
    data_shares = _class_shares(torch.as_tensor(split.test))
    shares = {"held-out digits": data_shares,
              "MLP GAN": _class_shares(_as_binary_images(mlp_gan_samples(2000) * 2 - 1)),
              "DCGAN": _class_shares(_as_binary_images(dcgan_samples(2000) * 2 - 1))}
    fig = plt.figure(figsize=(11, 3.8))
    grid = fig.add_gridspec(2, 2, width_ratios=[3, 2])
    ax = fig.add_subplot(grid[:, 0])
    width = 0.27
    for i, (name, value) in enumerate(shares.items()):
        ax.bar(np.arange(10) + (i - 1) * width, value, width, label=name)
    ax.set_xticks(np.arange(10))
    ax.set_xlabel("class assigned by a digit classifier")
    ax.set_ylabel("share of images")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("a collapsed generator would pile onto a few classes", fontsize=10)
    samples = dcgan_samples(6, seed=11)  # (6, 8, 8)
    train = digits(binarise=False).train[:, 0]  # (N, 8, 8) in [0, 1]
    nearest = [train[np.argmin(((train - s) ** 2).sum((1, 2)))] for s in samples]
    sub = grid[:, 1].subgridspec(2, 6)
    for i in range(6):
        for row, image in enumerate((samples[i], nearest[i])):
            a = fig.add_subplot(sub[row, i])
            a.imshow(image, cmap="gray_r", vmin=0, vmax=1)
            a.set_axis_off()
    fig.text(0.78, 0.93, "DCGAN samples (top), nearest training digit (bottom)", ha="center", fontsize=9)
    fig.tight_layout()
    return fig
