"""A correct dcgan.py whose discriminator applies its activations in forward with F.leaky_relu (no LeakyReLU modules).

DCGAN blocks for 8x8 digits, in PyTorch.

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
import torch.nn.functional as F
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
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class Generator(nn.Module):
    """z (B, z_dim) -> images (B, 1, 8, 8) in [-1, 1]; initialised with init_weights."""

    def __init__(self, z_dim=32, base_channels=32):
        super().__init__()
        b = base_channels
        self.net = nn.Sequential(
            nn.ConvTranspose2d(z_dim, 2 * b, 2, 1, 0, bias=False),  # (B, 2b, 2, 2)
            nn.BatchNorm2d(2 * b),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * b, b, 4, 2, 1, bias=False),  # (B, b, 4, 4)
            nn.BatchNorm2d(b),
            nn.ReLU(),
            nn.ConvTranspose2d(b, 1, 4, 2, 1),  # (B, 1, 8, 8)
            nn.Tanh(),
        )
        self.apply(init_weights)

    def forward(self, z):
        return self.net(z[:, :, None, None])  # (B, 1, 8, 8)


class Discriminator(nn.Module):
    """images (B, 1, 8, 8) -> logits (B,); initialised with init_weights."""

    def __init__(self, base_channels=32):
        super().__init__()
        b = base_channels
        self.conv1 = nn.Conv2d(1, b, 4, 2, 1)
        self.conv2 = nn.Conv2d(b, 2 * b, 4, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(2 * b)
        self.conv3 = nn.Conv2d(2 * b, 1, 2, 1, 0)
        self.apply(init_weights)

    def forward(self, x):
        h = F.leaky_relu(self.conv1(x), 0.2)
        h = F.leaky_relu(self.bn2(self.conv2(h)), negative_slope=0.2)
        return self.conv3(h).flatten()
