"""A correct diffusion.py written differently: the posterior-mean form of the step (through the predicted x0),
an explicit schedule formula, a while loop, steps drawn as floor(T * u)."""

import torch


def linear_beta_schedule(T, beta_start=1e-4, beta_end=0.02):
    if T == 1:
        return torch.tensor([beta_start])
    return beta_start + (beta_end - beta_start) * torch.arange(T, dtype=torch.float32) / (T - 1)


def q_sample(x0, t, noise, alphas_cumprod):
    shape = (x0.shape[0],) + (1,) * (x0.ndim - 1)
    a = torch.gather(alphas_cumprod.to(x0.device), 0, t).reshape(shape)
    return torch.sqrt(a) * x0 + torch.sqrt(1.0 - a) * noise


def ddpm_loss(model, x0, alphas_cumprod):
    T = len(alphas_cumprod)
    t = (torch.rand(x0.shape[0], device=x0.device) * T).long().clamp(max=T - 1)
    noise = torch.randn(x0.shape, dtype=x0.dtype, device=x0.device)
    prediction = model(q_sample(x0, t, noise, alphas_cumprod), t)
    return ((prediction - noise) ** 2).mean()


def p_sample_step(model, x_t, t, betas, noise=None):
    alphas = 1.0 - betas
    alpha_bars = torch.cumprod(alphas, 0)
    a_bar = alpha_bars[t]
    a_bar_prev = alpha_bars[t - 1] if t > 0 else torch.ones_like(a_bar)
    eps = model(x_t, torch.full((len(x_t),), t, dtype=torch.int64, device=x_t.device))
    x0_hat = (x_t - torch.sqrt(1 - a_bar) * eps) / torch.sqrt(a_bar)
    mean = (torch.sqrt(a_bar_prev) * betas[t] / (1 - a_bar)) * x0_hat \
        + (torch.sqrt(alphas[t]) * (1 - a_bar_prev) / (1 - a_bar)) * x_t
    if t > 0:
        z = torch.randn_like(x_t) if noise is None else noise
        mean = mean + betas[t].sqrt() * z
    return mean


def ddpm_sample(model, n, shape, betas):
    x = torch.randn((n, *shape), device=betas.device)
    t = len(betas) - 1
    with torch.no_grad():
        while t >= 0:
            x = p_sample_step(model, x, t, betas)
            t -= 1
    return x
