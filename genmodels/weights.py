"""Trained weights as plain arrays: what crosses the grading sandbox's boundary, read by behaviour.

Each `nn.Linear` layer of a model, in module order, gives its effective `weight` and
`bias` (under torch.nn.utils.parametrize that is the parametrised weight), never its
state_dict key names, so a submission's own attribute names do not matter.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def linear_parameters(model: nn.Module) -> list:
    """[weight, bias, weight, bias, ...] of each Linear layer, in order (what crosses the sandbox)."""
    out = []
    for layer in model.modules():
        if isinstance(layer, nn.Linear):
            out += [layer.weight.detach().cpu(), layer.bias.detach().cpu()]
    return out


def load_linear_parameters(model: nn.Module, arrays) -> nn.Module:
    """Copy `linear_parameters`-ordered arrays into `model`; raises ValueError on a shape mismatch."""
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    arrays = list(arrays)
    if len(arrays) != 2 * len(layers):
        raise ValueError(f"expected {2 * len(layers)} arrays, got {len(arrays)}")
    with torch.no_grad():
        for layer, weight, bias in zip(layers, arrays[0::2], arrays[1::2]):
            for parameter, value in ((layer.weight, weight), (layer.bias, bias)):
                value = torch.as_tensor(np.asarray(value), dtype=parameter.dtype)
                if value.shape != parameter.shape:
                    raise ValueError(f"shape {tuple(value.shape)} where {tuple(parameter.shape)} belongs")
                parameter.copy_(value)
    return model
