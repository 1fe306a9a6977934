"""WRONG: skew goes through NumPy, so no gradient reaches the input."""

import numpy as np
import torch


def skew(x):
    a = x.detach().cpu().numpy()
    B, C, H, W = a.shape
    out = np.zeros((B, C, H, W + H - 1), dtype=a.dtype)
    for i in range(H):
        out[:, :, i, i:i + W] = a[:, :, i]
    return torch.from_numpy(out)


def unskew(s):
    B, C, H, width = s.shape
    W = width - H + 1
    return torch.stack([s[:, :, i, i:i + W] for i in range(H)], dim=2)
