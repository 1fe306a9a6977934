"""Public checks for pixelcnn.py — run them with `course check pixelcnn` (or `pytest exercises/pixelcnn`).

They test the basics on small inputs. The hidden checks test more: every odd
kernel size, causality of a stack after optimizer steps, logits of ±100, exact
sampling order, and a short training run of a PixelCNN built from your layer.
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
