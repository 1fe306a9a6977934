"""Hidden checks of the autoencoder exercise: each judges one behaviour and names the likely mistake."""

import numpy as np
import torch
import torch.nn.functional as F

from autograder.checking import CheckSet, Mistake
from autograder.checks.diagnostics import describe_difference
from autograder.checks.judging import as_array, judge_dtypes, require_finite

CHECKS = CheckSet("autograder.checks.autoencoder.probes")


def reference_loss(x, logits):
    """Bernoulli NLL summed over pixels, averaged over the batch (float64, from the logits)."""
    nll = F.binary_cross_entropy_with_logits(torch.as_tensor(logits), torch.as_tensor(x), reduction="none")
    return float(nll.flatten(1).sum(1).mean())


def _right_on_moderate_logits(ev) -> bool:
    """Whether the loss is right on the probe's moderate logits (then a wrong value at ±150 is a stability problem)."""
    value = ev.student.get("image")
    try:
        loss = float(np.asarray(value, dtype=float).reshape(()))
    except (TypeError, ValueError):
        return False
    return bool(np.isclose(loss, reference_loss(ev.inputs["x_image"], ev.inputs["logits_image"]), rtol=1e-5, atol=1e-4))


def _judge(ev, label, hint=""):
    x, logits = ev.inputs[f"x_{label}"], ev.inputs[f"logits_{label}"]
    reference = reference_loss(x, logits)
    value = ev.student[label]
    shape = np.shape(value) if value is not None and not isinstance(value, str) else None
    if shape not in ((), (1,)):  # a 0-d scalar crosses the boundary as shape (1,)
        if shape == (x.shape[0],):
            raise Mistake("the loss has one value per example: average it over the batch to a scalar")
        if shape == x.shape:
            raise Mistake("the loss has one value per pixel: sum over pixels, then average over the batch")
        as_array(value, "reconstruction_loss", (), ev.types[label])
    loss = float(as_array(value, "reconstruction_loss", shape, ev.types[label]).reshape(()))
    require_finite(np.array(loss), "reconstruction_loss", hint)
    if np.isclose(loss, reference, rtol=1e-5, atol=1e-4):
        return 1.0
    B, P = x.shape[0], int(np.prod(x.shape[1:]))
    variants = {
        "the loss is averaged over pixels; sum over each image's pixels, then average over the batch": reference / P,
        "the loss is summed over the batch; average it over the examples": reference * B,
        "the loss has the wrong sign: minimise the negative log-likelihood (binary cross-entropy ≥ 0)": -reference,
        "the arguments of F.binary_cross_entropy_with_logits are swapped: it takes the logits first, then the "
        "targets x": reference_loss(logits, x),
    }
    for description, expected in variants.items():
        if np.isclose(loss, expected, rtol=1e-5, atol=1e-4):
            raise Mistake(description)
    found = describe_difference(np.array([loss]), np.array([reference]), "the loss", sizes={"B": B, "P": P})
    if label == "extreme" and _right_on_moderate_logits(ev):
        raise Mistake("wrong for confident logits (±150): a loss on probabilities (sigmoid, then BCE or log) clamps; "
                      f"compute it from the logits with F.binary_cross_entropy_with_logits ({found})")
    raise Mistake(f"{found} (B = {B} examples of P = {P} pixels): sum over each example's pixels, then average over "
                  "the batch")


@CHECKS.check("reconstruction_loss: matches the reference for image-shaped and flat inputs", points=2, probe="loss")
def loss_values(ev):
    _judge(ev, "image")
    return _judge(ev, "flat")


@CHECKS.check("reconstruction_loss: stable for logits of ±150", points=1.5, probe="loss")
def loss_extreme(ev):
    return _judge(ev, "extreme", ": it is computed from probabilities — use F.binary_cross_entropy_with_logits")


@CHECKS.check("reconstruction_loss: a differentiable scalar tensor", points=1, probe="loss")
def loss_differentiable(ev):
    if not ev.types["image"].startswith("torch.Tensor"):
        raise Mistake(f"return a torch tensor (so the optimiser can backpropagate); got {ev.types['image']}")
    if not ev.student["differentiable"]:
        raise Mistake("the loss does not depend differentiably on the logits (.item(), .detach() or numpy?)")


@CHECKS.check("reconstruction_loss: a tensor with the dtype and device of its inputs (float32 and float64)", points=0.5,
              probe="dtypes")
def loss_dtypes(ev):
    return judge_dtypes(ev, ("reconstruction_loss",))
