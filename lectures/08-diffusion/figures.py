"""Figures of the diffusion lecture, made with the course denoiser (genmodels/diffusion.py) and the
reference DDPM functions (solutions/diffusion/diffusion.py): the 2-D ring of 8 Gaussians and the binarised
digits (the digits model is shared with the evaluation lecture and cached by autograder/site/trained.py)."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from genmodels.data import digits, ring_centres, ring_of_gaussians
from genmodels.diffusion import SMOKE, MixtureDenoiser, cosine_beta_schedule, new_model, train_denoiser

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 3.2
_CACHE = {}


def reference():
    """The reference solution module solutions/diffusion/diffusion.py (imported once)."""
    from autograder.site.trained import solution

    return solution(ROOT, "diffusion")


def ring_schedule():
    """The autograder's ring schedule: T = 100 steps of the cosine schedule, and alpha_bar."""
    betas = torch.as_tensor(cosine_beta_schedule(SMOKE.steps), dtype=torch.float32)
    return betas, torch.cumprod(1 - betas, dim=0)


def ring_data(n=4096):
    return ring_of_gaussians(n, std=SMOKE.ring_std, seed=0)


def ring_model():
    """The course denoiser trained with the reference loss on the ring (the autograder's budget), once per build."""
    if "ring" not in _CACHE:
        _, alphas_cumprod = ring_schedule()
        _CACHE["ring"] = train_denoiser(new_model(SMOKE.model, seed=0), ring_data(), reference().ddpm_loss,
                                        alphas_cumprod, SMOKE.train)
    return _CACHE["ring"]


def exact_model(centres=None, weights=None):
    _, alphas_cumprod = ring_schedule()
    centres = ring_centres() if centres is None else centres
    return MixtureDenoiser(centres, SMOKE.ring_std, alphas_cumprod.double().numpy(), weights)


def digit_model():
    """(denoiser, betas): an MLP DDPM of the binarised digits in {-1, 1}, trained once and cached."""
    from autograder.site import trained

    return trained.digit_diffusion(ROOT)


def _square(ax, title=None):
    ax.set_xlim(-LIMIT, LIMIT)
    ax.set_ylim(-LIMIT, LIMIT)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


def _digit_row(axes, images):
    for ax, image in zip(axes, images):
        ax.imshow(np.clip((image.reshape(8, 8) + 1) / 2, 0, 1), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])


def ddim_sample(model, n, alphas_cumprod, steps, seed=0, path=None):
    """DDIM's deterministic sampler (eta = 0) on `steps` evenly spaced steps, from seeded N(0, I) noise (2-D).

    The predicted x0 is clipped to the plotted square, as DDPM/DDIM implementations clip to the data range:
    at the noisiest steps ᾱ_t is nearly 0 and dividing by its root amplifies any error of a trained model.
    With `path` a list, every intermediate x is appended to it.
    """
    ab = alphas_cumprod.double()
    times = np.linspace(len(ab) - 1, 0, steps).round().astype(int)
    x = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    with torch.no_grad():
        for i, t in enumerate(times):
            if path is not None:
                path.append(x.numpy())
            eps = model(x.float(), torch.full((n,), int(t))).double()
            x0 = ((x - torch.sqrt(1 - ab[t]) * eps) / torch.sqrt(ab[t])).clamp(-LIMIT, LIMIT)  # clip to the data
            ab_next = ab[times[i + 1]] if i + 1 < len(times) else torch.tensor(1.0, dtype=torch.float64)
            x = torch.sqrt(ab_next) * x0 + torch.sqrt(1 - ab_next) * eps
    if path is not None:
        path.append(x.numpy())
    return x.numpy()


def fig_forward_ring():
    """q(x_t | x_0) on the ring: the reference q_sample at five steps."""
    q_sample = reference().q_sample
    _, alphas_cumprod = ring_schedule()
    x0 = torch.as_tensor(ring_data(1500))
    torch.manual_seed(0)
    steps = (0, 10, 25, 50, SMOKE.steps - 1)
    fig, axes = plt.subplots(1, len(steps), figsize=(12, 2.7))
    for ax, t in zip(axes, steps):
        x_t = q_sample(x0, torch.full((len(x0),), t), torch.randn_like(x0), alphas_cumprod)
        ax.scatter(*x_t.numpy().T, s=1, color="#2a6f97")
        _square(ax, f"t = {t}: ᾱ_t = {alphas_cumprod[t]:.3f}")
    fig.suptitle("the forward process on the ring of 8 Gaussians (T = 100, cosine schedule)", fontsize=9)
    fig.tight_layout()
    return fig


