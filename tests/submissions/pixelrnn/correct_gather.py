"""CORRECT, written differently: skew by padding and reshaping, unskew with gather."""

import torch
import torch.nn.functional as F


def skew(x):
    B, C, H, W = x.shape
    padded = F.pad(x, (0, H))  # (B, C, H, W + H): row i then shifts by i after the flat reshape
    flat = padded.reshape(B, C, H * (W + H))[..., : H * (W + H - 1)]
    return flat.reshape(B, C, H, W + H - 1)


def unskew(s):
    B, C, H, width = s.shape
    W = width - H + 1
    index = (torch.arange(H, device=s.device)[:, None] + torch.arange(W, device=s.device)[None, :])
    return torch.gather(s, 3, index.expand(B, C, H, W))
