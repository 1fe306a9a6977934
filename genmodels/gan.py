"""The course's small GAN: MLP generator and discriminator, a fixed-step training loop, mode scores.

Shared by the GAN lecture, the notebook and the autograder's smoke test, which
trains this model with a student's `gan_train_step` on the 2-D ring of 8
Gaussians and scores the trained generator on the trusted side. Training runs a
fixed number of steps from fixed seeds (never a time budget), so a result never
depends on how loaded the machine is. No torchvision: this runs in the sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from genmodels.optim import Adam
from genmodels.weights import linear_parameters, load_linear_parameters  # noqa: F401 (the GAN checks import them from here)


@dataclass(frozen=True)
class MLPGANConfig:
    data_dim: int = 2  # the 2-D ring
    z_dim: int = 8  # more noise dimensions than data dimensions eases covering 8 modes
    hidden: int = 64  # wide enough for 8 modes; 128 was slower and collapsed more often in a short budget
    layers: int = 2  # hidden layers in each network


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 400  # a fixed number of steps, never a time limit
    batch: int = 128  # real and fake samples per step; costs time linearly on a CPU
    lr: float = 3e-3  # Adam; with 2e-3 (500 steps) or 1e-3 (800 steps) some seeds stayed on 1-5 modes
    betas: tuple = (0.5, 0.999)  # DCGAN's beta1 = 0.5 damps oscillation of the two-player game


@dataclass(frozen=True)
class SmokeTest:
    """The autograder's ring-of-Gaussians smoke test (budget and scoring; the bar lives in the checks)."""

    model: MLPGANConfig = MLPGANConfig()
    train: TrainConfig = TrainConfig()
    n_data: int = 4096  # a fixed training set drawn once from the ring
    ring_std: float = 0.1  # each mode's std; modes stay 15 std apart on a ring of radius 2
    n_samples: int = 2000  # samples the trusted side draws from the trained generator
    sample_seed: int = 123
    score_radius: float = 0.5  # "near a mode": a quarter of the ring's radius, a third of the gap between modes


SMOKE = SmokeTest()


def _mlp(sizes, activation):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


def make_mlp_gan(config: MLPGANConfig = MLPGANConfig(), seed: int = 0):
    """(generator, discriminator) with weights drawn from `seed`.

    generator:     (B, z_dim) -> (B, data_dim) samples.
    discriminator: (B, data_dim) -> (B, 1) logits.
    """
    torch.manual_seed(seed)
    hidden = [config.hidden] * config.layers
    generator = _mlp([config.z_dim, *hidden, config.data_dim], nn.ReLU)
    discriminator = _mlp([config.data_dim, *hidden, 1], lambda: nn.LeakyReLU(0.2))
    return generator, discriminator


def train_gan(train_step, data, model_config: MLPGANConfig = MLPGANConfig(),
              train_config: TrainConfig = TrainConfig(), seed: int = 0, device="cpu", progress=None):
    """Train the course GAN with `train_step(G, D, g_opt, d_opt, real, z)` for a fixed number of steps.

    data: (N, data_dim) array. Returns the trained (generator, discriminator) and the
    list of (d_loss, g_loss) per step. Batches and noise come from a generator
    seeded with `seed`, so two runs of a deterministic step are identical.
    """
    generator, discriminator = make_mlp_gan(model_config, seed)
    generator, discriminator = generator.to(device), discriminator.to(device)
    g_opt = Adam(generator.parameters(), lr=train_config.lr, betas=train_config.betas)
    d_opt = Adam(discriminator.parameters(), lr=train_config.lr, betas=train_config.betas)
    data = torch.as_tensor(np.asarray(data), dtype=torch.float32)  # (N, data_dim), stays on the CPU
    rng = torch.Generator().manual_seed(seed + 1)
    history = []
    for step in range(train_config.steps):
        picks = torch.randint(len(data), (train_config.batch,), generator=rng)
        real = data[picks].to(device)  # (B, data_dim)
        z = torch.randn(train_config.batch, model_config.z_dim, generator=rng).to(device)  # (B, z_dim)
        history.append(train_step(generator, discriminator, g_opt, d_opt, real, z))
        if progress and (step + 1) % 100 == 0:
            progress(step + 1, history[-1])
    return generator, discriminator, history


def sample(generator: nn.Module, n: int, z_dim: int, seed: int = 0) -> np.ndarray:
    """(n, data_dim) samples from the generator, with noise drawn on the CPU from `seed`."""
    device = next(generator.parameters()).device
    z = torch.randn(n, z_dim, generator=torch.Generator().manual_seed(seed))  # (n, z_dim)
    with torch.no_grad():
        return generator(z.to(device)).cpu().numpy()


@dataclass(frozen=True)
class ModeScore:
    modes_covered: int  # modes holding at least `min_share` of the samples within `radius`
    share_near_mode: float  # fraction of samples within `radius` of some mode ("high quality")


def score_modes(samples: np.ndarray, centres: np.ndarray, radius: float = 0.5,
                min_share: float = 0.02) -> ModeScore:
    """How many ring modes a generator covers, and how many of its samples land near one.

    A sample is near a mode within `radius`; a mode counts as covered when at
    least `min_share` of all samples are near it.
    """
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or not np.all(np.isfinite(samples)):
        return ModeScore(0, 0.0)
    distances = np.linalg.norm(samples[:, None, :] - centres[None], axis=-1)  # (n, modes)
    nearest = distances.argmin(axis=1)  # (n,)
    near = distances.min(axis=1) < radius  # (n,)
    counts = np.bincount(nearest[near], minlength=len(centres))  # (modes,)
    return ModeScore(int(np.sum(counts >= min_share * len(samples))), float(near.mean()))
