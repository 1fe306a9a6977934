"""CORRECT, written differently: a mask built with loops, recomputed in every forward, explicit F.conv2d."""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def causal_mask(kernel_size, mask_type):
    if mask_type not in ["A", "B"]:
        raise ValueError("mask_type must be A or B")
    mask = torch.zeros((kernel_size, kernel_size))
    c = kernel_size // 2
    for i in range(kernel_size):
        for j in range(kernel_size):
            if i < c or (i == c and j < c) or (i == c and j == c and mask_type == "B"):
                mask[i, j] = 1
    return mask


class MaskedConv2d(nn.Conv2d):
    def __init__(self, in_channels, out_channels, kernel_size, mask_type, **conv_kwargs):
        if "padding" not in conv_kwargs:
            conv_kwargs["padding"] = kernel_size // 2
        super().__init__(in_channels, out_channels, kernel_size, **conv_kwargs)
        self.mask_type = mask_type

    def forward(self, x):
        mask = causal_mask(self.kernel_size[0], self.mask_type).to(self.weight.device)
        return F.conv2d(x, self.weight * mask, self.bias, self.stride, self.padding, self.dilation, self.groups)


def nll_bits_per_dim(logits, x):
    log_p = x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)
    D = np.prod(x.shape[1:])
    return -(log_p.sum(dim=(1, 2, 3)) / D).mean() / np.log(2)


def sample(model, n, image_shape, device=None):
    device = device or next(model.parameters()).device
    x = torch.zeros((n,) + tuple(image_shape), device=device)
    C, H, W = image_shape
    with torch.no_grad():
        for r in range(H):
            for c in range(W):
                probs = torch.sigmoid(model(x))[:, :, r, c]
                x[:, :, r, c] = (torch.rand_like(probs) < probs).float()
    return x
