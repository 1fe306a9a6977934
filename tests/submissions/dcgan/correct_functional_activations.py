"""A correct dcgan.py written with named layers and functional activations in forward (no activation modules)."""

import torch
import torch.nn.functional as F
from torch import nn


def init_weights(module):
    """DCGAN initialisation: convolutions N(0, 0.02) with zero biases, BatchNorm scales N(1, 0.02) and zero shifts."""
    with torch.no_grad():
        if type(module) in (nn.Conv2d, nn.ConvTranspose2d):
            module.weight.normal_(0.0, 0.02)
            if module.bias is not None:
                module.bias.zero_()
        elif type(module) is nn.BatchNorm2d:
            module.weight.normal_(1.0, 0.02)
            module.bias.zero_()


class Generator(nn.Module):
    """z (B, z_dim) -> images (B, 1, 8, 8) in [-1, 1]."""

    def __init__(self, z_dim=32, base_channels=32):
        super().__init__()
        width = base_channels
        self.up1 = nn.ConvTranspose2d(z_dim, 2 * width, kernel_size=2, stride=1, padding=0, bias=False)
        self.norm1 = nn.BatchNorm2d(2 * width)
        self.up2 = nn.ConvTranspose2d(2 * width, width, kernel_size=4, stride=2, padding=1, bias=False)
        self.norm2 = nn.BatchNorm2d(width)
        self.up3 = nn.ConvTranspose2d(width, 1, kernel_size=4, stride=2, padding=1)
        self.apply(init_weights)

    def forward(self, z):
        h = z.view(z.shape[0], -1, 1, 1)
        h = F.relu(self.norm1(self.up1(h)))
        h = torch.relu(self.norm2(self.up2(h)))
        return torch.tanh(self.up3(h))


class Discriminator(nn.Module):
    """images (B, 1, 8, 8) -> logits (B,)."""

    def __init__(self, base_channels=32):
        super().__init__()
        width = base_channels
        self.down1 = nn.Conv2d(1, width, kernel_size=4, stride=2, padding=1)
        self.down2 = nn.Conv2d(width, 2 * width, kernel_size=4, stride=2, padding=1, bias=False)
        self.norm2 = nn.BatchNorm2d(2 * width)
        self.out = nn.Conv2d(2 * width, 1, kernel_size=2, stride=1, padding=0)
        self.apply(init_weights)

    def forward(self, x):
        h = F.leaky_relu(self.down1(x), 0.2)
        h = F.leaky_relu(self.norm2(self.down2(h)), negative_slope=0.2)
        return self.out(h).flatten()
