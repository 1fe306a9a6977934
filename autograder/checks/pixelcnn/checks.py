"""Hidden checks of the PixelCNN exercise: each judges one behaviour and names the likely mistake.

Judges run on the trusted side only. The correct masks and the known-wrong
variants are computed here from first principles, so that feedback can say
which mistake a student made. The smoke test rebuilds the course's PixelCNN
with these trusted masks, loads the weights the student's process trained, and
measures held-out bits/dim itself: a number reported by the student's process
is never believed.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from autograder.checking import CheckSet, Mistake, Verdict
from autograder.checks.diagnostics import describe_difference
from autograder.checks.judging import (as_array, as_float, close, judge_given, judge_meta, named_mistake,
                                       require_finite)
from autograder.checks.pixelcnn import probes

CHECKS = CheckSet("autograder.checks.pixelcnn.probes")

# Smoke-test pass bar, in held-out bits/dim (docs/pixelcnn.md): the reference reaches 0.451-0.469 with
# training seeds 0-15 in genmodels.pixelcnn.SMOKE's 100 steps (0.490-0.497 with the stand-in mask, seeds 0-3); an
# independent-Bernoulli model scores 0.566; broken masks evaluated with the correct masks 0.63 and worse.
SMOKE_BAR_BITS = 0.52


# ---------------------------------------------------------------- masks


def reference_mask(k: int, mask_type: str) -> np.ndarray:
    mask = np.zeros((k, k))
    c = k // 2
    mask[:c] = 1.0
    mask[c, :c] = 1.0
    mask[c, c] = 1.0 if mask_type == "B" else 0.0
    return mask


def mask_variants(k: int, mask_type: str) -> dict:
    """What common wrong masks look like: description -> (k, k) array."""
    c = k // 2
    right = reference_mask(k, mask_type)
    other = "A" if mask_type == "B" else "B"
    whole_row = right.copy()
    whole_row[c] = 1.0
    no_row = right.copy()
    no_row[c] = 0.0
    mirrored = right.copy()
    mirrored[c] = mirrored[c, ::-1]
    return {
        f"type {mask_type} {'keeps' if mask_type == 'A' else 'hides'} the centre pixel (that is type {other}'s mask): "
        f"type {mask_type} must {'hide' if mask_type == 'A' else 'keep'} it": reference_mask(k, other),
        "the whole centre row is kept; only pixels left of the centre (and, for type B, the centre) may be 1":
            whole_row,
        "the centre row is zeroed entirely; pixels left of the centre precede it in raster order and must be 1":
            no_row,
        "the mask is transposed (column-wise): rows above and pixels to the left are visible, not columns":
            right.T,
        "the centre row keeps the right half instead of the left half": mirrored,
        "the mask is flipped: it keeps later pixels (below / to the right) instead of earlier ones": right[::-1, ::-1],
        "the mask is all ones: nothing is hidden": np.ones((k, k)),
    }


@CHECKS.check("causal_mask: values for kernel sizes 1, 3, 5, 7 and types A and B", points=3, probe="masks")
def mask_values(ev):
    """Partial credit per (size, type); feedback names the pattern that is off."""
    correct, problems = 0, []
    for k in probes.KERNEL_SIZES:
        for mask_type in ("A", "B"):
            key = f"{mask_type}{k}"
            expected = reference_mask(k, mask_type)
            try:
                mask = as_array(ev.student[key], f"causal_mask({k}, '{mask_type}')", (k, k), ev.types[key])
            except Mistake as mistake:
                problems.append(str(mistake))
                continue
            if close(mask, expected, atol=0):
                correct += 1
                continue
            if k == 1:  # a 1x1 kernel cannot show the named patterns: say what it should be
                problems.append(f"causal_mask(1, '{mask_type}') should be [[{int(expected[0, 0])}]]")
                continue
            named = named_mistake(mask, mask_variants(k, mask_type), atol=0)
            problems.append(named or f"causal_mask({k}, '{mask_type}') is wrong: expected\n{expected.astype(int)}\n"
                                     f"got\n{np.round(mask, 3)}")
    if any(p.startswith("type A keeps the centre") for p in problems) and \
            any(p.startswith("type B hides the centre") for p in problems):
        problems = [p for p in problems if not p.startswith(("type A keeps the centre", "type B hides the centre"))]
        problems.insert(0, "mask types A and B are swapped: type A hides the centre pixel, type B keeps it")
    return Verdict(correct / (2 * len(probes.KERNEL_SIZES)), "; ".join(dict.fromkeys(problems)))


@CHECKS.check("causal_mask: a mask type other than 'A' or 'B' raises ValueError", points=1, probe="bad_mask_type")
def mask_bad_type(ev):
    raised = ev.student["raised"]
    if ev.student["is_value_error"]:
        return 1.0
    if not raised:
        raise Mistake("causal_mask(3, 'C') returned a mask; an unknown mask type should raise a ValueError that "
                      "names the allowed types 'A' and 'B'")
    return Verdict(0.5, f"causal_mask(3, 'C') raised {raised}; raise a ValueError that names the allowed types")


# ---------------------------------------------------------------- MaskedConv2d


def _conv(x, weight, bias, k):
    return F.conv2d(torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(weight, dtype=torch.float64),
                    None if bias is None else torch.as_tensor(bias, dtype=torch.float64), padding=k // 2).numpy()


@CHECKS.check("MaskedConv2d: output equals a convolution with the masked weights", points=3, probe="conv_output")
def conv_output(ev):
    return judge_given(ev, _conv_output, _given_mask(ev), given_judge=lambda given: _conv_output(given, _stand_in_mask))


def _given_mask(ev) -> dict:
    """The runs with a stand-in causal_mask, unless the student's masks are the reference's: then whatever goes wrong
    is the layer's own, and "correct, given your causal_mask" would not be so."""
    return {} if ev.student.get("mask_as_reference") is True else probes.GIVEN_MASK


