"""WRONG: row i shifted left (starts at column H - 1 - i)."""

import torch


def skew(x):
    B, C, H, W = x.shape
    out = x.new_zeros(B, C, H, W + H - 1)
    for i in range(H):
        out[:, :, i, H - 1 - i:H - 1 - i + W] = x[:, :, i]
    return out


def unskew(s):
    B, C, H, width = s.shape
    W = width - H + 1
    return torch.stack([s[:, :, i, H - 1 - i:H - 1 - i + W] for i in range(H)], dim=2)
