"""A wrong diffusion.py as a student might first write it, not an edit of the reference: steps counted
from 1 as in the DDPM paper's algorithms (the model is given t = 1 .. T, the schedule indexed at t - 1),
and noise added at every step of the sampler, the last one included."""

import torch


def linear_beta_schedule(T, beta_start=1e-4, beta_end=0.02):
    return torch.linspace(beta_start, beta_end, steps=T)


def q_sample(x0, t, noise, alphas_cumprod):
    a = alphas_cumprod.to(x0.device)[t]
    while a.dim() < x0.dim():
        a = a.unsqueeze(-1)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


def ddpm_loss(model, x0, alphas_cumprod):
    T = len(alphas_cumprod)
    t = torch.randint(1, T + 1, (len(x0),), device=x0.device)  # mistake: the paper's 1-based steps
    eps = torch.randn_like(x0)
    x_t = q_sample(x0, t - 1, eps, alphas_cumprod)
    return torch.mean((eps - model(x_t, t)) ** 2)


def p_sample_step(model, x_t, t, betas, noise=None):
    beta = betas[t]
    alpha_bar = torch.prod(1 - betas[: t + 1])
    eps = model(x_t, torch.full((len(x_t),), t, device=x_t.device, dtype=torch.long))
    mean = (x_t - beta / torch.sqrt(1 - alpha_bar) * eps) / torch.sqrt(1 - beta)
    if noise is None:
        noise = torch.randn_like(x_t)
    return mean + torch.sqrt(beta) * noise  # mistake: no noise may be added at t = 0


@torch.no_grad()
def ddpm_sample(model, n, shape, betas):
    samples = torch.randn((n,) + tuple(shape), device=betas.device)
    for step in reversed(range(betas.shape[0])):
        samples = p_sample_step(model, samples, step, betas)
    return samples
