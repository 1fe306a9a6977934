"""Probes of the PixelRNN skew/unskew exercise: they call the student's pixelrnn.py. No answers here."""

import numpy as np
import torch

from autograder.sandboxed.probekit import ContractError, ProbeSet, given_stand_ins, meta_result

PROBES = ProbeSet(warm_imports=("torch.fx.experimental.symbolic_shapes",))  # what meta kernels import (sympy)

SHAPES = ((2, 1, 3, 3), (1, 2, 4, 6), (2, 3, 5, 2))  # square, wide, tall
# the round trip is judged with a stand-in skew or unskew in place of the student's (label -> piece) when the
# student's pair fails it, compared with the reference's pair given the same stand-in, so that a mistake in one
# of them costs only in its own checks.
ROUND_TRIP_GIVEN = {"given_skew": ("skew",), "given_unskew": ("unskew",)}


def _padded(x):
    """Stand-in for skew (not its answer): every row padded on the right to width W + H - 1, none shifted."""
    H = x.shape[-2]
    return torch.nn.functional.pad(x, (0, H - 1))


def _cropped(s):
    """Stand-in for unskew: the first W = width - H + 1 columns of every row."""
    H, width = s.shape[-2], s.shape[-1]
    return s[..., : width - H + 1]


STAND_INS = {"skew": _padded, "unskew": _cropped}


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
    out["skew_meta"] = meta_result(lambda: pixelrnn.skew(torch.empty(SHAPES[1], device="meta")))
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
    B, C, H, W = SHAPES[1]
    out["unskew_meta"] = meta_result(lambda: pixelrnn.unskew(torch.empty(B, C, H, W + H - 1, device="meta")))
    return out


@PROBES.probe(inputs=_images, stand_ins=("skew", "unskew"))
def round_trip(pixelrnn, inputs, device):
    return given_stand_ins(pixelrnn, inputs, {"": (), **ROUND_TRIP_GIVEN}, lambda: _round_trip(pixelrnn, inputs, device),
                           STAND_INS)


def _round_trip(pixelrnn, inputs, device):
    out = {}
    for i in range(len(SHAPES)):
        x = torch.as_tensor(inputs[f"x{i}"], device=device)
        out[f"x{i}"] = _tensor(pixelrnn.unskew(_tensor(pixelrnn.skew(x), "skew")), "unskew")
    return out
