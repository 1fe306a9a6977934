"""Probes of the autoencoder exercise: they call the student's autoencoder.py. No answers here."""

import numpy as np

from autograder.sandboxed.probekit import ProbeSet, meta_result

PROBES = ProbeSet(warm_imports=("torch.fx.experimental.symbolic_shapes",))  # what meta kernels import (sympy)


def _loss_inputs(rng):
    B = 12
    extreme = rng.choice([-150.0, 150.0], size=(B, 64))
    x_extreme = (rng.random((B, 64)) < 0.5).astype(np.float64)
    x_extreme[:, :2] = [1.0, 0.0]
    extreme[:, :2] = [-150.0, 150.0]  # confidently wrong pixels in every example
    return {
        "x_image": (rng.random((B, 1, 8, 8)) < 0.4).astype(np.float64), "logits_image": rng.normal(scale=3.0, size=(B, 1, 8, 8)),
        "x_flat": (rng.random((5, 20)) < 0.6).astype(np.float64), "logits_flat": rng.normal(scale=2.0, size=(5, 20)),
        "x_extreme": x_extreme, "logits_extreme": extreme,
    }


@PROBES.probe(inputs=_loss_inputs)
def loss(autoencoder, inputs, device):
    import torch

    out = {}
    for label in ("image", "flat", "extreme"):
        x = torch.as_tensor(inputs[f"x_{label}"], dtype=torch.float32, device=device)
        logits = torch.as_tensor(inputs[f"logits_{label}"], dtype=torch.float32, device=device).requires_grad_(True)
        value = autoencoder.reconstruction_loss(x, logits)
        out[label] = value
        if label == "image":
            out["differentiable"] = bool(getattr(value, "requires_grad", False))
            # a fresh tensor made with requires_grad=True requires grad too: does a gradient reach the logits?
            out["reaches_logits"] = out["differentiable"] and torch.autograd.grad(
                value.sum(), logits, allow_unused=True)[0] is not None
    return out


@PROBES.probe(inputs=_loss_inputs)
def dtypes(autoencoder, inputs, device):
    """The loss on float32 and float64 inputs: what comes back keeps the dtype and device (in `types`)."""
    import torch

    out = {"device": str(torch.device(device))}
    for label, dtype in (("32", torch.float32), ("64", torch.float64)):
        x = torch.as_tensor(inputs["x_image"], dtype=dtype, device=device)
        logits = torch.as_tensor(inputs["logits_image"], dtype=dtype, device=device)
        out[f"reconstruction_loss{label}"] = autoencoder.reconstruction_loss(x, logits)
    meta = torch.empty(x.shape, device="meta")
    out["reconstruction_loss_meta"] = meta_result(lambda: autoencoder.reconstruction_loss(meta, meta))
    return out
