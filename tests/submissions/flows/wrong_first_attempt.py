"""A wrong flows.py as a student might first write it, not an edit of the reference: torch.chunk-free
masking by multiplication, torch.distributions for the base, and two mistakes — forward returns the
inverse's log-determinant (-sum of s), and flow_sample undoes the layers in list order."""

import torch
from torch import nn
from torch.distributions import Normal

from genmodels.flows import Conditioner


class AffineCoupling(nn.Module):
    def __init__(self, dim, mask, hidden=64):
        super().__init__()
        self.register_buffer("mask", torch.as_tensor(mask, dtype=torch.float32))
        self.conditioner = Conditioner(dim, hidden)

    def forward(self, x):
        m = self.mask
        s, t = self.conditioner(m * x)
        s, t = (1 - m) * s, (1 - m) * t
        y = m * x + (1 - m) * (x * torch.exp(s) + t)
        log_det = -torch.sum(s, dim=-1)  # mistake: the sign of the inverse's log-determinant
        return y, log_det

    def inverse(self, y):
        m = self.mask
        s, t = self.conditioner(m * y)
        s, t = (1 - m) * s, (1 - m) * t
        return m * y + (1 - m) * ((y - t) / torch.exp(s))


def flow_log_prob(layers, x):
    log_det_sum = torch.zeros(len(x), dtype=x.dtype, device=x.device)
    for layer in layers:
        x, log_det = layer(x)
        log_det_sum += log_det
    return Normal(0.0, 1.0).log_prob(x).sum(dim=1) + log_det_sum


def flow_sample(layers, n, dim):
    device = next(layers[0].parameters()).device
    dtype = next(layers[0].parameters()).dtype
    z = torch.randn(n, dim, device=device, dtype=dtype)
    with torch.no_grad():
        for layer in layers:  # mistake: the last layer must be undone first
            z = layer.inverse(z)
    return z
