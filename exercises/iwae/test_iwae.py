"""Public checks for iwae.py — run them with `course check iwae`."""

import math

import torch


def test_log_mean_exp_small_values(student):
    values = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    expected = torch.log(torch.exp(values).mean(dim=0))
    torch.testing.assert_close(student.log_mean_exp(values, 0), expected)


def test_log_mean_exp_is_stable(student):
    values = torch.tensor([1000.0, 1000.0, -1000.0])
    out = student.log_mean_exp(values, 0)
    assert torch.isfinite(out), "subtract the maximum before exponentiating (or use torch.logsumexp)"
    torch.testing.assert_close(out, torch.tensor(1000.0 + math.log(2 / 3)))


def test_iwae_with_one_sample_is_the_elbo(student):
    log_px, log_pz, log_qz = torch.randn(1, 4) - 50, torch.randn(1, 4), torch.randn(1, 4)
    torch.testing.assert_close(student.iwae_bound(log_px, log_pz, log_qz), (log_px + log_pz - log_qz)[0])


def test_iwae_is_at_least_the_average_elbo(student):
    torch.manual_seed(0)
    log_px, log_pz, log_qz = torch.randn(20, 3) - 50, torch.randn(20, 3), torch.randn(20, 3)
    bound = student.iwae_bound(log_px, log_pz, log_qz)
    assert bound.shape == (3,)
    assert torch.all(bound >= (log_px + log_pz - log_qz).mean(dim=0)), "Jensen: L_k >= the average of the log-weights"


def test_bound_carries_gradients(student):
    log_px = torch.randn(5, 2, requires_grad=True)
    bound = student.iwae_bound(log_px, torch.randn(5, 2), torch.randn(5, 2))
    assert bound.requires_grad, "return a tensor that gradients flow through (no .item(), .detach() or NumPy)"
