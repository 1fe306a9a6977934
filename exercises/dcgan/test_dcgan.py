"""Public checks for dcgan.py — run them with `course check dcgan` (or `pytest exercises/dcgan`).

The hidden checks also test other widths, the exact parameter layout of the layer table,
the guidelines layer by layer, and the N(0, 0.02) initialisation statistics.
"""

import torch
from torch import nn


def test_generator_shape_and_range(student):
    generator = student.Generator(z_dim=32, base_channels=8).eval()
    images = generator(torch.randn(4, 32))
    assert images.shape == (4, 1, 8, 8)
    assert images.min() >= -1 and images.max() <= 1, "end the generator with Tanh"


def test_discriminator_returns_one_logit_per_image(student):
    discriminator = student.Discriminator(base_channels=8).eval()
    assert discriminator(torch.rand(4, 1, 8, 8) * 2 - 1).shape == (4,)


def test_no_pooling_and_no_sigmoid(student):
    for model in (student.Generator(), student.Discriminator()):
        for module in model.modules():
            assert not isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)), "use strided convolutions, not pooling"
            assert not isinstance(module, nn.Sigmoid), "the discriminator returns logits"


def test_init_weights(student):
    conv = nn.Conv2d(32, 32, 4)
    conv.apply(student.init_weights)
    assert abs(conv.weight.std().item() - 0.02) < 0.003, "convolution weights ~ N(0, 0.02)"
    assert torch.all(conv.bias == 0)
    bn = nn.BatchNorm2d(256)
    bn.apply(student.init_weights)
    assert abs(bn.weight.mean().item() - 1) < 0.01, "BatchNorm scales ~ N(1, 0.02)"
