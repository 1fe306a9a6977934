"""Figures of the normalizing-flows lecture, made with the course flow (genmodels/flows.py) built from the
reference coupling layer (solutions/flows/flows.py) on scikit-learn's two moons."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from genmodels.flows import SMOKE, coupling_mask, grid, make_flow, train_flow, two_moons

ROOT = Path(__file__).resolve().parents[2]
LECTURE_FLOW, LECTURE_TRAIN = SMOKE.model, SMOKE.train  # the autograder's flow and budget: about 0.6 s of CPU
LIMIT = 3.2  # the plotted square [-LIMIT, LIMIT]²
_CACHE = {}


def reference():
    """The reference solution module solutions/flows/flows.py (imported once)."""
    from autograder.site.trained import solution

    return solution(ROOT, "flows")


def trained_flow():
    """The lecture's flow, trained once per build on the autograder's two moons."""
    if "flow" not in _CACHE:
        flows = reference()
        layers = make_flow(flows.AffineCoupling, LECTURE_FLOW, seed=0)
        _CACHE["flow"] = train_flow(layers, two_moons(SMOKE.n_train, seed=SMOKE.data_seed), flows.flow_log_prob,
                                    LECTURE_TRAIN)
    return _CACHE["flow"]


def _square(ax, title=None):
    ax.set_xlim(-LIMIT, LIMIT)
    ax.set_ylim(-LIMIT, LIMIT)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


def fig_change_of_variables():
    """1-D: a standard normal pushed through the inverse of f(x) = x³/3 + x/10; mass in [x, x + dx] is kept."""
    x = np.linspace(-2.6, 2.6, 600)
    f = x**3 / 3 + 0.1 * x  # data -> latent
    df = x**2 + 0.1
    normal = lambda v: np.exp(-0.5 * v**2) / np.sqrt(2 * np.pi)
    p_x = normal(f) * df
    fig, axes = plt.subplots(1, 3, figsize=(10, 2.9))
    z = np.linspace(-3, 3, 400)
    axes[0].plot(z, normal(z), color="#173f5f")
    axes[0].set_title(r"base $p_z(z) = \mathcal{N}(z; 0, 1)$", fontsize=9)
    axes[0].set_xlabel("z")
    axes[1].plot(x, f, color="#555")
    axes[1].set_title(r"the flow $z = f(x) = x^3/3 + x/10$", fontsize=9)
    axes[1].set_xlabel("x")
    axes[1].set_ylabel("z")
    axes[2].plot(x, p_x, color="#c0392b")
    axes[2].set_title(r"$p_x(x) = p_z(f(x))\,|f'(x)|$", fontsize=9)
    axes[2].set_xlabel("x")
    for a, b, colour in ((1.0, 1.2, "#2a6f97"), (0.05, 0.25, "#e67e22")):
        za, zb = a**3 / 3 + 0.1 * a, b**3 / 3 + 0.1 * b
        axes[1].axvspan(a, b, color=colour, alpha=0.3)
        axes[1].axhspan(za, zb, color=colour, alpha=0.3)
        axes[0].axvspan(za, zb, color=colour, alpha=0.3)
        axes[2].axvspan(a, b, color=colour, alpha=0.3)
    fig.tight_layout()
    return fig


def fig_coupling_jacobian():
    """|∂y/∂x| of one reference coupling in 6-D: in the original order, and with the kept coordinates first."""
    torch.manual_seed(3)
    mask = coupling_mask(6, 0)  # 1, 0, 1, 0, 1, 0
    layer = reference().AffineCoupling(6, mask, hidden=16).double()
    x = torch.randn(6, dtype=torch.float64)
    jacobian = torch.autograd.functional.jacobian(lambda v: layer(v[None])[0][0], x).abs().numpy()  # (6, 6)
    order = np.argsort(-mask.numpy(), kind="stable")  # kept coordinates first
    fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.4))
    for ax, matrix, title in ((axes[0], jacobian, "original order (mask 1,0,1,0,1,0)"),
                              (axes[1], jacobian[np.ix_(order, order)], "kept coordinates first")):
        ax.imshow(np.where(matrix > 1e-12, np.log10(matrix + 1e-12), np.nan), cmap="viridis")
        ax.set_title(title, fontsize=9)
        ax.set_xticks(range(6))
        ax.set_yticks(range(6))
        ax.set_xlabel(r"input $x_j$")
        ax.set_ylabel(r"output $y_i$")
    axes[1].text(4.0, 1.0, "zero block:\nkept outputs ignore\ntransformed inputs", fontsize=7, ha="center", va="center")
    axes[1].text(1.0, 4.0, "anything:\nthe conditioner", fontsize=7, ha="center", va="center", color="w")
    fig.suptitle(r"$|\partial y_i / \partial x_j|$ of an affine coupling (log colour; white = exactly 0)", fontsize=9)
    fig.tight_layout()
    return fig


def _partial_log_prob(layers, points):
    """log-density of the intermediate variable h_k = f_k(...f_1(x)) for every k, on `points` (N, 2)."""
    flows = reference()
    out = []
    with torch.no_grad():
        for k in range(len(layers) + 1):  # k layers already applied: the rest maps h_k to the base
            out.append(flows.flow_log_prob(list(layers[k:]), points).numpy())
    return out


def fig_warp():
    """The density after each layer of the trained flow: from the data (left) to the standard normal (right)."""
    layers = trained_flow()
    points, axis, _ = grid(LIMIT, 160)
    densities = _partial_log_prob(layers, torch.as_tensor(points, dtype=torch.float32))
    fig, axes = plt.subplots(1, len(densities), figsize=(2.3 * len(densities), 2.6))
    for k, (ax, log_p) in enumerate(zip(axes, densities)):
        ax.imshow(np.exp(log_p).reshape(len(axis), len(axis)), origin="lower", extent=[-LIMIT, LIMIT, -LIMIT, LIMIT],
                  cmap="magma")
        _square(ax, "data x" if k == 0 else ("latent z" if k == len(layers) else f"after layer {k}"))
    fig.suptitle(f"the density of the flow's intermediate variable, layer by layer ({len(layers)} affine couplings)",
                 fontsize=9)
    fig.tight_layout()
    return fig


def fig_moons():
    """The trained flow: data, exact density, log-density, samples, and the data mapped to the latent space."""
    flows, layers = reference(), trained_flow()
    data = two_moons(2000, seed=5)
    points, axis, area = grid(LIMIT, 200)
    test = torch.as_tensor(two_moons(2000, seed=1))
    with torch.no_grad():
        log_p = flows.flow_log_prob(list(layers), torch.as_tensor(points, dtype=torch.float32)).numpy()
        nll = -flows.flow_log_prob(list(layers), test).mean().item()
        torch.manual_seed(1)
        samples = flows.flow_sample(list(layers), 2000, 2).numpy()
        z = torch.as_tensor(data)
        for layer in layers:
            z = layer(z)[0]
    image = dict(origin="lower", extent=[-LIMIT, LIMIT, -LIMIT, LIMIT])
    fig, axes = plt.subplots(1, 5, figsize=(13, 2.9))
    axes[0].scatter(*data.T, s=1, color="k")
    _square(axes[0], "two moons (data)")
    axes[1].imshow(np.exp(log_p).reshape(len(axis), -1), cmap="magma", **image)
    _square(axes[1], f"p(x): held-out NLL {nll:.2f} nats")
    axes[2].imshow(np.maximum(log_p, -12).reshape(len(axis), -1), cmap="magma", **image)
    _square(axes[2], "log p(x): a bridge of mass")
    axes[3].scatter(*samples.T, s=1, color="#2a6f97")
    _square(axes[3], "samples x = f⁻¹(z)")
    axes[4].scatter(*z.numpy().T, s=1, color="#27ae60")
    _square(axes[4], "data mapped to z = f(x)")
    fig.suptitle(f"the lecture's flow: {LECTURE_FLOW.layers} affine couplings, {LECTURE_TRAIN.steps} Adam steps "
                 f"(the density sums to {np.exp(log_p).sum() * area:.3f} on the grid)", fontsize=9)
    fig.tight_layout()
    return fig


def fig_dequantisation():
    """Discrete data under a continuous density: spikes win without bound; uniform noise makes it a fair game."""
    rng = np.random.default_rng(0)
    values = np.clip(np.round(rng.normal(3.5, 1.6, size=3000)), 0, 7)
    fig, axes = plt.subplots(1, 2, figsize=(9, 2.8))
    counts = np.bincount(values.astype(int), minlength=8) / len(values)
    for width, colour in ((0.3, "#f4a261"), (0.08, "#c0392b")):
        for k, c in enumerate(counts):
            axes[0].bar(k, c / width, width=width, color=colour, alpha=0.7)
    axes[0].set_title("continuous model on integer data: narrower spikes,\nhigher density, no limit", fontsize=9)
    axes[0].set_xlabel("x")
    axes[0].set_ylabel("density")
    axes[1].hist(values + rng.random(len(values)), bins=np.linspace(0, 8, 65), density=True, color="#2a6f97")
    axes[1].set_title("dequantised x + u, u ~ U[0, 1): the density over\na unit bin integrates to P(x) ≤ 1", fontsize=9)
    axes[1].set_xlabel("x + u")
    fig.tight_layout()
    return fig
