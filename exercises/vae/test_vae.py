"""Public checks for vae.py — run them with `course check vae` (or `pytest exercises/vae`).

They test the basics on small inputs, and catch a few common mistakes early (a loss
on probabilities at extreme logits, a .item() where a tensor is asked for). The hidden
checks used for grading test more: noise statistics over many draws, exact gradients,
float64 inputs, other shapes, and a short training run of the course VAE with your
functions.
"""

import math

import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence


@pytest.fixture
def params():
    torch.manual_seed(0)
    return torch.randn(5, 3), torch.randn(5, 3)  # mu, logvar: (B, D)


def test_reparameterize_shape_and_gradient(student, params):
    mu, logvar = (t.clone().requires_grad_(True) for t in params)
    z = student.reparameterize(mu, logvar)
    assert z.shape == mu.shape, "z should have the shape of mu"
    assert z.requires_grad, "z must be differentiable in mu and logvar: no .sample(), use mu + std * eps"
    z.sum().backward()
    torch.testing.assert_close(mu.grad, torch.ones_like(mu))
    torch.testing.assert_close(logvar.grad, (z - mu).detach() / 2, msg="dz/dlogvar should be (z - mu) / 2")


def test_reparameterize_variance(student):
    torch.manual_seed(1)
    mu, logvar = torch.zeros(4000, 2), torch.full((4000, 2), 2.0)
    z = student.reparameterize(mu, logvar)
    assert abs(z.var().item() / math.exp(2.0) - 1) < 0.1, "the variance of z should be exp(logvar)"


def test_kl_zero_for_the_prior(student):
    kl = student.kl_to_standard_normal(torch.zeros(3, 4), torch.zeros(3, 4))
    assert kl.shape == (3,), "one KL per example, summed over latent dimensions"
    torch.testing.assert_close(kl, torch.zeros(3))


def test_kl_matches_torch_distributions(student, params):
    mu, logvar = params
    expected = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(dim=1)
    torch.testing.assert_close(student.kl_to_standard_normal(mu, logvar), expected)


def test_bernoulli_log_likelihood(student):
    torch.manual_seed(2)
    x = (torch.rand(3, 1, 8, 8) < 0.5).float()
    logits = 3 * torch.randn(3, 1, 8, 8)
    expected = Bernoulli(logits=logits).log_prob(x).flatten(1).sum(dim=1)
    torch.testing.assert_close(student.bernoulli_log_likelihood(x, logits), expected)
    half = student.bernoulli_log_likelihood(x, torch.zeros_like(x))
    torch.testing.assert_close(half, torch.full((3,), -64 * math.log(2.0)), msg="p = 0.5 costs exactly 1 bit per pixel")


def test_elbo_is_log_likelihood_minus_kl(student, params):
    mu, logvar = params
    x = torch.ones(5, 6)
    logits = torch.randn(5, 6)
    value = student.elbo(x, logits, mu, logvar)
    assert value.shape == (5,), "one ELBO per example; the training loop averages over the batch"
    expected = student.bernoulli_log_likelihood(x, logits) - student.kl_to_standard_normal(mu, logvar)
    torch.testing.assert_close(value, expected)


def test_log_likelihood_exact_for_confident_logits(student):
    """σ(150) is 1.0 in float32: a loss on probabilities gives -inf or clamps at -100 where the answer is -150."""
    x = torch.tensor([[1.0, 0.0, 1.0]])
    logits = torch.tensor([[-150.0, 150.0, 150.0]])
    value = student.bernoulli_log_likelihood(x, logits)
    assert torch.all(torch.isfinite(value)), "compute it from the logits (F.binary_cross_entropy_with_logits)"
    torch.testing.assert_close(value, torch.tensor([-300.0]), msg="a loss on probabilities clamps log(0) at -100 where "
                               "the answer is -150: compute it from the logits")


def test_results_are_tensors_that_carry_gradients(student, params):
    mu, logvar = (t.clone().requires_grad_(True) for t in params)
    logits = torch.randn(5, 6, requires_grad=True)
    x = torch.ones(5, 6)
    for name, value in (("kl_to_standard_normal", student.kl_to_standard_normal(mu, logvar)),
                        ("bernoulli_log_likelihood", student.bernoulli_log_likelihood(x, logits)),
                        ("elbo", student.elbo(x, logits, mu, logvar))):
        assert isinstance(value, torch.Tensor) and value.requires_grad, (
            f"{name} must return a tensor that gradients flow through (no .item(), .detach() or NumPy)")
