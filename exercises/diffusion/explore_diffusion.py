# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # A diffusion model on the ring of 8 Gaussians
#
# Run this with your `diffusion.py` next to it (open it in Jupyter through jupytext, or run it as
# a script). It noises the ring with your `q_sample`, trains the course's small denoiser with your
# `ddpm_loss` (the autograder's smoke-test budget), and samples it with your `ddpm_sample` — and,
# for comparison, samples the *exact* denoiser of the ring, what a perfectly trained network
# would compute.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import diffusion
from genmodels.data import ring_centres, ring_of_gaussians
from genmodels.diffusion import SMOKE, MixtureDenoiser, cosine_beta_schedule, new_model, train_denoiser
from genmodels.gan import score_modes

torch.set_num_threads(1)
data = ring_of_gaussians(SMOKE.n_data, std=SMOKE.ring_std, seed=0)  # (4096, 2)

# %% [markdown]
# DDPM's linear schedule with T = 1000 (yours) keeps almost nothing of the data by the last step. With
# only T = 100 steps, the autograder (and this notebook) use the cosine schedule of improved DDPM instead:
# it spends more steps at low noise, where a small network learns the fine structure of the modes.

# %%
linear = torch.cumprod(1 - diffusion.linear_beta_schedule(1000), dim=0)
print(f"linear schedule, T = 1000: ᾱ at t = 0, 500, 999: {linear[0]:.4f}, {linear[500]:.4f}, {linear[999]:.2e}")
betas = torch.as_tensor(cosine_beta_schedule(SMOKE.steps), dtype=torch.float32)  # (100,)
alphas_cumprod = torch.cumprod(1 - betas, dim=0)

# %% [markdown]
# The forward process in closed form: x_t = sqrt(ᾱ_t) x0 + sqrt(1 - ᾱ_t) ε. By the last step
# nothing of the ring is left.

# %%
x0 = torch.as_tensor(data[:1500])
fig, axes = plt.subplots(1, 5, figsize=(18, 3.6))
for ax, t in zip(axes, (0, 10, 25, 50, SMOKE.steps - 1)):
    x_t = diffusion.q_sample(x0, torch.full((len(x0),), t), torch.randn_like(x0), alphas_cumprod)
    ax.scatter(*x_t.numpy().T, s=2)
    ax.set_title(f"t = {t}: ᾱ_t = {alphas_cumprod[t]:.3f}")
    ax.set_xlim(-3.5, 3.5)
    ax.set_ylim(-3.5, 3.5)
    ax.set_aspect("equal")
fig.savefig("diffusion_forward.png", dpi=80)

# %% [markdown]
# Train with your loss, then sample with your sampler.

# %%
model = train_denoiser(new_model(SMOKE.model, seed=0), data, diffusion.ddpm_loss, alphas_cumprod, SMOKE.train,
                       progress=lambda step, loss: print(f"step {step}: loss {loss:.3f}"))
torch.manual_seed(SMOKE.sample_seed)
trained = diffusion.ddpm_sample(model, 2000, (2,), betas).numpy()
exact = diffusion.ddpm_sample(MixtureDenoiser(ring_centres(), SMOKE.ring_std, alphas_cumprod.numpy()), 2000, (2,),
                              betas).numpy()
for name, samples in (("trained denoiser", trained), ("exact denoiser", exact)):
    score = score_modes(samples, ring_centres(), radius=SMOKE.score_radius)
    print(f"{name}: {score.modes_covered} of 8 modes covered, {score.share_near_mode:.0%} of samples near a mode")

fig, axes = plt.subplots(1, 3, figsize=(12, 4))
for ax, (title, points) in zip(axes, (("data", data[:2000]), ("trained denoiser", trained), ("exact denoiser", exact))):
    ax.scatter(*points.T, s=2)
    ax.set_title(title)
    ax.set_xlim(-3.5, 3.5)
    ax.set_ylim(-3.5, 3.5)
    ax.set_aspect("equal")
fig.savefig("diffusion_ring.png", dpi=80)

# %% [markdown]
# Try: train with x0 as the loss's target, or add noise at the last step of your sampler. Then try
# your linear schedule with T = 100 (`linear_beta_schedule(100, 1e-4, 0.2)`) for training: what happens
# to the modes? And how few steps (`cosine_beta_schedule(20)`) does the exact denoiser need before the
# modes come out sharp?
