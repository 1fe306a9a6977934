"""Probes of the PixelRNN skew/unskew exercise: they call the student's pixelrnn.py. No answers here."""

import numpy as np
import torch

from autograder.sandboxed.probekit import ContractError, ProbeSet, given_reference

PROBES = ProbeSet()

SHAPES = ((2, 1, 3, 3), (1, 2, 4, 6), (2, 3, 5, 2))  # square, wide, tall
# the round trip is judged with the reference's skew or unskew in place of the student's (label -> piece) when
# the student's pair fails it, so that a mistake in one of them costs only in its own checks.
ROUND_TRIP_GIVEN = {"given_skew": ("skew",), "given_unskew": ("unskew",)}


def _tensor(value, name):
    if not isinstance(value, torch.Tensor):
        raise ContractError(f"{name} must return a torch.Tensor; it returned {type(value).__name__}")
    return value


def _images(rng):
    return {f"x{i}": rng.normal(size=shape).astype(np.float32) for i, shape in enumerate(SHAPES)}


@PROBES.probe(inputs=_images)
def skew(pixelrnn, inputs, device):
    out = {}
    for i in range(len(SHAPES)):
        x = torch.as_tensor(inputs[f"x{i}"], device=device).requires_grad_(True)
        s = _tensor(pixelrnn.skew(x), "skew")
        out[f"s{i}"] = s.detach()
        out[f"dtype{i}"] = str(s.dtype)
        out[f"grad{i}"] = None
        if s.requires_grad:  # gradient of a weighted sum: each x entry should get its own weight back
            weights = torch.arange(s.numel(), dtype=s.dtype, device=s.device).reshape(s.shape)
            (grad,) = torch.autograd.grad((s * weights).sum(), x, allow_unused=True)
            out[f"grad{i}"] = grad
    return out


def _skewed(rng):
    return {f"s{i}": rng.normal(size=(B, C, H, W + H - 1)).astype(np.float32)
            for i, (B, C, H, W) in enumerate(SHAPES)}


@PROBES.probe(inputs=_skewed)
def unskew(pixelrnn, inputs, device):
    out = {}
    for i in range(len(SHAPES)):
        s = torch.as_tensor(inputs[f"s{i}"], device=device).requires_grad_(True)
        x = _tensor(pixelrnn.unskew(s), "unskew")
        out[f"x{i}"] = x.detach()
        out[f"differentiable{i}"] = bool(x.requires_grad)
        out[f"dtype{i}"] = str(x.dtype)
    return out


@PROBES.probe(inputs=_images, stand_ins=("skew", "unskew"))
def round_trip(pixelrnn, inputs, device):
    return given_reference(pixelrnn, inputs, {"": (), **ROUND_TRIP_GIVEN}, lambda: _round_trip(pixelrnn, inputs, device))


def _round_trip(pixelrnn, inputs, device):
    out = {}
    for i in range(len(SHAPES)):
        x = torch.as_tensor(inputs[f"x{i}"], device=device)
        out[f"x{i}"] = _tensor(pixelrnn.unskew(_tensor(pixelrnn.skew(x), "skew")), "unskew")
    return out
