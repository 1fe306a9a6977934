"""Hidden checks of the PixelRNN skew/unskew exercise: each judges one behaviour and names the likely mistake."""

from __future__ import annotations

import numpy as np

from autograder.checking import CheckSet, Mistake, Verdict
from autograder.checks.diagnostics import describe_difference
from autograder.checks.judging import as_array, close, judge_given, judge_meta, matches_reference, named_mistake
from autograder.checks.pixelrnn.probes import ROUND_TRIP_GIVEN, SHAPES

CHECKS = CheckSet("autograder.checks.pixelrnn.probes")


def skewed(x, shift=lambda i, H: i):
    B, C, H, W = x.shape
    s = np.zeros((B, C, H, W + H - 1))
    for i in range(H):
        s[:, :, i, shift(i, H):shift(i, H) + W] = x[:, :, i]
    return s


def unskewed(s, H, W, shift=lambda i, H: i):
    return np.stack([s[:, :, i, shift(i, H):shift(i, H) + W] for i in range(H)], axis=2)


LEFT = lambda i, H: H - 1 - i  # noqa: E731  row i shifted left: the anti-diagonals become columns


@CHECKS.check("skew: row i shifted right by i, zeros elsewhere, width W + H - 1", points=2, probe="skew")
def skew_values(ev):
    correct, problems = 0, []
    for i, shape in enumerate(SHAPES):
        B, C, H, W = shape
        x = ev.inputs[f"x{i}"]
        expected = skewed(x)
        value = ev.student[f"s{i}"]
        got = tuple(np.shape(value)) if value is not None else None
        if got == (B, C, H, 2 * W - 1) and H != W:
            problems.append(f"for H={H}, W={W} the skewed width is {got[-1]} = 2W - 1; it must be W + H - 1 = "
                            f"{W + H - 1} (2W - 1 holds only for square images)")
            continue
        if got == (B, C, H + W - 1, W):
            problems.append("rows are not shifted: columns are (the image is skewed along the wrong axis); shift row "
                            "i right by i along the width")
            continue
        try:
            s = as_array(value, "skew(x)", expected.shape, ev.types[f"s{i}"])
        except Mistake as mistake:
            problems.append(str(mistake))
            continue
        if close(s, expected, atol=1e-6):
            correct += 1
            continue
        named = named_mistake(s, {
            "row i is shifted left (by H - 1 - i) instead of right by i": skewed(x, LEFT),
            "row i is shifted by i + 1 instead of i (row 0 stays where it is)": None if H < 1 else
            np.pad(skewed(x), ((0, 0), (0, 0), (0, 0), (1, 0)))[..., :-1],
        }, atol=1e-6)
        problems.append(named or describe_difference(s, expected, f"skew of a {shape} input"))
    return Verdict(correct / len(SHAPES), "; ".join(dict.fromkeys(problems)))


@CHECKS.check("skew: keeps the dtype and device and lets gradients reach the input", points=0.5, probe="skew")
def skew_gradient(ev):
    for i, shape in enumerate(SHAPES):
        if ev.student[f"dtype{i}"] != "torch.float32":
            raise Mistake(f"skew turned float32 input into {ev.student[f'dtype{i}']}: create the output with "
                          "x.new_zeros(...) or torch.zeros(..., dtype=x.dtype, device=x.device)")
        grad = ev.student[f"grad{i}"]
        if grad is None:
            raise Mistake("no gradient reaches x through skew: build the result with torch operations on x "
                          "(no .numpy(), .item() or .detach())")
        B, C, H, W = shape
        weights = np.arange(B * C * H * (W + H - 1), dtype=float).reshape(B, C, H, W + H - 1)
        if not close(as_array(grad, "grad", shape), unskewed(weights, H, W), atol=1e-3):
            raise Mistake("gradients reach x through skew at the wrong positions")
    judge_meta(ev, "skew")


@CHECKS.check("unskew: takes row i from column i to i + W - 1", points=2, probe="unskew")
def unskew_values(ev):
    correct, problems = 0, []
    for i, (B, C, H, W) in enumerate(SHAPES):
        s = ev.inputs[f"s{i}"]
        expected = unskewed(s, H, W)
        try:
            x = as_array(ev.student[f"x{i}"], "unskew(s)", expected.shape, ev.types[f"x{i}"])
        except Mistake as mistake:
            problems.append(str(mistake))
            continue
        if close(x, expected, atol=1e-6):
            correct += 1
            continue
        named = named_mistake(x, {
            "row i is read from column H - 1 - i (the inverse of a left shift); skew shifts right by i, so read from "
            "column i": unskewed(s, H, W, LEFT),
            "the first W columns are returned without undoing the shift": s[..., :W],
        }, atol=1e-6)
        problems.append(named or describe_difference(x, expected, f"unskew for H={H}, W={W}"))
    if not all(ev.student[f"differentiable{i}"] for i in range(len(SHAPES))) and correct:
        problems.append("no gradient flows through unskew")
        correct = max(correct - 1, 0)
    try:
        judge_meta(ev, "unskew")
    except Mistake as mistake:
        if correct:
            problems.append(str(mistake))
            correct = max(correct - 1, 0)
    dtypes = {ev.student.get(f"dtype{i}") for i in range(len(SHAPES))}
    if dtypes != {"torch.float32"} and correct:
        problems.append(f"unskew turned float32 input into {', '.join(sorted(str(d) for d in dtypes - {'torch.float32'}))}: "
                        "return a tensor of s's dtype (slicing and torch.stack keep it)")
        correct = max(correct - 1, 0)
    return Verdict(correct / len(SHAPES), "; ".join(dict.fromkeys(problems)))


@CHECKS.check("unskew(skew(x)) gives back x", points=0.5, probe="round_trip")
def round_trip(ev):
    keys = [f"x{i}" for i in range(len(SHAPES))]
    return judge_given(ev, _round_trip, ROUND_TRIP_GIVEN, given_judge=matches_reference(*keys, what="unskew(skew(x))"))


def _round_trip(ev):
    for i, shape in enumerate(SHAPES):
        x = as_array(ev.student[f"x{i}"], "unskew(skew(x))", shape, ev.types[f"x{i}"])
        if not close(x, ev.inputs[f"x{i}"], atol=1e-6):
            raise Mistake(describe_difference(x, ev.inputs[f"x{i}"], f"for a {shape} input unskew(skew(x))")
                          + ": the two shifts must be exact inverses")