def fig_forward_digits():
    """q(x_t | x_0) on real digits with DDPM's schedule (T = 1000): the signal fades, the noise takes over."""
    ref = reference()
    betas = ref.linear_beta_schedule(1000)
    alphas_cumprod = torch.cumprod(1 - betas, dim=0)
    x0 = torch.as_tensor(digits().test[:5].reshape(5, 64) * 2 - 1)  # binarised, in {-1, 1}
    steps = (0, 50, 100, 200, 400, 700, 999)
    torch.manual_seed(1)
    noise = torch.randn_like(x0)
    fig, axes = plt.subplots(len(x0), len(steps), figsize=(7.5, 5.2))
    for j, t in enumerate(steps):
        x_t = ref.q_sample(x0, torch.full((len(x0),), t), noise, alphas_cumprod).numpy()
        _digit_row(axes[:, j], x_t)
        axes[0, j].set_title(f"t = {t}\n√ᾱ = {alphas_cumprod[t].sqrt():.2f}", fontsize=8)
    fig.tight_layout()
    return fig


def fig_schedule():
    """ᾱ_t and the signal-to-noise ratio of DDPM's linear schedule and the cosine schedule, T = 1000."""
    T = 1000
    linear = torch.cumprod(1 - reference().linear_beta_schedule(T), dim=0).numpy()
    cosine = np.cumprod(1 - cosine_beta_schedule(T))
    t = np.arange(T)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3))
    for values, label, colour in ((linear, "linear β (DDPM)", "#c0392b"), (cosine, "cosine (improved DDPM)", "#2a6f97")):
        axes[0].plot(t, values, label=label, color=colour)
        axes[1].plot(t, np.log10(values / (1 - values)), label=label, color=colour)
    axes[0].set_ylabel("ᾱ_t: signal variance kept")
    axes[1].set_ylabel("log10 SNR = log10 ᾱ_t / (1 − ᾱ_t)")
    for ax in axes:
        ax.set_xlabel("step t")
        ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def fig_samples_ring():
    """Samples: the trained course denoiser (DDPM), the exact denoiser (DDPM), the exact denoiser (DDIM, 20 steps)."""
    ref = reference()
    betas, alphas_cumprod = ring_schedule()
    torch.manual_seed(0)
    trained = ref.ddpm_sample(ring_model(), 2000, (2,), betas).numpy()
    torch.manual_seed(0)
    exact = ref.ddpm_sample(exact_model(), 2000, (2,), betas).numpy()
    ddim = ddim_sample(exact_model(), 2000, alphas_cumprod, 20)
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.1))
    panels = (("data", ring_data(2000)), (f"trained MLP, DDPM ({SMOKE.steps} steps)", trained),
              (f"exact denoiser, DDPM ({SMOKE.steps} steps)", exact), ("exact denoiser, DDIM (20 steps)", ddim))
    for ax, (title, points) in zip(axes, panels):
        ax.scatter(*points.T, s=1, color="#173f5f")
        _square(ax, title)
    fig.tight_layout()
    return fig


def _paths(ax, path, title):
    """Draw chains path (steps, n, 2): grey lines, points coloured from early (yellow) to late, ends in red."""
    ax.scatter(*ring_data(2000).T, s=1, color="#ddd")
    for k in range(path.shape[1]):
        ax.plot(path[:, k, 0], path[:, k, 1], color="#999", lw=0.6)
    colours = plt.cm.viridis_r(np.linspace(0, 1, len(path)))
    for i in range(len(path)):
        ax.scatter(*path[i].T, s=3, color=colours[i])
    ax.scatter(*path[-1].T, s=14, color="#c0392b", zorder=3)
    _square(ax, title)


def fig_trajectories():
    """Reverse trajectories of the trained denoiser: DDPM chains (their last 30 steps) and DDIM paths."""
    ref = reference()
    betas, alphas_cumprod = ring_schedule()
    model = ring_model()
    torch.manual_seed(3)
    x = torch.randn(30, 2)
    path = [x.numpy()]
    with torch.no_grad():
        for t in reversed(range(len(betas))):
            x = ref.p_sample_step(model, x, t, betas)
            path.append(x.numpy())
    ddim = []
    ddim_sample(model, 30, alphas_cumprod, 25, seed=3, path=ddim)
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 4.3))
    _paths(axes[0], np.stack(path[-31:]), "DDPM (stochastic): the last 30 of 100 steps")
    _paths(axes[1], np.stack(ddim), "DDIM (deterministic): 25 steps from noise")
    fig.suptitle("reverse trajectories of the trained denoiser on the ring (early: yellow, final samples: red)",
                 fontsize=9)
    fig.tight_layout()
    return fig


