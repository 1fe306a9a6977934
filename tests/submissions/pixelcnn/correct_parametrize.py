"""CORRECT, written differently: the mask lives in a torch.nn.utils.parametrize parametrization."""

import math

import torch
from torch import nn
from torch.nn.utils import parametrize


def causal_mask(kernel_size, mask_type):
    if mask_type not in ("A", "B"):
        raise ValueError(f"unknown mask type {mask_type!r}")
    k, c = kernel_size, kernel_size // 2
    flat = torch.arange(k * k).reshape(k, k)
    limit = c * k + c + (1 if mask_type == "B" else 0)  # raster positions before (or up to) the centre
    return (flat < limit).float()


class _Mask(nn.Module):
    def __init__(self, mask):
        super().__init__()
        self.register_buffer("mask", mask)

    def forward(self, weight):
        return weight * self.mask


class MaskedConv2d(nn.Conv2d):
    def __init__(self, in_channels, out_channels, kernel_size, mask_type, **conv_kwargs):
        conv_kwargs = {"padding": kernel_size // 2, **conv_kwargs}
        super().__init__(in_channels, out_channels, kernel_size, **conv_kwargs)
        parametrize.register_parametrization(self, "weight", _Mask(causal_mask(kernel_size, mask_type)))


def nll_bits_per_dim(logits, x):
    B = x.shape[0]
    nats = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    return nats / (x.numel() * math.log(2))


@torch.no_grad()
def sample(model, n, image_shape, device=None):
    if device is None:
        device = next(iter(model.parameters())).device
    C, H, W = image_shape
    x = torch.zeros(n, C, H * W, device=device)
    for t in range(H * W):
        logits = model(x.view(n, C, H, W)).reshape(n, C, H * W)
        x[:, :, t] = torch.bernoulli(torch.sigmoid(logits[:, :, t]))
    return x.view(n, C, H, W)