def _stand_in_mask(k: int, mask_type: str) -> np.ndarray:
    return probes.STAND_INS["causal_mask"](k, mask_type).numpy()


def _conv_output(ev, mask=reference_mask):
    """Behaviour only: y must equal conv2d(x, weight * mask, bias) with `weight` read from the layer (and `mask`
    the stand-in's when the layer was built with it)."""
    correct, problems = 0, []
    for i, (c_in, c_out, k, mask_type, kwargs) in enumerate(probes.CONV_CASES):
        x = ev.inputs[f"x{i}"]
        case = f"MaskedConv2d({c_in}, {c_out}, {k}, '{mask_type}'{''.join(f', {a}={v}' for a, v in kwargs.items())})"
        try:
            weight = as_array(ev.student[f"weight{i}"], f"{case}.weight", (c_out, c_in, k, k), ev.types[f"weight{i}"])
            bias = ev.student[f"bias{i}"]
            if kwargs.get("bias") is False and bias is not None:
                raise Mistake(f"{case} has a bias although bias=False was passed: forward **conv_kwargs to nn.Conv2d")
            if bias is not None:
                bias = as_array(bias, f"{case}.bias", (c_out,))
            y = as_array(ev.student[f"y{i}"], f"{case}(x)", None, ev.types[f"y{i}"])
        except Mistake as mistake:
            problems.append(str(mistake))
            continue
        expected = _conv(x, weight * mask(k, mask_type), bias, k)
        if not np.any(weight * mask(k, mask_type)):  # a zero layer equals every masked convolution
            problems.append(f"{case}: its weights are all zero where the mask keeps them, so nothing shows the mask at "
                            "work: keep nn.Conv2d's random initialisation")
            continue
        if y.shape != expected.shape:
            problems.append(f"{case} maps x of shape {x.shape} to {y.shape}, expected {expected.shape}")
            continue
        if close(y, expected, rtol=1e-4, atol=1e-5):
            correct += 1
            continue
        variants = {"the mask is not applied in forward: multiply the weight by the mask in every forward pass":
                    _conv(x, weight, bias, k)}
        variants.update({d: _conv(x, weight * m, bias, k) for d, m in mask_variants(k, mask_type).items()})
        named = named_mistake(y, variants, rtol=1e-4, atol=1e-5)
        problems.append(f"{case}: {named}" if named else describe_difference(
            y, expected, f"{case}: the output", sizes={"k": k, "C_in": c_in}))
    return Verdict(correct / len(probes.CONV_CASES), "; ".join(dict.fromkeys(problems)))


