"""Public checks for diffusion.py — run them with `course check diffusion` (or `pytest exercises/diffusion`).

They test the basics on small inputs. The hidden checks used for grading test more: the
steps your loss draws and the noise it uses, the mean and variance of the sampler's step,
the order of the sampler's steps, and two short runs on a ring of 8 Gaussians (training
the course's denoiser with your loss, and sampling an exact denoiser with your sampler).
"""

import math

import pytest
import torch


class ZeroModel(torch.nn.Module):
    """Predicts no noise at all; remembers the steps it was asked about."""

    def __init__(self):
        super().__init__()
        self.steps = []

    def forward(self, x, t):
        self.steps.append(t)
        return torch.zeros_like(x)


@pytest.fixture
def betas(student):
    return student.linear_beta_schedule(5, beta_start=0.1, beta_end=0.5)


def test_schedule(student, betas):
    torch.testing.assert_close(betas, torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5]))
    default = student.linear_beta_schedule(1000)
    assert default.shape == (1000,)
    assert math.isclose(float(default[0]), 1e-4, rel_tol=1e-5) and math.isclose(float(default[-1]), 0.02, rel_tol=1e-5)


def test_q_sample_values_and_broadcasting(student, betas):
    alphas_cumprod = torch.cumprod(1 - betas, 0)
    x0 = torch.ones(2, 1, 2, 2)
    noise = torch.full((2, 1, 2, 2), 2.0)
    t = torch.tensor([0, 4])
    x_t = student.q_sample(x0, t, noise, alphas_cumprod)
    assert x_t.shape == x0.shape
    for i in range(2):
        a = alphas_cumprod[t[i]]
        torch.testing.assert_close(x_t[i], torch.full((1, 2, 2), float(a.sqrt() + 2 * (1 - a).sqrt())))


def test_loss_is_a_scalar_near_one_for_a_model_that_predicts_nothing(student, betas):
    torch.manual_seed(0)
    value = student.ddpm_loss(ZeroModel(), torch.randn(4000, 2), torch.cumprod(1 - betas, 0))
    assert value.ndim == 0, "the loss is a scalar: the mean over the batch and every dimension"
    assert abs(float(value) - 1.0) < 0.05, "E[(0 - noise)²] = 1 for standard normal noise"


def test_step_with_given_noise(student, betas):
    x = torch.ones(3, 2)
    noise = torch.full((3, 2), 0.5)
    model = ZeroModel()
    result = student.p_sample_step(model, x, 2, betas, noise=noise)
    expected = x / torch.sqrt(1 - betas[2]) + torch.sqrt(betas[2]) * noise
    torch.testing.assert_close(result, expected)
    assert torch.equal(model.steps[0], torch.full((3,), 2)), "the model gets t as a (B,) tensor of steps"


def test_last_step_adds_no_noise(student, betas):
    x = torch.ones(3, 2)
    result = student.p_sample_step(ZeroModel(), x, 0, betas, noise=torch.full((3, 2), 0.5))
    torch.testing.assert_close(result, x / torch.sqrt(1 - betas[0]), msg="at t = 0 the step returns the mean")


def test_sample_shape_and_steps(student, betas):
    model = ZeroModel()
    samples = student.ddpm_sample(model, 4, (1, 2, 2), betas)
    assert samples.shape == (4, 1, 2, 2)
    assert [int(t[0]) for t in model.steps] == [4, 3, 2, 1, 0], "one model call per step, from T - 1 down to 0"
