"""A correct flows.py with explicit loops over coordinates and layers, and a multivariate normal base."""

import torch
from torch import nn
from torch.distributions import MultivariateNormal

from genmodels.flows import Conditioner


class AffineCoupling(nn.Module):
    def __init__(self, dim, mask, hidden=64):
        super().__init__()
        mask = torch.as_tensor(mask, dtype=torch.float32)
        if mask.shape != (dim,):
            raise ValueError(f"mask must have shape ({dim},), got {tuple(mask.shape)}")
        self.register_buffer("mask", mask)
        self.conditioner = Conditioner(dim, hidden)

    def forward(self, x):
        s, t = self.conditioner(x * self.mask)
        columns, log_det = [], torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        for i in range(x.shape[1]):
            if self.mask[i] == 1:
                columns.append(x[:, i])
            else:
                columns.append(x[:, i] * torch.exp(s[:, i]) + t[:, i])
                log_det = log_det + s[:, i]
        return torch.stack(columns, dim=1), log_det

    def inverse(self, y):
        s, t = self.conditioner(y * self.mask)
        columns = []
        for i in range(y.shape[1]):
            if self.mask[i] == 1:
                columns.append(y[:, i])
            else:
                columns.append((y[:, i] - t[:, i]) / torch.exp(s[:, i]))
        return torch.stack(columns, dim=1)


def flow_log_prob(layers, x):
    total = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
    z = x
    for k in range(len(layers)):
        z, log_det = layers[k](z)
        total += log_det
    D = x.shape[1]
    base = MultivariateNormal(torch.zeros(D, dtype=x.dtype, device=x.device),
                              torch.eye(D, dtype=x.dtype, device=x.device))
    return base.log_prob(z) + total


def flow_sample(layers, n, dim):
    params = [p for layer in layers for p in layer.parameters()]
    dtype = params[0].dtype if params else torch.float32
    device = params[0].device if params else "cpu"
    x = torch.randn(n, dim, dtype=torch.float64, device=device).to(dtype)
    with torch.no_grad():
        for k in range(len(layers) - 1, -1, -1):
            x = layers[k].inverse(x)
    return x
