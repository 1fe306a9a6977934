"""A correct flows.py written differently: torch.where on a boolean mask, torch.distributions for the base."""

import torch
from torch import nn
from torch.distributions import Independent, Normal

from genmodels.flows import Conditioner


class AffineCoupling(nn.Module):
    def __init__(self, dim, mask, hidden=64):
        super().__init__()
        mask = torch.as_tensor(mask, dtype=torch.float32)
        if mask.shape != (dim,):
            raise ValueError(f"mask must have shape ({dim},), got {tuple(mask.shape)}")
        self.register_buffer("mask", mask)
        self.conditioner = Conditioner(dim, hidden)

    def _scale_shift(self, v):
        keep = self.mask.bool()
        s, t = self.conditioner(torch.where(keep, v, torch.zeros_like(v)))
        zero = torch.zeros_like(s)
        return torch.where(keep, zero, s), torch.where(keep, zero, t), keep

    def forward(self, x):
        s, t, keep = self._scale_shift(x)
        y = torch.where(keep, x, x * s.exp() + t)
        return y, s.sum(-1)

    def inverse(self, y):
        s, t, keep = self._scale_shift(y)
        return torch.where(keep, y, (y - t) * (-s).exp())


def _base(z):
    return Independent(Normal(torch.zeros_like(z), torch.ones_like(z)), 1)


def flow_log_prob(layers, x):
    z, log_det = x, 0.0
    for layer in layers:
        z, step = layer(z)
        log_det = log_det + step
    return _base(z).log_prob(z) + log_det


def flow_sample(layers, n, dim):
    reference = next(iter(layers[0].parameters()), None) if layers else None
    template = torch.zeros(n, dim) if reference is None else torch.zeros(n, dim, dtype=reference.dtype,
                                                                         device=reference.device)
    x = _base(template).sample()
    with torch.no_grad():
        for layer in layers[::-1]:
            x = layer.inverse(x)
    return x