@CHECKS.check("MaskedConv2d: keeps the height and width of its input", points=1, probe="conv_output")
def conv_shape(ev):
    return judge_given(ev, _conv_shape, _given_mask(ev))


def _conv_shape(ev):
    for i, (c_in, c_out, k, mask_type, _) in enumerate(probes.CONV_CASES):
        x, y = ev.inputs[f"x{i}"], ev.student[f"y{i}"]
        shape = tuple(np.shape(y)) if y is not None else None
        if shape == (x.shape[0], c_out, x.shape[2] - k + 1, x.shape[3] - k + 1) and k > 1:
            raise Mistake(f"a {k}x{k} MaskedConv2d shrinks {x.shape[2]}x{x.shape[3]} inputs to {shape[2]}x{shape[3]}: "
                          "no padding; padding must default to kernel_size // 2")
        if shape != (x.shape[0], c_out, x.shape[2], x.shape[3]):
            raise Mistake(f"MaskedConv2d({c_in}, {c_out}, {k}, '{mask_type}') maps x of shape {x.shape} to {shape}; "
                          f"expected {(x.shape[0], c_out, x.shape[2], x.shape[3])}")


# ---------------------------------------------------------------- causality


def _leaks(dependencies):
    """Raster pairs (p, q) with q >= p where output p depends on input q."""
    dep = np.asarray(dependencies, dtype=float)
    support = dep > 1e-6 * max(float(dep.max()), 1e-30)
    return [(p, q) for p, q in zip(*np.nonzero(np.triu(support)))], support


