"""The course's small normalizing flow for 2-D data: coupling layers from any AffineCoupling class.

Shared by the flows lecture, the exercise notebook and the autograder's smoke test,
which trains this flow built from a student's `AffineCoupling` with the student's
`flow_log_prob` on two moons, and evaluates the trained conditioner weights on the
trusted side with its own coupling. The coupling's arithmetic and the log-density
are not here (they come in as arguments), so this file holds no answers and can
ship to students and into the grading sandbox.

    from genmodels.flows import FlowConfig, TrainConfig, make_flow, train_flow, two_moons
    layers = train_flow(make_flow(flows.AffineCoupling), two_moons(2048), flows.flow_log_prob)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from genmodels.optim import Adam

MOONS_CENTRE = np.array([0.5, 0.25])  # scikit-learn's two moons span x in [-1, 2], y in [-0.5, 1]
MOONS_SCALE = np.array([0.87, 0.5])  # about one standard deviation per axis: standardised data


class Conditioner(nn.Module):
    """The small network of a coupling layer: (B, D) conditioning input -> log-scale s and shift t, each (B, D).

    s = tanh(raw): each layer scales a coordinate by at most e^{±1}, which keeps a deep
    stack stable in training (RealNVP bounds the scale the same way). The grader rebuilds
    trained coupling layers from this network's weights, so it is part of the exercise's
    contract: every AffineCoupling keeps one as `self.conditioner`.
    """

    def __init__(self, dim: int, hidden: int = 64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(dim, hidden), nn.Tanh(),  # smooth activations: a smooth density, exact finite differences
            nn.Linear(hidden, hidden), nn.Tanh(),
            nn.Linear(hidden, 2 * dim),
        )

    def forward(self, x_cond):
        raw_s, t = self.net(x_cond).chunk(2, dim=-1)  # (B, D) each
        return torch.tanh(raw_s), t


def coupling_mask(dim: int, index: int) -> torch.Tensor:
    """(dim,) 0/1 float mask of layer `index`: alternating coordinates, flipped from one layer to the next."""
    return ((torch.arange(dim) + index) % 2 == 0).float()


@dataclass(frozen=True)
class FlowConfig:
    dim: int = 2  # two moons
    layers: int = 4  # two flips of the alternating mask; 6 layers fit no better in a short budget, slower
    hidden: int = 64  # conditioner width


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 500  # a fixed number of Adam steps, never a time budget (docs/flows.md): ~1.2 s on a CPU core
    batch_size: int = 128
    lr: float = 1e-2  # a short budget: larger than the usual 1e-3, stable with tanh-bounded scales
    seed: int = 0  # seeds the initial weights and the batch order


@dataclass(frozen=True)
class SmokeTest:
    """The autograder's two-moons smoke test (budget and data; the pass bar lives in the checks)."""

    model: FlowConfig = FlowConfig()
    # half the default's steps on twice its batch: the reference reaches about the same held-out NLL (docs/flows.md)
    # in ~0.6 s of one CPU core instead of ~1.2 s (a step costs about the same at either batch size)
    train: TrainConfig = TrainConfig(steps=250, batch_size=256)
    n_train: int = 2048
    data_seed: int = 0
    n_test: int = 2000  # held-out points the trusted side scores
    test_seed: int = 1


SMOKE = SmokeTest()


def two_moons(n: int, noise: float = 0.08, seed: int = 0) -> np.ndarray:
    """(n, 2) float32 points from two interleaved half circles with Gaussian noise (scikit-learn's `make_moons`
    distribution), shifted and scaled to about unit variance, in random order.

    Made here rather than by scikit-learn, whose import costs about a second in every grading process that trains.
    """
    rng = np.random.default_rng(seed)
    outer, inner = np.linspace(0, np.pi, n // 2), np.linspace(0, np.pi, n - n // 2)
    points = np.concatenate([np.stack([np.cos(outer), np.sin(outer)], axis=1),  # the upper moon
                             np.stack([1 - np.cos(inner), 0.5 - np.sin(inner)], axis=1)])  # the lower one
    points = points[rng.permutation(n)] + noise * rng.normal(size=(n, 2))
    return ((points - MOONS_CENTRE) / MOONS_SCALE).astype(np.float32)


def make_flow(coupling_class, config: FlowConfig = FlowConfig(), seed: int = 0) -> nn.ModuleList:
    """`config.layers` couplings `coupling_class(dim, mask, hidden)` with alternating masks, weights from `seed`."""
    torch.manual_seed(seed)
    return nn.ModuleList(coupling_class(config.dim, coupling_mask(config.dim, i), config.hidden)
                         for i in range(config.layers))


def train_flow(layers: nn.ModuleList, data, log_prob, config: TrainConfig = TrainConfig(), device="cpu",
               progress=None) -> nn.ModuleList:
    """`config.steps` Adam steps on minibatches of `data` (N, D) minimising the mean of -log_prob(layers, x).

    log_prob(list_of_layers, x) -> (B,) is the exercise's `flow_log_prob`. `progress(step, loss)`
    is called every 100 steps.
    """
    torch.manual_seed(config.seed)
    layers = layers.to(device).train()
    data = torch.as_tensor(np.asarray(data), dtype=torch.float32, device=device)
    optimizer = Adam(layers.parameters(), lr=config.lr)
    order = np.random.default_rng(config.seed)
    for step in range(config.steps):
        batch = data[torch.as_tensor(order.choice(len(data), config.batch_size, replace=False), device=device)]
        loss = -log_prob(list(layers), batch).mean()  # mean negative log-likelihood, nats per point
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if progress and (step + 1) % 100 == 0:
            progress(step + 1, float(loss))
    return layers.eval()


def grid(limit: float, n: int) -> tuple[np.ndarray, np.ndarray, float]:
    """(points (n*n, 2) float64, axis (n,), cell area) of a square grid over [-limit, limit]^2."""
    axis = np.linspace(-limit, limit, n)
    gx, gy = np.meshgrid(axis, axis)
    return np.stack([gx.ravel(), gy.ravel()], axis=1), axis, float((axis[1] - axis[0]) ** 2)
