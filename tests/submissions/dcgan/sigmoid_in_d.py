"""Test submission — WRONG: the discriminator ends with a Sigmoid."""

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
        self.net = nn.Sequential(
            nn.Conv2d(1, b, 4, 2, 1),  # (B, b, 4, 4); no BatchNorm on the input layer
            nn.LeakyReLU(0.2),
            nn.Conv2d(b, 2 * b, 4, 2, 1, bias=False),  # (B, 2b, 2, 2)
            nn.BatchNorm2d(2 * b),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * b, 1, 2, 1, 0),  # (B, 1, 1, 1)
            nn.Sigmoid(),
        )
        self.apply(init_weights)

    def forward(self, x):
        return self.net(x).flatten()  # (B,)