def _describe_leak(leaks, width):
    """The leak that names its cause: every path through the stack adds up the offsets its layers keep, so a later
    row shows only when some layer keeps a row below; failing that, a pixel to the right only when some layer keeps
    the centre row right of the centre; failing both, a pixel itself only when type A keeps the centre."""
    where = lambda i: f"({i // width}, {i % width})"  # noqa: E731
    later = [(a, b) for a, b in leaks if b // width > a // width]
    if later:
        p, q = later[0]
        return (f"output pixel {where(p)} depends on input pixel {where(q)} in a later row: rows below the centre must "
                "be masked (is the mask transposed?)")
    right = [(a, b) for a, b in leaks if b > a]
    if right:
        p, q = right[0]
        return (f"output pixel {where(p)} depends on input pixel {where(q)} to its right on the same row: the mask "
                "must zero the centre row right of the centre")
    p = leaks[0][0]
    return (f"output pixel {where(p)} depends on input pixel {where(p)} itself: the first layer (type A) must "
            "hide the centre pixel")


@CHECKS.check("causality: an output pixel never depends on itself or later pixels, also after training",
              points=3, probe="causality")
def causality(ev):
    return judge_given(ev, _causality, _given_mask(ev))


def _causality(ev):
    width = ev.inputs["x"].shape[-1]
    n = ev.inputs["x"].size
    before = as_array(ev.student["before"], "dependencies", (n, n))
    after = as_array(ev.student["after"], "dependencies", (n, n))
    require_finite(after, "gradients after training")
    leaks, _ = _leaks(before)
    if leaks:
        raise Mistake(f"in a stack of type-A then type-B layers, {_describe_leak(leaks, width)}")
    leaks, _ = _leaks(after)
    if leaks:
        raise Mistake("the stack is causal at initialisation but not after 5 optimizer steps "
                      f"({_describe_leak(leaks, width)}): the mask is applied only once to the initial weights; "
                      "apply it in every forward pass (multiply by a mask buffer in forward, or use parametrize)")
    for label, dependencies in (("", before), (" after 5 optimizer steps", after)):
        if not np.any(np.tril(dependencies, k=-1)):  # nothing depends on anything: causal, but only trivially
            raise Mistake(f"no output pixel of the stack depends on any earlier input pixel{label}: the masks (or the "
                          "layer's weights) hide everything; keep the pixels above and to the left of the centre")


@CHECKS.check("causality: the stack sees every earlier pixel the reference sees (nothing over-masked)",
              points=1, probe="causality")
def receptive_field(ev):
    return judge_given(ev, _receptive_field, _given_mask(ev))


def _receptive_field(ev):
    n = ev.inputs["x"].size
    width = ev.inputs["x"].shape[-1]
    _, support = _leaks(as_array(ev.student["before"], "dependencies", (n, n)))
    _, reference = _leaks(ev.reference["before"])
    missing = np.argwhere(reference & ~support)
    if len(missing):
        p, q = missing[0]
        raise Mistake(f"output pixel ({p // width}, {p % width}) does not depend on the earlier input pixel "
                      f"({q // width}, {q % width}): the mask hides pixels it should keep (is the centre row zeroed, "
                      "or a row above the centre?)")


# ---------------------------------------------------------------- nll_bits_per_dim


def _nll_variants(logits, x):
    logits, x = logits.astype(np.float64), x.astype(np.float64)
    nats = np.logaddexp(0.0, logits) - x * logits  # (B, C, H, W)
    per_image = nats.reshape(len(nats), -1)
    D = per_image.shape[1]
    bits = per_image.mean(axis=1).mean() / math.log(2)
    probs = 1 / (1 + np.exp(-logits))
    twice = np.logaddexp(0.0, probs) - x * probs
    return bits, {
        "the result is in nats: divide by ln 2 for bits": bits * math.log(2),
        "the result is multiplied by ln 2: divide the NLL in nats by ln 2 for bits": bits * math.log(2) ** 2,
        "the NLL is summed over the pixels of an image, not divided by the number of dimensions C·H·W": bits * D,
        "the NLL is summed over the batch; average over images": bits * len(nats),
        "the NLL is summed over everything: average over the batch and divide by C·H·W": bits * D * len(nats),
        "a sigmoid is applied before a loss that expects logits": twice.mean() / math.log(2),
        "the arguments of F.binary_cross_entropy_with_logits are swapped: it takes the logits first, then the targets x":
            (np.logaddexp(0.0, x) - logits * x).mean() / math.log(2),
        "this is the log-likelihood, not the negative log-likelihood (the sign is flipped)": -bits,
    }


def _nll_value(ev, label):
    value = as_float(ev.student[label], "nll_bits_per_dim", ev.types[label])
    if not np.isfinite(value):
        raise Mistake(f"nll_bits_per_dim returned {value} for logits of ±100: compute log σ(·) stably "
                      "(F.binary_cross_entropy_with_logits or F.logsigmoid), never log(sigmoid(·))")
    return value


@CHECKS.check("nll_bits_per_dim: values match the reference (1 and 3 channels)", points=2, probe="nll")
def nll_values(ev):
    correct, problems = 0, []
    for label in ("gray", "rgb"):
        expected, variants = _nll_variants(ev.inputs[f"{label}_logits"], ev.inputs[f"{label}_x"])
        try:
            value = _nll_value(ev, label)
        except Mistake as mistake:
            problems.append(str(mistake))
            continue
        if np.isclose(value, expected, rtol=1e-4):
            correct += 1
            continue
        named = next((d for d, v in variants.items() if np.isclose(value, v, rtol=1e-4)), None)
        B, C, H, W = ev.inputs[f"{label}_x"].shape
        problems.append(named or describe_difference(np.array([value]), np.array([expected]), "nll_bits_per_dim",
                                                     sizes={"C·H·W": C * H * W, "C": C, "H·W": H * W, "B": B}))
    return Verdict(correct / 2, "; ".join(dict.fromkeys(problems)))


@CHECKS.check("nll_bits_per_dim: stable and exact for logits of ±100", points=1, probe="nll")
def nll_extreme(ev):
    expected, variants = _nll_variants(ev.inputs["extreme_logits"], ev.inputs["extreme_x"])
    value = _nll_value(ev, "extreme")
    if np.isclose(value, expected, rtol=1e-4):
        return 1.0
    named = next((d for d, v in variants.items() if np.isclose(value, v, rtol=1e-4)), None)
    raise Mistake(named or describe_difference(np.array([value]), np.array([expected]), "for logits of ±100 the result")
                  + " (probabilities clamped or rounded? work with logits)")


@CHECKS.check("nll_bits_per_dim: a scalar tensor of the logits' dtype that gradients flow through", points=1,
              probe="nll")
def nll_differentiable(ev):
    for label in ("gray", "rgb", "extreme"):
        kind = ev.types[label].split()
        if kind[:1] == ["torch.Tensor"] and "torch.float32" not in kind:
            raise Mistake(f"for float32 logits nll_bits_per_dim should return float32; it returns {kind[1]} "
                          "(computing in float64 inside is fine: cast the result back with .to(logits.dtype))")
    value = _nll_value(ev, "gray")
    if not value > 0:  # a constant (e.g. 0 * logits.sum()) carries a gradient that says nothing
        raise Mistake(f"nll_bits_per_dim returned {value:.6g}: a negative log-likelihood of finite logits is positive, "
                      "so this is not a loss gradients can follow")
    if not all(ev.student[f"{label}_differentiable"] for label in ("gray", "rgb", "extreme")):
        raise Mistake("the result does not require grad: keep it a torch computation on the logits "
                      "(no .item(), .numpy() or torch.tensor(...) around it) so it can be a training loss")


# ---------------------------------------------------------------- sample


def _simulate(shape, n, groups):
    """ChainModel sampled with `groups`: lists of raster indices sampled together, in order."""
    C, H, W = shape
    x = np.zeros((n, C, H * W))
    for group in groups:
        padded = np.concatenate([np.zeros_like(x[..., :2]), x], axis=-1)
        probs = (padded[..., 1:-1] == padded[..., :-2]).astype(float)  # logit +100 when pixels p-1, p-2 agree
        x[..., group] = probs[..., group]
    return x.reshape(n, C, H, W)


@CHECKS.check("sample: raster order, one pixel at a time (exact, with a deterministic model)",
              points=3, probe="sample_chain")
def sample_order(ev):
    C, H, W = probes.CHAIN_SHAPE
    n = 3
    images = as_array(ev.student["images"], "sample(...)", (n, C, H, W), ev.types["images"])
    raster = [[t] for t in range(H * W)]
    expected = _simulate(probes.CHAIN_SHAPE, n, raster)
    if close(images, expected, atol=0):
        return 1.0
    variants = {
        # With this model, drawing in reverse raster order gives what one pass gives: say what both do.
        "no pixel saw the pixels before it when it was drawn (are all pixels sampled in one pass, or in reverse "
        "order?): each pixel must be drawn after the pixels before it in raster order, calling the model again on "
        "the partly sampled image": _simulate(probes.CHAIN_SHAPE, n, [list(range(H * W))]),
        "pixels are sampled column by column (column-major); PixelCNN's order is raster: row by row, left to "
        "right within a row": _simulate(probes.CHAIN_SHAPE, n, [[i * W + j] for j in range(W) for i in range(H)]),
        "a whole row is sampled at once; pixels in a row depend on the pixels to their left, so draw them one at a "
        "time": _simulate(probes.CHAIN_SHAPE, n, [[i * W + j for j in range(W)] for i in range(H)]),
    }
    named = named_mistake(images, variants, atol=0)
    raise Mistake(named or "with a model whose pixel is 1 exactly when the two pixels before it (raster order) are equal, "
                  f"sample should give the pattern {expected[0, 0].astype(int).tolist()}; yours gave "
                  f"{np.round(images[0, 0], 3).tolist()}")


@CHECKS.check("sample: (n, C, H, W) Bernoulli draws in {0, 1} with the model's probabilities",
              points=2, probe="sample_stats")
def sample_values(ev):
    C, H, W = probes.SAMPLE_SHAPE
    images = as_array(ev.student["images"], "sample(...)", (100, C, H, W), ev.types["images"])
    if not np.all((images == 0) | (images == 1)):
        raise Mistake("samples must be 0 or 1: draw Bernoulli values (torch.bernoulli(torch.sigmoid(logits))), "
                      "do not return probabilities")
    p = 1 / (1 + math.exp(-probes.SAMPLE_LOGIT))  # 0.75
    mean = float(images.mean())
    if abs(mean - p) < 0.03:  # 3,600 draws: the standard error is 0.007
        return 1.0
    if mean == 1.0:  # what thresholding at 0.5 gives; thresholding never gives 0 here
        raise Mistake(f"with every pixel's probability {p:.2f}, all samples are 1: the probabilities are "
                      "thresholded instead of sampled")
    if mean == 0.0:
        raise Mistake(f"with every pixel's probability {p:.2f}, all samples are 0: no drawn pixel reaches the images "
                      "returned (is each draw written into the image that sample returns?)")
    if abs(mean - 1 / (1 + math.exp(-p))) < 0.03:
        raise Mistake("the model returns logits, but a sigmoid is applied twice before sampling")
    if abs(mean - (1 - p)) < 0.03:
        raise Mistake(f"pixels are 1 with probability {1 - p:.2f} instead of {p:.2f}: 1 should mean u < σ(logit)")
    raise Mistake(f"with every pixel's probability {p:.2f}, {mean:.3f} of your samples are 1")


@CHECKS.check("MaskedConv2d, nll_bits_per_dim and sample work on any device (checked on PyTorch's meta device)",
              points=1, probe="devices")
def devices(ev):
    """No GPU needed: a tensor created on the CPU inside a function cannot meet a meta tensor, as on a GPU."""
    for function in ("MaskedConv2d", "nll_bits_per_dim", "sample"):
        judge_meta(ev, function)
    seen = ev.student.get("sample_device_argument")
    if seen != "meta":
        raise Mistake(f"sample(model, n, shape, device=...) must build the images on `device` when it is given; "
                      f"with the model's parameters on the CPU and device='meta', the model was called on inputs on "
                      f"{seen}: use the device argument, and the model's device only when it is None")


# ---------------------------------------------------------------- training smoke test


class TrustedMaskedConv2d(torch.nn.Conv2d):
    """The trusted side's masked convolution: the mask multiplies the weight in every forward pass."""

    def __init__(self, in_channels, out_channels, kernel_size, mask_type, **kwargs):
        kwargs.setdefault("padding", kernel_size // 2)
        super().__init__(in_channels, out_channels, kernel_size, **kwargs)
        self.register_buffer("mask", torch.as_tensor(reference_mask(kernel_size, mask_type), dtype=torch.float32))

    def forward(self, x):
        return self._conv_forward(x, self.weight * self.mask, self.bias)


def held_out_bits(weights: dict) -> float:
    """Held-out bits/dim of the course's PixelCNN with trusted masks and the given effective weights."""
    from genmodels import pixelcnn as course_pixelcnn
    from genmodels.data import digits

    model = course_pixelcnn.PixelCNN(TrustedMaskedConv2d, course_pixelcnn.SMOKE.model)
    course_pixelcnn.load_weights(model, weights)
    with probes.one_thread("cpu"):
        return course_pixelcnn.bits_per_dim(model.eval(), digits().test)


@CHECKS.check(f"training smoke test: the course's PixelCNN built from your MaskedConv2d reaches "
              f"< {SMOKE_BAR_BITS} bits/dim on held-out digits", points=3, probe="smoke")
def smoke(ev):
    return judge_given(ev, _smoke, probes.GIVEN_MASK)


def _smoke(ev):
    """Evaluated here, with the correct masks: a leaky mask trains to a low loss that does not survive them."""
    weights = {}
    for key, value in ev.student.items():
        weights[key] = as_array(value, key) if value is not None else None
    try:
        bits = held_out_bits(weights)
    except ValueError as error:
        raise Mistake(f"the trained weights could not be loaded: {error}") from None
    if not np.isfinite(bits):
        raise Mistake("training diverged: the held-out NLL is not finite")
    if bits < SMOKE_BAR_BITS:
        return 1.0
    raise Mistake(f"after training, the model scores {bits:.3f} bits/dim on held-out digits when evaluated with "
                  f"correct masks; the bar is {SMOKE_BAR_BITS} (the reference reaches about 0.46, a model that "
                  "ignores every other pixel 0.57). A model that trains well with your masks but not with correct "
                  "ones used pixels it must not see: check that the mask hides the centre in type A and holds "
                  "after every optimizer step")
