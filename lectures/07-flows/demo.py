"""Demo: train the lecture's normalizing flow on two moons (CPU, under a minute) and plot what it learned.

    python lectures/07-flows/demo.py [--steps 1000] [--layers 6] [--out out/flows]

Writes moons.png (data, exact density, samples, data mapped to the latent space) and prints the
held-out negative log-likelihood, exact, in nats per point.
"""

import argparse
from dataclasses import replace
from pathlib import Path

import matplotlib
import numpy as np
import torch
from tqdm import tqdm

from genmodels.flows import FlowConfig, TrainConfig, grid, make_flow, train_flow, two_moons

ROOT = Path(__file__).resolve().parents[2]


def reference():
    from autograder.site.figures import load_module

    return load_module(ROOT / "solutions" / "flows" / "flows.py", "flows_reference")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--out", default="out/flows")
    args = parser.parse_args()
    torch.set_num_threads(1)  # a tiny model: one thread is fastest and fair to a shared machine
    flows, out = reference(), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    config = TrainConfig(steps=args.steps, batch_size=256, lr=5e-3)
    bar = tqdm(total=config.steps, desc="flow, two moons")

    def progress(step, loss):
        bar.update(step - bar.n)
        bar.set_postfix(nll=f"{loss:.3f}")

    layers = make_flow(flows.AffineCoupling, replace(FlowConfig(), layers=args.layers), seed=0)
    layers = train_flow(layers, two_moons(4096, seed=0), flows.flow_log_prob, config, progress=progress)
    bar.close()
    test = torch.as_tensor(two_moons(2000, seed=1))
    points, axis, area = grid(3.2, 200)
    with torch.no_grad():
        nll = -flows.flow_log_prob(list(layers), test).mean().item()
        density = flows.flow_log_prob(list(layers), torch.as_tensor(points, dtype=torch.float32)).exp().numpy()
        samples = flows.flow_sample(list(layers), 2000, 2).numpy()
        z = test
        for layer in layers:
            z = layer(z)[0]

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(14, 3.6))
    axes[0].scatter(*test.numpy().T, s=1, c="k")
    axes[1].imshow(density.reshape(len(axis), -1), origin="lower", extent=[-3.2, 3.2, -3.2, 3.2], cmap="magma")
    axes[2].scatter(*samples.T, s=1)
    axes[3].scatter(*z.numpy().T, s=1, c="tab:green")
    for ax, title in zip(axes, ("held-out data", "exp(log p(x))", "samples", "data in latent space")):
        ax.set_title(title)
        ax.set_xlim(-3.2, 3.2)
        ax.set_ylim(-3.2, 3.2)
        ax.set_aspect("equal")
    fig.savefig(out / "moons.png", dpi=100)
    print(f"held-out NLL {nll:.3f} nats per point; the density sums to {np.sum(density) * area:.3f} on the grid")
    print(f"wrote {out / 'moons.png'}")


if __name__ == "__main__":
    main()
