# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # A GAN on the ring of 8 Gaussians
#
# Run this with your `gan.py` next to it (open it in Jupyter through jupytext, or run it as a
# script). It trains the course's small GAN with your `gan_train_step` — the same model, data
# and budget as the autograder's smoke test — prints progress, and draws samples as training
# goes, so you can watch the modes being found (or collapsing).

# %%
import matplotlib.pyplot as plt
import torch

import gan
from genmodels.data import ring_centres, ring_of_gaussians
from genmodels.gan import SMOKE, TrainConfig, sample, score_modes, train_gan

torch.set_num_threads(1)
data = ring_of_gaussians(SMOKE.n_data, std=SMOKE.ring_std, seed=0)  # (4096, 2)

# %% [markdown]
# Train for 100, 200 and 400 steps from the same seed, drawing samples after each stage
# (each run starts from scratch with the same seed, so every panel is reproducible).

# %%
stages = (100, 200, 400)
fig, axes = plt.subplots(1, len(stages) + 1, figsize=(4 * (len(stages) + 1), 4))
axes[0].scatter(data[:2000, 0], data[:2000, 1], s=2, c="k")
axes[0].set_title("data")
for ax, steps in zip(axes[1:], stages):
    generator, _, history = train_gan(gan.gan_train_step, data, SMOKE.model, TrainConfig(steps=steps), seed=0,
                                      progress=lambda step, losses: print(f"step {step}: d_loss {losses[0]:.3f}, "
                                                                          f"g_loss {losses[1]:.3f}"))
    samples = sample(generator, 2000, SMOKE.model.z_dim, seed=SMOKE.sample_seed)
    score = score_modes(samples, ring_centres(), radius=SMOKE.score_radius)
    print(f"{steps} steps: {score.modes_covered} of 8 modes, {score.share_near_mode:.0%} of samples near a mode")
    ax.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.5)
    ax.scatter(*ring_centres().T, marker="x", c="r")
    ax.set_title(f"{steps} steps: {score.modes_covered}/8 modes")
for ax in axes:
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
    ax.set_aspect("equal")
fig.savefig("gan_ring.png", dpi=80)

# %% [markdown]
# Try `generator_loss_minimax` in your step instead of `generator_loss`, or drop the
# `detach()`: how many modes are left after 400 steps?
