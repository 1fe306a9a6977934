"""A correct diffusion.py with loops over examples, float64 arithmetic and torch.distributions noise."""

import math

import numpy as np
import torch
from torch.distributions import Normal


def linear_beta_schedule(T, beta_start=1e-4, beta_end=0.02):
    return torch.tensor(np.linspace(beta_start, beta_end, T), dtype=torch.float32)


def q_sample(x0, t, noise, alphas_cumprod):
    rows = []
    for i in range(x0.shape[0]):
        a = float(alphas_cumprod[int(t[i])])
        rows.append(math.sqrt(a) * x0[i] + math.sqrt(1 - a) * noise[i])
    return torch.stack(rows)


def ddpm_loss(model, x0, alphas_cumprod):
    T = alphas_cumprod.shape[0]
    t = torch.multinomial(torch.ones(T), x0.shape[0], replacement=True).to(x0.device)
    noise = Normal(torch.zeros_like(x0), torch.ones_like(x0)).sample()
    x_t = q_sample(x0, t, noise, alphas_cumprod)
    return torch.nn.functional.mse_loss(model(x_t, t), noise, reduction="sum") / noise.numel()


def p_sample_step(model, x_t, t, betas, noise=None):
    b = betas.double()
    alpha_bar = torch.prod(1 - b[: t + 1])
    eps = model(x_t, torch.tensor([t] * x_t.shape[0], device=x_t.device)).double()
    mean = (x_t.double() - b[t] / torch.sqrt(1 - alpha_bar) * eps) / torch.sqrt(1 - b[t])
    if t == 0:
        return mean.to(x_t.dtype)
    if noise is None:
        noise = torch.randn(x_t.shape, device=x_t.device)
    return (mean + torch.sqrt(b[t]) * noise.double()).to(x_t.dtype)


def ddpm_sample(model, n, shape, betas):
    x = torch.randn(n, *shape, device=betas.device)
    with torch.no_grad():
        for t in range(len(betas) - 1, -1, -1):
            x = p_sample_step(model, x, t, betas)
    return x