def fig_score_field():
    """The score ∇ log q_t of the noised ring, from the exact denoiser, at three noise levels."""
    model = exact_model()
    _, alphas_cumprod = ring_schedule()
    axis = np.linspace(-LIMIT, LIMIT, 21)
    gx, gy = np.meshgrid(axis, axis)
    points = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1))
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
    for ax, t in zip(axes, (5, 30, 80)):
        with torch.no_grad():
            eps = model(points, torch.full((len(points),), t)).numpy()
        score = -eps / np.sqrt(1 - alphas_cumprod[t].item())
        length = np.linalg.norm(score, axis=1, keepdims=True)
        direction = score / np.maximum(length, 1e-9)
        ax.quiver(gx, gy, direction[:, 0], direction[:, 1], np.log1p(length[:, 0]), cmap="viridis", scale=28)
        ax.scatter(*(np.sqrt(alphas_cumprod[t].item()) * ring_centres()).T, marker="x", color="#c0392b")
        _square(ax, f"t = {t}: σ_t = {np.sqrt(1 - alphas_cumprod[t].item()):.2f}")
    fig.suptitle("score directions −ε*(x, t) / √(1 − ᾱ_t) of the noised ring (colour: log length); × the noised modes",
                 fontsize=9)
    fig.tight_layout()
    return fig


def fig_guidance():
    """Classifier-free guidance with exact denoisers: class 'upper half' of the ring, guidance weights 0, 1, 4."""
    betas, alphas_cumprod = ring_schedule()
    centres = ring_centres()
    upper = centres[:, 1] > 1e-6
    conditional, unconditional = exact_model(centres[upper]), exact_model()

    class Guided(torch.nn.Module):
        def __init__(self, w):
            super().__init__()
            self.w = w

        def forward(self, x, t):
            return (1 + self.w) * conditional(x, t) - self.w * unconditional(x, t)

    fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
    for ax, w in zip(axes, (0.0, 1.0, 4.0)):
        torch.manual_seed(0)
        samples = reference().ddpm_sample(Guided(w), 1500, (2,), betas).numpy()
        ax.scatter(*centres.T, marker="x", color="#aaa")
        ax.scatter(*samples.T, s=1, color="#2a6f97")
        _square(ax, f"w = {w:g}" + (": the conditional model" if w == 0 else ""))
    fig.suptitle("(1 + w) ε(x, t | upper half) − w ε(x, t): more guidance, samples pushed away from the other class",
                 fontsize=9)
    fig.tight_layout()
    return fig


def fig_digit_samples():
    """Samples of an MLP diffusion model of the binarised digits, and the sampling chains of six of them."""
    from autograder.site.trained import DigitDiffusion

    ref = reference()
    model, betas = digit_model()
    T = len(betas)
    torch.manual_seed(0)
    samples = ref.ddpm_sample(model, 48, (64,), betas).numpy()
    torch.manual_seed(1)
    x = torch.randn(6, 64)
    snapshots, keep = [], (T - 1, int(0.75 * T), T // 2, int(0.3 * T), int(0.15 * T), int(0.05 * T), 0)
    with torch.no_grad():
        for t in reversed(range(T)):
            if t in keep:
                snapshots.append(x.numpy())
            x = ref.p_sample_step(model, x, t, betas)
    snapshots.append(x.numpy())
    fig = plt.figure(figsize=(11, 3.3))
    grid = fig.add_gridspec(6, 16 + 1 + len(snapshots))
    for i in range(48):
        _digit_row([fig.add_subplot(grid[2 * (i // 16): 2 * (i // 16) + 2, i % 16])], [samples[i]])
    for j, images in enumerate(snapshots):
        for k in range(6):
            _digit_row([fig.add_subplot(grid[k, 17 + j])], [images[k]])
    fig.suptitle(f"left: DDPM samples of an MLP denoiser ({DigitDiffusion().steps} training steps, T = {T}); "
                 f"right: six chains at t = {', '.join(map(str, keep))}, then the samples", fontsize=8)
    return fig
