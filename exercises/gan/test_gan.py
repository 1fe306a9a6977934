"""Public checks for gan.py — run them with `course check gan` (or `pytest exercises/gan`).

They test the basics on small inputs, and catch a few common mistakes early (a loss on
probabilities at extreme logits, a .item() where a tensor is asked for). The hidden
checks used for grading test more: other batch sizes and logits, gradients of both
generator losses, two exact SGD steps, and a short training run on a ring of 8 Gaussians.
"""

import math

import pytest
import torch
from torch import nn


def test_losses_at_zero_logits(student):
    """σ(0) = ½: each −log term is ln 2."""
    real, fake = torch.zeros(6, 1), torch.zeros(4, 1)  # different batch sizes are allowed
    torch.testing.assert_close(student.discriminator_loss(real, fake), torch.tensor(2 * math.log(2)))
    torch.testing.assert_close(student.generator_loss(fake), torch.tensor(math.log(2)))
    torch.testing.assert_close(student.generator_loss_minimax(fake), torch.tensor(-math.log(2)))


def test_losses_match_formulas(student):
    torch.manual_seed(0)
    real, fake = torch.randn(8), torch.randn(5)
    expected_d = -torch.log(torch.sigmoid(real)).mean() - torch.log(1 - torch.sigmoid(fake)).mean()
    torch.testing.assert_close(student.discriminator_loss(real, fake), expected_d)
    torch.testing.assert_close(student.generator_loss(fake), -torch.log(torch.sigmoid(fake)).mean())
    torch.testing.assert_close(student.generator_loss_minimax(fake), torch.log(1 - torch.sigmoid(fake)).mean())


def test_losses_are_scalars_that_carry_gradients(student):
    fake = torch.randn(3, 1, requires_grad=True)
    for loss in (student.discriminator_loss(torch.randn(3, 1), fake), student.generator_loss(fake),
                 student.generator_loss_minimax(fake)):
        assert isinstance(loss, torch.Tensor) and loss.shape == (), "return a 0-d tensor (the mean over the batch)"
        assert loss.requires_grad, "return a tensor that gradients flow through (no .item(), .detach() or NumPy)"


def test_losses_exact_for_confident_logits(student):
    logits = torch.tensor([-150.0, 150.0])  # -log σ(-150) = 150, -log σ(150) ≈ 0
    for loss, expected in ((student.discriminator_loss(logits, logits), 150.0), (student.generator_loss(logits), 75.0),
                           (student.generator_loss_minimax(logits), -75.0)):
        assert torch.isfinite(loss), "use F.logsigmoid / F.softplus: log(sigmoid(x)) underflows to -inf"
        torch.testing.assert_close(loss, torch.tensor(expected), msg="a loss on probabilities clamps at ±100")


def test_train_step_returns_floats_and_updates_both(student):
    torch.manual_seed(0)
    generator, discriminator = nn.Linear(3, 2), nn.Linear(2, 1)
    g_opt = torch.optim.SGD(generator.parameters(), lr=0.1)
    d_opt = torch.optim.SGD(discriminator.parameters(), lr=0.1)
    g_before = generator.weight.detach().clone()
    d_before = discriminator.weight.detach().clone()
    d_loss, g_loss = student.gan_train_step(generator, discriminator, g_opt, d_opt, torch.randn(8, 2), torch.randn(6, 3))
    assert type(d_loss) is float and type(g_loss) is float, "return the losses with .item()"
    assert not torch.equal(generator.weight, g_before), "the generator should be updated"
    assert not torch.equal(discriminator.weight, d_before), "the discriminator should be updated"


@pytest.mark.parametrize("name", ["generator_loss", "generator_loss_minimax"])
def test_generator_losses_decrease_when_fakes_fool_d(student, name):
    """Both generator losses get lower as D's logits on the fakes go up."""
    low, high = torch.full((4,), -3.0), torch.full((4,), 3.0)
    loss = getattr(student, name)
    assert loss(high) < loss(low)
