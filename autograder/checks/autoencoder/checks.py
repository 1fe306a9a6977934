"""Hidden checks of the autoencoder exercise: each judges one behaviour and names the likely mistake.

Every explanation a message gives is tested on the trusted side first: "a loss on probabilities" only when
the value is what such a loss returns on these inputs, "wrong only for confident logits" only when the
moderate inputs come out right (tests/test_vae.py triggers each message with a submission).
"""

import numpy as np

from autograder.checking import CheckSet, Mistake
from autograder.checks.bernoulli import (FROM_LOGITS, NOT_FINITE_CAUSES, ON_PROBABILITIES, PRECISION_CAUSES, nll,
                                         nll_through_probabilities)
from autograder.checks.diagnostics import describe_difference
from autograder.checks.judging import as_array, judge_dtypes

CHECKS = CheckSet("autograder.checks.autoencoder.probes")
MODERATE = ("image", "flat")  # the probe's inputs with moderate logits; "extreme" has logits of ±150
RTOL, ATOL = 1e-5, 1e-4


def reference_loss(x, logits) -> float:
    """Bernoulli NLL summed over pixels, averaged over the batch (float64, from the logits)."""
    return float(nll(x, logits).mean())


SWAPPED = ("the arguments of F.binary_cross_entropy_with_logits are swapped: it takes the logits first, then the "
           "targets x")


def reductions(per_example: np.ndarray, pixels: int) -> dict:
    """Wrong reductions of per-example losses: description -> value."""
    return {
        "the loss is averaged over pixels; sum over each image's pixels, then average over the batch":
            per_example.mean() / pixels,
        "the loss is summed over the batch; average it over the examples": per_example.sum(),
        "the loss has the wrong sign: minimise the negative log-likelihood (binary cross-entropy ≥ 0)":
            -per_example.mean(),
    }


def _close(value, expected) -> bool:
    return bool(np.isclose(value, expected, rtol=RTOL, atol=ATOL))


def _loss_value(ev, label) -> float:
    """The student's loss on inputs `label` as a float (may be NaN or infinite), or a Mistake about its shape."""
    x, value = ev.inputs[f"x_{label}"], ev.student[label]
    shape = np.shape(value) if value is not None and not isinstance(value, str) else None
    if shape not in ((), (1,)):  # a 0-d scalar crosses the boundary as shape (1,)
        if shape == (x.shape[0],):
            raise Mistake("the loss has one value per example: average it over the batch to a scalar")
        if shape == x.shape:
            raise Mistake("the loss has one value per pixel: sum over pixels, then average over the batch")
        as_array(value, "reconstruction_loss", (), ev.types[label])
    return float(as_array(value, "reconstruction_loss", shape, ev.types[label]).reshape(()))


def _right_on(ev, label) -> bool:
    try:
        value = _loss_value(ev, label)
    except Mistake:
        return False
    return _close(value, reference_loss(ev.inputs[f"x_{label}"], ev.inputs[f"logits_{label}"]))


def _judge_moderate(ev, label):
    x, logits = ev.inputs[f"x_{label}"], ev.inputs[f"logits_{label}"]
    loss = _loss_value(ev, label)
    if not np.isfinite(loss):
        raise Mistake(f"`reconstruction_loss` is {loss} for moderate logits")
    per_example = nll(x, logits)
    if _close(loss, per_example.mean()):
        return 1.0
    pixels = int(np.prod(x.shape[1:]))
    for description, expected in reductions(per_example, pixels).items():
        if _close(loss, expected):
            raise Mistake(description)
    if _close(loss, nll(logits, x).mean()):
        raise Mistake(SWAPPED)
    found = describe_difference(np.array([loss]), np.array([per_example.mean()]), "the loss",
                                sizes={"B": x.shape[0], "P": pixels})
    raise Mistake(f"{found} (B = {x.shape[0]} examples of P = {pixels} pixels): sum over each example's pixels, then "
                  "average over the batch")


def _judge_extreme(ev):
    """Stability for logits of ±150, with each explanation tested against what the student's value shows."""
    x, logits = ev.inputs["x_extreme"], ev.inputs["logits_extreme"]
    loss = _loss_value(ev, "extreme")
    moderate_right = all(_right_on(ev, label) for label in MODERATE)
    if not np.isfinite(loss):
        where = " (and right for moderate logits)" if moderate_right else ""
        raise Mistake(f"`reconstruction_loss` is {loss} for logits of ±150{where}: {NOT_FINITE_CAUSES} {FROM_LOGITS}")
    per_example = nll(x, logits)
    if _close(loss, per_example.mean()):
        return 1.0
    pixels = int(np.prod(x.shape[1:]))
    clamped = nll_through_probabilities(x, logits)
    if _close(loss, clamped.mean()):
        raise Mistake(f"wrong for confident logits (±150): your loss returns {ON_PROBABILITIES}; {FROM_LOGITS}")
    for description, expected in reductions(clamped, pixels).items():
        if _close(loss, expected):
            raise Mistake(f"{description}; and for confident logits (±150) your loss returns {ON_PROBABILITIES}; {FROM_LOGITS}")
    for description, expected in reductions(per_example, pixels).items():
        if _close(loss, expected):
            raise Mistake(description)
    difference = describe_difference(np.array([loss]), np.array([per_example.mean()]), "for logits of ±150, the loss",
                                     sizes={"B": x.shape[0], "P": pixels})
    if moderate_right:
        raise Mistake(f"right for moderate logits but wrong for confident ones: {difference}; {PRECISION_CAUSES} "
                      f"{FROM_LOGITS}")
    raise Mistake(f"{difference}; the loss is wrong for moderate logits as well (see the check of its values), so fix "
                  "that first")


@CHECKS.check("reconstruction_loss: matches the reference for image-shaped and flat inputs", points=2, probe="loss")
def loss_values(ev):
    _judge_moderate(ev, "image")
    return _judge_moderate(ev, "flat")


@CHECKS.check("reconstruction_loss: stable for logits of ±150", points=1.5, probe="loss")
def loss_extreme(ev):
    return _judge_extreme(ev)


@CHECKS.check("reconstruction_loss: a differentiable scalar tensor", points=1, probe="loss")
def loss_differentiable(ev):
    if not ev.types["image"].startswith("torch.Tensor"):
        raise Mistake(f"return a torch tensor (so the optimiser can backpropagate); got {ev.types['image']}")
    if not ev.student["differentiable"]:
        raise Mistake("the loss is not differentiable in the logits: it does not require grad, so it left the graph (.item(), .detach(), numpy or "
                      "torch.tensor(...) around it?)")
    if not ev.student["reaches_logits"]:
        raise Mistake("the loss requires grad but no gradient reaches the logits: it is a new tensor cut off from "
                      "them (torch.tensor(..., requires_grad=True)?) — compute it from the logits with torch operations")


@CHECKS.check("reconstruction_loss: a tensor with the dtype and device of its inputs (float32 and float64)", points=0.5,
              probe="dtypes")
def loss_dtypes(ev):
    return judge_dtypes(ev, ("reconstruction_loss",))
