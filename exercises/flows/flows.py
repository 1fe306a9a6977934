# Generated from the reference solution by `course stubs`. Fill in the parts that raise NotImplementedError.
"""Normalizing flows with affine coupling layers (RealNVP), in PyTorch.

A flow is an invertible map f from data x to a latent z = f(x) with a simple base
density, here N(0, I). The change of variables gives the exact log-density

    log p(x) = log N(f(x); 0, I) + log |det ∂f/∂x|,

and when f = f_K ∘ ... ∘ f_1 the log-determinant is the sum of the layers' ones.
A coupling layer keeps some coordinates (mask 1) and transforms the others
(mask 0) elementwise with a scale and shift computed from the kept ones only, so
its Jacobian is triangular and its log-determinant is a sum of log-scales.

Fill in `AffineCoupling.forward`, `AffineCoupling.inverse`, `flow_log_prob` and
`flow_sample`. Keep `__init__` as it is: the grader rebuilds your trained layers
from `self.conditioner`'s weights.
"""

import math

import torch
from torch import nn

from genmodels.flows import Conditioner


class AffineCoupling(nn.Module):
    """RealNVP's affine coupling layer.

    y = m * x + (1 - m) * (x * exp(s) + t),   (s, t) = conditioner(m * x)

    where m is the (D,) 0/1 mask: coordinates with m = 1 pass through unchanged and
    are the only input of the conditioner; coordinates with m = 0 are scaled by
    exp(s) and shifted by t.
    """

    def __init__(self, dim, mask, hidden=64):
        super().__init__()
        mask = torch.as_tensor(mask, dtype=torch.float32)
        if mask.shape != (dim,):
            raise ValueError(f"mask must have shape ({dim},), got {tuple(mask.shape)}")
        self.register_buffer("mask", mask)  # (D,): 1 = kept (and conditions), 0 = transformed
        self.conditioner = Conditioner(dim, hidden)  # (B, D) -> s, t each (B, D); s already bounded by tanh

    def forward(self, x):
        """The layer applied to data-side inputs.

        Inputs:
            x: (B, D) tensor.
        Returns:
            y:       (B, D) = m * x + (1 - m) * (x * exp(s) + t), with (s, t) = self.conditioner(m * x).
            log_det: (B,) log |det ∂y/∂x| for every example.
        """
        # YOUR CODE HERE
        raise NotImplementedError

    def inverse(self, y):
        """The inverse map: inverse(forward(x)[0]) == x.

        Inputs:
            y: (B, D) tensor.
        Returns:
            x: (B, D) tensor.
        """
        # YOUR CODE HERE
        raise NotImplementedError


def flow_log_prob(layers, x):
    """log p(x) of a flow with a standard normal base density.

    Inputs:
        layers: list of couplings (modules whose forward returns (y, log_det)),
                applied to x in list order: z = layers[-1](...layers[0](x)).
        x:      (B, D) data.
    Returns:
        (B,) tensor: log N(z; 0, I) + the sum of the layers' log_det, where the base
        log-density includes its constant -(D / 2) * log(2 * pi).
    """
    # YOUR CODE HERE
    raise NotImplementedError


def flow_sample(layers, n, dim):
    """n samples from the flow: base samples pushed through the layers' inverses in reverse order.

    Inputs:
        layers: the list of couplings, in the order flow_log_prob applies them.
        n:      number of samples.
        dim:    D, the data dimension.
    Returns:
        (n, D) tensor: x = layers[0].inverse(...layers[-1].inverse(z)) with z ~ N(0, I),
        drawn fresh on every call, on the device and in the dtype of the layers' parameters
        (the CPU and float32 when they have none).
    """
    # YOUR CODE HERE
    raise NotImplementedError
