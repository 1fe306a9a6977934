"""WRONG: the skewed width is 2W - 1, which holds only for square images."""

import torch


def skew(x):
    B, C, H, W = x.shape
    out = x.new_zeros(B, C, H, 2 * W - 1)
    for i in range(H):
        out[:, :, i, i:i + W] = x[:, :, i][..., : max(0, min(W, 2 * W - 1 - i))]
    return out


def unskew(s):
    B, C, H, width = s.shape
    W = (width + 1) // 2
    return torch.stack([s[:, :, i, i:i + W] for i in range(H)], dim=2)
