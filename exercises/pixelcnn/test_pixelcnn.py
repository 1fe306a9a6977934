"""Public checks for pixelcnn.py — run them with `course check pixelcnn` (or `pytest exercises/pixelcnn`).

They test the basics on small inputs, and catch a few common mistakes early (a mask
that does not survive an optimizer step, sampling in one pass or column by column, an
unstable or non-differentiable loss). The hidden checks test more: every odd kernel
size, stacks of layers, other shapes and seeds, and a short training run of a PixelCNN
built from your layer.
"""

import math

import torch


def test_mask_3x3(student):
    a = student.causal_mask(3, "A")
    b = student.causal_mask(3, "B")
    torch.testing.assert_close(a.float(), torch.tensor([[1.0, 1, 1], [1, 0, 0], [0, 0, 0]]))
    torch.testing.assert_close(b.float(), torch.tensor([[1.0, 1, 1], [1, 1, 0], [0, 0, 0]]))


def test_masked_conv_keeps_shape_and_masks(student):
    torch.manual_seed(0)
    layer = student.MaskedConv2d(1, 2, 3, "A")
    x = torch.randn(4, 1, 5, 6)
    assert layer(x).shape == (4, 2, 5, 6), "padding should default to kernel_size // 2"
    x2 = x.clone()
    x2[:, :, 2, 3] += 10.0  # change one pixel: the output at that pixel and earlier ones must not move
    y, y2 = layer(x), layer(x2)
    torch.testing.assert_close(y[:, :, 2, 3], y2[:, :, 2, 3], msg="type A: the output must not see its own pixel")
    torch.testing.assert_close(y[:, :, :2], y2[:, :, :2], msg="earlier rows must not see a later pixel")


def test_nll_of_fair_coins_is_one_bit(student):
    x = (torch.rand(3, 1, 4, 4) < 0.5).float()
    value = student.nll_bits_per_dim(torch.zeros(3, 1, 4, 4), x)
    assert math.isclose(float(value), 1.0, rel_tol=1e-5), "logits 0 mean p = 1/2: exactly 1 bit per pixel"


def test_sample_shape_and_values(student):
    model = torch.nn.Conv2d(1, 1, 1)  # a stand-in "model" that returns logits shaped like x
    images = student.sample(model, 2, (1, 3, 3))
    assert images.shape == (2, 1, 3, 3)
    assert set(images.unique().tolist()) <= {0.0, 1.0}


def test_mask_still_holds_after_an_optimizer_step(student):
    """Masking the weights once at construction is not enough: the step makes them non-zero again."""
    torch.manual_seed(0)
    layer = student.MaskedConv2d(1, 1, 3, "A")
    optimizer = torch.optim.SGD(layer.parameters(), lr=1.0)
    layer(torch.randn(2, 1, 5, 5)).pow(2).sum().backward()
    optimizer.step()
    x = torch.randn(1, 1, 5, 5)
    x2 = x.clone()
    x2[:, :, 2, 2] += 10.0
    with torch.no_grad():
        torch.testing.assert_close(layer(x)[:, :, 2, 2], layer(x2)[:, :, 2, 2],
                                   msg="after an optimizer step the output sees its own pixel: apply the mask in forward")


class AlternatingModel(torch.nn.Module):
    """Deterministic: a pixel is 1 exactly when the previous pixel in raster order is 0 (the first one is 1)."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor(100.0))

    def forward(self, x):
        flat = x.flatten(2)
        previous = torch.cat([torch.zeros_like(flat[..., :1]), flat[..., :-1]], dim=-1)
        return (self.scale * (1 - 2 * previous)).reshape(x.shape)


def test_sample_draws_pixels_one_at_a_time_in_raster_order(student):
    with torch.no_grad():
        images = student.sample(AlternatingModel(), 1, (1, 2, 3))
    expected = torch.tensor([[1.0, 0, 1], [0, 1, 0]])
    assert torch.equal(images[0, 0].float(), expected), (
        f"got {images[0, 0].tolist()}: draw each pixel after the ones before it in raster order (row by row, left "
        "to right), running the model again on the partly sampled image")


def test_nll_exact_for_confident_logits(student):
    x = torch.tensor([[[[1.0, 0.0]]]])
    logits = torch.tensor([[[[-100.0, 100.0]]]], requires_grad=True)  # both confidently wrong: 100 nats each
    value = student.nll_bits_per_dim(logits, x)
    assert torch.isfinite(value), "compute the loss from the logits (F.binary_cross_entropy_with_logits)"
    assert math.isclose(float(value), 100 / math.log(2), rel_tol=1e-4), "a loss on probabilities clamps at ±100"
    assert value.requires_grad, "return a tensor that gradients flow through (no .item())"
