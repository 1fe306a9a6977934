# Generated from the reference solution by `course stubs`. Fill in the parts that raise NotImplementedError.
"""DCGAN blocks for 8x8 digits, in PyTorch.

The DCGAN guidelines (Radford, Metz & Chintala, 2016):

- no pooling: the discriminator downsamples with strided convolutions, the
  generator upsamples with fractionally-strided (transposed) convolutions;
- batch normalisation in both networks, except the generator's output layer and
  the discriminator's input layer;
- ReLU in the generator with Tanh on the output; LeakyReLU (slope 0.2) in the
  discriminator, which outputs logits (no sigmoid: the loss takes logits);
- every weight drawn from N(0, 0.02); BatchNorm scales from N(1, 0.02), shifts 0.

Layers (b = base_channels; shapes for a batch of B):

  Generator      z (B, z_dim) -> (B, z_dim, 1, 1)
                 ConvTranspose2d(z_dim, 2b, 2, stride 1, pad 0, no bias) -> (B, 2b, 2, 2), BatchNorm2d, ReLU
                 ConvTranspose2d(2b, b, 4, stride 2, pad 1, no bias)     -> (B, b, 4, 4),  BatchNorm2d, ReLU
                 ConvTranspose2d(b, 1, 4, stride 2, pad 1)              -> (B, 1, 8, 8),  Tanh
  Discriminator  x (B, 1, 8, 8)
                 Conv2d(1, b, 4, stride 2, pad 1)              -> (B, b, 4, 4),  LeakyReLU(0.2)
                 Conv2d(b, 2b, 4, stride 2, pad 1, no bias)    -> (B, 2b, 2, 2), BatchNorm2d, LeakyReLU(0.2)
                 Conv2d(2b, 1, 2, stride 1, pad 0)             -> (B, 1, 1, 1) -> logits (B,)
"""

import torch
from torch import nn


def init_weights(module):
    """DCGAN initialisation, for `model.apply(init_weights)`.

    Inputs:
        module: any nn.Module. Conv2d / ConvTranspose2d weights ~ N(0, 0.02) and
                their biases (if any) 0; BatchNorm2d weights ~ N(1, 0.02), biases 0;
                other modules are left alone.
    Returns:
        None (initialises in place).
    """
    # YOUR CODE HERE
    raise NotImplementedError


class Generator(nn.Module):
    """z (B, z_dim) -> images (B, 1, 8, 8) in [-1, 1]; initialised with init_weights."""

    def __init__(self, z_dim=32, base_channels=32):
        super().__init__()
        # YOUR CODE HERE
        raise NotImplementedError

    def forward(self, z):
        # YOUR CODE HERE
        raise NotImplementedError


class Discriminator(nn.Module):
    """images (B, 1, 8, 8) -> logits (B,); initialised with init_weights."""

    def __init__(self, base_channels=32):
        super().__init__()
        # YOUR CODE HERE
        raise NotImplementedError

    def forward(self, x):
        # YOUR CODE HERE
        raise NotImplementedError
