# Generated from the reference solution by `course stubs`. Fill in the parts that raise NotImplementedError.
"""Denoising diffusion probabilistic models (DDPM), in PyTorch.

The forward process adds Gaussian noise in T small steps,

    q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I),

and has a closed form for any step: with alpha_t = 1 - beta_t and
alpha_bar_t = alpha_0 * alpha_1 * ... * alpha_t,

    x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps,    eps ~ N(0, I).

A network eps_theta(x_t, t) learns to predict eps; the reverse (generative) process
starts from pure noise and removes it one step at a time.

Steps are 0-based, as in code: t = 0, ..., T - 1 indexes betas, and step t is the
paper's step t + 1. x0 is the clean data; q_sample(x0, t, ...) is the sample after
steps 0..t; the sampler's step t goes one level back, and its step t = 0 returns
clean data. A model is called as model(x_t, t) with t a (B,) int64 tensor of steps.
"""

import torch
import torch.nn.functional as F


def linear_beta_schedule(T, beta_start=1e-4, beta_end=0.02):
    """DDPM's linear noise schedule.

    Inputs:
        T:          number of diffusion steps.
        beta_start: beta_0, the first step's noise variance.
        beta_end:   beta_{T-1}, the last step's.
    Returns:
        (T,) float32 tensor: T values evenly spaced from beta_start to beta_end, both included.
    """
    # YOUR CODE HERE
    raise NotImplementedError


def q_sample(x0, t, noise, alphas_cumprod):
    """Sample x_t ~ q(x_t | x_0) in closed form, with the given noise.

    Inputs:
        x0:             (B, ...) data, e.g. (B, D) points or (B, C, H, W) images.
        t:              (B,) int64 step indices in 0 .. T - 1, one per example.
        noise:          standard normal noise shaped like x0.
        alphas_cumprod: (T,) alpha_bar_t for every step.
    Returns:
        x_t shaped like x0: sqrt(alpha_bar_t) * x0 + sqrt(1 - alpha_bar_t) * noise, with each
        example's alpha_bar_t broadcast over all of its non-batch dimensions.
    """
    # YOUR CODE HERE
    raise NotImplementedError


def ddpm_loss(model, x0, alphas_cumprod):
    """The simplified DDPM loss: how well `model` predicts the noise in x_t.

    Inputs:
        model:          eps_theta, called as model(x_t, t) with t a (B,) int64 tensor; returns x_t's shape.
        x0:             (B, ...) a batch of data.
        alphas_cumprod: (T,) alpha_bar_t for every step.
    Returns:
        scalar tensor: the mean over the batch and every dimension of (model(x_t, t) - noise)²,
        with t drawn uniformly from 0 .. T - 1 for every example and fresh standard normal noise;
        differentiable in the model's parameters.
    """
    # YOUR CODE HERE
    raise NotImplementedError


def p_sample_step(model, x_t, t, betas, noise=None):
    """One step of DDPM's ancestral sampler: x_{t-1} ~ p_theta(x_{t-1} | x_t).

    Inputs:
        model: eps_theta, called as model(x_t, t_batch) with t_batch a (B,) int64 tensor full of t.
        x_t:   (B, ...) the current sample.
        t:     int, the current step index (0-based; the same for the whole batch).
        betas: (T,) the noise schedule.
        noise: standard normal noise shaped like x_t, or None to draw it fresh.
    Returns:
        x_{t-1} shaped like x_t: the mean
            (x_t - beta_t / sqrt(1 - alpha_bar_t) * model(x_t, t)) / sqrt(alpha_t)
        plus sqrt(beta_t) * noise (variance beta_t); at t = 0 the mean alone, with no noise.
    """
    # YOUR CODE HERE
    raise NotImplementedError


def ddpm_sample(model, n, shape, betas):
    """Generate n samples with DDPM's ancestral sampler.

    Inputs:
        model: eps_theta, called as model(x_t, t) with t a (n,) int64 tensor.
        n:     number of samples.
        shape: the shape of one sample, e.g. (2,) or (1, 8, 8).
        betas: (T,) the noise schedule; samples are made on its device.
    Returns:
        (n, *shape) tensor: start from N(0, I) noise drawn fresh, then p_sample_step for t = T - 1, ..., 0.
    """
    # YOUR CODE HERE
    raise NotImplementedError
