"""Public checks for autoencoder.py — run them with `course check autoencoder`."""

import math

import torch


def test_half_probability_costs_one_bit_per_pixel(student):
    x = (torch.rand(4, 1, 8, 8) < 0.5).float()
    loss = student.reconstruction_loss(x, torch.zeros_like(x))
    assert loss.dim() == 0, "return a scalar: sum over pixels, mean over the batch"
    torch.testing.assert_close(loss, torch.tensor(64 * math.log(2.0)))


def test_differentiable_and_stable(student):
    x = torch.tensor([[1.0, 0.0]])
    logits = torch.tensor([[-150.0, 150.0]], requires_grad=True)
    loss = student.reconstruction_loss(x, logits)
    assert torch.isfinite(loss), "compute the loss from logits (F.binary_cross_entropy_with_logits)"
    torch.testing.assert_close(loss.detach(), torch.tensor(300.0))
    assert loss.requires_grad, ("the loss carries no gradient: keep it a torch computation on the logits "
                                "(no .item(), .detach(), numpy or torch.tensor(...) around it)")
    loss.backward()
    assert logits.grad is not None
