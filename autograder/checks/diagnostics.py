"""Generic diagnoses for judges: how a student's value differs from the expected one, in words.

A judge that finds a value wrong asks `diagnose(actual, expected, ...)` before falling back to
"differs from the reference": it tries, in order, a wrong shape (transposed, reduced over the wrong
axis, a scalar where one value per example is due), a flipped sign, a constant factor or offset
(and what it matches: ½, 2, ln 2, D, N, N_k/(N_k − 1), ½·ln 2π, ...), one example broadcast to the
whole batch, a result that is right except at extreme inputs (clamped, rounded, infinite), known
formula variants the judge computed on the trusted side, and how much of the result is right.
`explain_error` turns PyTorch errors students meet into what causes them in this course's code.
Every exercise's judges use these, so a mistake nobody listed still gets a diagnosis.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np

RTOL, ATOL = 1e-4, 1e-6
# What only says that a value is off: the fallbacks below ("largest difference", "… where … is expected") and
# judges' own "differs from the reference" / "wrong values".
GENERIC = re.compile(r"largest difference|differs? from (the )?(reference|expected value \(|scikit-learn)|"
                     r"is expected\b|wrong values")


def _close(a, b, rtol=RTOL, atol=ATOL) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=False))


def _explains(difference, model, expected) -> bool:
    """Whether `model` accounts for the whole `difference`, up to float32 rounding of the values involved."""
    allowed = 1e-4 * np.abs(model) + 2e-6 * np.abs(expected) + 1e-8
    return bool(np.all(np.abs(difference - model) <= allowed))


def _fraction(value: float) -> str | None:
    """'½', '3/4', '2' for simple fractions (denominator ≤ 4), else None."""
    glyphs = {Fraction(1, 2): "½", Fraction(1, 3): "⅓", Fraction(1, 4): "¼", Fraction(2, 3): "⅔", Fraction(3, 4): "¾"}
    f = Fraction(value).limit_denominator(4)
    if f == 0 or abs(float(f) - value) > 1e-6 * max(1.0, abs(value)):
        return None
    return glyphs.get(f) or (str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}")


def factor_names(sizes: dict) -> dict:
    """Named multiplicative constants: simple fractions, ln 2, π, each size S as S, 1/S, S/(S − 1), ..., and the ratio
    A/B of two sizes (a sum over one axis where a sum over another is due)."""
    names = {"ln 2": math.log(2), "1/ln 2 (nats → bits)": 1 / math.log(2), "π": math.pi, "2π": 2 * math.pi,
             "√2": math.sqrt(2), "1/√2": 1 / math.sqrt(2), "e": math.e}
    for name, size in sizes.items():
        if np.ndim(size) or not size:
            continue
        size = float(size)
        names.update({name: size, f"1/{name}": 1 / size, f"{name}/2": size / 2, f"2/{name}": 2 / size,
                      f"{name}²": size**2})
        if size > 1:
            names.update({f"{name}/({name} − 1)": size / (size - 1), f"({name} − 1)/{name}": (size - 1) / size,
                          f"{name} − 1": size - 1, f"1/({name} − 1)": 1 / (size - 1)})
    scalars = {name: float(size) for name, size in sizes.items() if not np.ndim(size) and size}
    for a, size_a in scalars.items():  # a reduction over the wrong axis: a sum over one size where another's is due
        for b, size_b in scalars.items():
            if a != b and size_a != size_b:
                names.setdefault(f"{a}/{b}", size_a / size_b)
    return names


def offset_names(sizes: dict) -> dict:
    """Named additive constants: ln 2, ½·ln 2π, (S/2)·ln 2π, ln S, S, ½, 1 (with both signs)."""
    names = {"ln 2": math.log(2), "½·ln 2π": 0.5 * math.log(2 * math.pi), "ln 2π": math.log(2 * math.pi),
             "½": 0.5, "1": 1.0}
    for name, size in sizes.items():
        if np.ndim(size) or not size:
            continue
        size = float(size)
        names.update({f"({name}/2)·ln 2π": size / 2 * math.log(2 * math.pi), f"ln {name}": math.log(size),
                      name: size, f"{name}/2": size / 2, f"{name}·ln 2": size * math.log(2)})
    names.update({f"−{k}": -v for k, v in list(names.items())})
    return names


def _match(value: float, names: dict, rtol=1e-3) -> str | None:
    for name, constant in names.items():
        if math.isclose(value, constant, rel_tol=rtol, abs_tol=1e-9):
            return name
    return None


def _number(value: float) -> str:
    return f"{value:.4g}"


def _factor_name(c: float, sizes: dict) -> str | None:
    """The name of factor c: ½ or 2 first, then one made of the judge's sizes (a factor 3 that is C, the channels,
    says which axis), then other simple fractions and constants."""
    simple = _fraction(c)
    if simple in ("½", "2"):
        return simple
    plain = factor_names({})
    sized = {name: value for name, value in factor_names(sizes).items() if name not in plain}
    return _match(c, sized) or simple or _match(c, plain)


def constant_factor(actual, expected, sizes=None) -> str | None:
    """'a constant factor 0.5 (= ½)' when actual = c · expected everywhere, else None."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    big = np.abs(expected) > 1e-6 * max(1.0, float(np.max(np.abs(expected))) if expected.size else 1.0)
    if actual.shape != expected.shape or not big.any() or not np.all(np.isfinite(actual)):
        return None
    ratio = actual[big] / expected[big]
    c = float(np.median(ratio))
    if not np.allclose(ratio, c, rtol=RTOL, atol=0) or not _close(actual, c * expected) or abs(c - 1.0) < 1e-3:
        return None
    if math.isclose(c, -1.0, rel_tol=RTOL):
        return "has the wrong sign: it is exactly −1 × the expected value"
    name = _factor_name(c, sizes or {})
    if actual.size == 1:  # one number: any factor fits, so only a named one says something
        return f"is {_number(c)} × the expected value (a factor {name})" if name else None
    return f"is {_number(c)} × the expected value everywhere" + (f" (a factor {name})" if name else "")


def estimated_factor(estimate: float, expected: float, rtol=0.05) -> str | None:
    """'about 10 × the expected value' when a statistical estimate (a sample's standard deviation, a mean) is within
    `rtol` of a simple multiple of the expected value (a whole number, a simple fraction, √2, π, ...), else None."""
    if not expected or not math.isfinite(estimate):
        return None
    c = estimate / expected
    if abs(c - 1) <= rtol or c == 0:
        return None
    candidates = {**{str(k): float(k) for k in (2, 3, 4, 5, 10, 100)}, **{f"1/{k}": 1 / k for k in (2, 3, 4, 5, 10, 100)},
                  **factor_names({})}
    for name, constant in candidates.items():
        if abs(c / constant - 1) <= rtol:
            return f"about {name} × the expected value"
    return None


def per_row_factor(actual, expected, sizes=None) -> str | None:
    """A factor that is constant within each slice along axis 0 but differs between slices (per component)."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if actual.shape != expected.shape or actual.ndim < 2 or np.any(expected == 0) or not np.all(np.isfinite(actual)):
        return None
    ratios = (actual / expected).reshape(len(actual), -1)
    per_row = np.median(ratios, axis=1)
    if not np.allclose(ratios, per_row[:, None], rtol=RTOL) or np.allclose(per_row, per_row[0], rtol=RTOL):
        return None
    for name, array in (sizes or {}).items():
        if np.ndim(array) == 1 and len(array) == len(per_row):
            size = np.asarray(array, dtype=float)
            family = {name: size, f"1/{name}": 1 / size, f"{name}/({name} − 1)": size / (size - 1),
                      f"({name} − 1)/{name}": (size - 1) / size, f"{name}²": size**2, f"1/{name}²": 1 / size**2}
            for label, candidate in family.items():
                if np.allclose(per_row, candidate, rtol=1e-3):
                    return (f"is off by a different factor in each of its {len(per_row)} slices, exactly {label} "
                            f"({', '.join(map(_number, per_row[:4]))}{'…' if len(per_row) > 4 else ''})")
    return f"is off by a different factor in each of its {len(per_row)} slices ({', '.join(map(_number, per_row[:4]))}…)"


def constant_offset(actual, expected, sizes=None) -> str | None:
    """'is off by +0.9189 everywhere (= ½·ln 2π)' when actual − expected is one constant, else None."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if actual.shape != expected.shape or not np.all(np.isfinite(actual)) or actual.size < 2:
        return None
    difference = actual - expected
    d = float(np.median(difference))
    if abs(d) < ATOL or not _explains(difference, np.full_like(difference, d), expected):
        return None
    name = _match(d, offset_names(sizes or {}))
    return f"is off by {d:+.4g} everywhere" + (f" (= {name})" if name else "")


def explained_by_term(actual, expected, terms) -> str | None:
    """'differs by exactly −0.5 × log|Σ|': the whole difference is a multiple of one term of the formula.

    terms: name -> array shaped like expected (or broadcastable), e.g. {"log|Σ|": ..., "the Mahalanobis
    distance": ...}; the trusted side computes them from the inputs.
    """
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if actual.shape != expected.shape or not np.all(np.isfinite(actual)):
        return None
    difference = (actual - expected).ravel()
    for name, term in (terms or {}).items():
        term = np.broadcast_to(np.asarray(term, dtype=float), expected.shape).ravel()
        if np.allclose(term, term[0]) and len(term) > 1 and not np.allclose(difference, difference[0]):
            continue  # a constant term cannot explain a varying difference
        norm = float(term @ term)
        if norm == 0:
            continue
        c = float(difference @ term) / norm
        if abs(c) > 1e-6 and _explains(difference, c * term, expected.ravel()):
            named = None if math.isclose(abs(c), 1.0, rel_tol=1e-6) else _fraction(c) or _match(c, factor_names({}))
            return (f"differs from the expected value by exactly {_number(c)} × {name}"
                    + (f" ({named})" if named else "") + f": check the {name} term")
    return None


def broadcast_example(actual, expected) -> str | None:
    """One example's value repeated for the whole batch (axis 0)."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if actual.shape != expected.shape or actual.ndim == 0 or len(actual) < 2:
        return None
    if not np.allclose(actual, actual[:1], rtol=RTOL, atol=ATOL) or np.allclose(expected, expected[:1], rtol=RTOL):
        return None
    for j in range(len(expected)):
        if _close(actual[0], expected[j]):
            return (f"is the same for every example of the batch: example {j}'s value is repeated for all "
                    f"{len(actual)} (compute it per example, keeping the batch dimension)")
    return f"is the same for every example of the batch ({len(actual)} identical rows), where each example differs"


def wrong_shape(actual, expected, reductions=None) -> str | None:
    """Transposed, a scalar where one value per example is due, or a reduction over the wrong axis."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if actual.shape == expected.shape:
        return None
    if actual.ndim == 2 and actual.T.shape == expected.shape and _close(actual.T, expected):
        return f"is transposed: shape {actual.shape} where {expected.shape} is expected, with the right values"
    if actual.size == 1 and expected.size > 1:
        value = float(actual.reshape(()))
        for how, reduce in (("mean", np.mean), ("sum", np.sum)):
            if math.isclose(value, float(reduce(expected)), rel_tol=RTOL, abs_tol=ATOL):
                return (f"is one number, the {how} of the {expected.size} expected values: return one value per "
                        f"example (shape {expected.shape}), do not reduce over the batch")
        return f"is one number where shape {expected.shape} (one value per example) is expected"
    for description, variant in (reductions or {}).items():
        if variant is not None and np.shape(variant) == actual.shape and _close(actual, variant):
            return f"has shape {actual.shape} where {expected.shape} is expected: {description}"
    return f"has shape {actual.shape} where {expected.shape} is expected"


def wrong_at_extremes(actual, expected, extreme) -> str | None:
    """Right on moderate inputs, wrong only where `extreme` (a boolean mask shaped like expected) holds."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if extreme is None or actual.shape != expected.shape:
        return None
    extreme = np.broadcast_to(np.asarray(extreme, dtype=bool), expected.shape)
    wrong = ~np.isclose(actual, expected, rtol=RTOL, atol=ATOL)
    if not wrong.any() or np.any(wrong & ~extreme):
        return None
    bad = actual[wrong]
    if not np.all(np.isfinite(bad)):
        how = "NaN or infinite"
    elif np.allclose(bad, bad[0]) and len(bad) > 1:
        how = f"stuck at {_number(float(bad[0]))} (clamped)"
    elif np.allclose(bad, np.round(bad)):
        how = "rounded to whole numbers"
    else:
        how = f"off by up to {_number(float(np.max(np.abs(bad - expected[wrong]))))}"
    return (f"is right for moderate inputs but wrong at the extreme ones ({int(wrong.sum())} of {wrong.size} values, "
            f"{how}): a computation through probabilities or exp() loses them — stay in log space / work with logits")


def partly_right(actual, expected) -> str | None:
    """'right for 3 of 8 examples (wrong for example 0, 4, ...)' when some rows match."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if actual.shape != expected.shape or actual.ndim == 0 or len(actual) < 2:
        return None
    rows = np.array([_close(a, e) for a, e in zip(actual, expected)])
    if rows.all() or not rows.any():
        return None
    wrong = np.flatnonzero(~rows)
    return (f"is right for {int(rows.sum())} of {len(rows)} rows and wrong for row"
            f"{'s' if len(wrong) > 1 else ''} {', '.join(map(str, wrong[:5]))}{'…' if len(wrong) > 5 else ''}")


def diagnose(actual, expected, *, variants=None, sizes=None, reductions=None, extreme=None,
             terms=None) -> str | None:
    """How `actual` differs from `expected`, as the end of a sentence ("… is transposed"), or None.

    variants:   description -> value, known wrong formulas computed on the trusted side (checked first,
                so the most specific diagnosis wins).
    sizes:      name -> number (or per-row array) the factors and offsets may be made of: {"D": 64}.
    reductions: description -> value, results of reducing over other axes (for a wrong shape).
    extreme:    boolean mask of the inputs that are extreme (a right answer only on moderate ones).
    terms:      name -> the value of one term of the formula; a difference that is a multiple of one
                term names that term.
    """
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    for description, variant in (variants or {}).items():
        if variant is not None and np.shape(variant) == actual.shape and _close(actual, variant):
            return description
    if actual.shape != expected.shape:
        return wrong_shape(actual, expected, reductions)
    for test in (lambda: constant_factor(actual, expected, sizes), lambda: per_row_factor(actual, expected, sizes),
                 lambda: explained_by_term(actual, expected, terms), lambda: constant_offset(actual, expected, sizes), lambda: broadcast_example(actual, expected),
                 lambda: wrong_at_extremes(actual, expected, extreme), lambda: partly_right(actual, expected)):
        found = test()
        if found:
            return found
    return None


def describe_difference(actual, expected, what: str, **how) -> str:
    """'`what` <diagnosis>', or the largest difference when no pattern fits."""
    found = diagnose(actual, expected, **how)
    if found:
        return f"{what} {found}"
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if actual.shape != expected.shape:
        return f"{what} has shape {actual.shape} where {expected.shape} is expected"
    if actual.size == 1:
        return f"{what} is {float(actual.reshape(())):.6g} where {float(expected.reshape(())):.6g} is expected"
    diff = np.abs(actual - expected)
    index = np.unravel_index(int(np.nanargmax(diff)), diff.shape) if diff.size else ()
    where = f" at index {tuple(int(i) for i in index)}" if index else ""
    return (f"{what} differs from the expected value (largest difference {float(diff[index]):.3g}{where}: "
            f"{float(actual[index]):.6g} where {float(expected[index]):.6g} is expected)")


def smallest_case(call: str, got, want) -> str:
    """'on the smallest case, f(x) returns 0.5; it should return 1' (arrays rounded for reading)."""
    def show(value):
        array = np.asarray(value, dtype=float)
        return _number(float(array)) if array.ndim == 0 else np.array2string(np.round(array, 4), separator=", ")

    return f"on the smallest case, {call} returns {show(got)}; it should return {show(want)}"


def is_generic(feedback: str) -> bool:
    """Whether feedback only says that something differs, without naming how."""
    return bool(GENERIC.search(feedback)) and not any(
        marker in feedback for marker in ("×", "factor", "off by", "transposed", "wrong sign", "smallest case",
                                          "repeated", "extreme", "rows and wrong", "exactly"))


# ---------------------------------------------------------------- PyTorch errors, in course terms


PYTORCH_ERRORS = (
    (re.compile(r"modified by an inplace operation"),
     "a tensor the backward pass needs was changed in place after it was used: by an operation ending in _ "
     "(add_), x[...] = …, or +=, or by optimizer.step(), which updates a model's weights in place — a loss computed "
     "with a model before its optimizer's step cannot be backpropagated after it (in a GAN step, compute "
     "discriminator(generator(z)) for the generator's loss after the discriminator's update). Compute a new tensor "
     "instead (x = x + …), or compute the loss after the change"),
    (re.compile(r"backward through the graph a second time"),
     "backward() ran twice through the same graph: in a GAN step this happens when the generator step reuses "
     "fake = generator(z) after the discriminator's backward pass went through it — detach the fakes in the "
     "discriminator step (discriminator(fake.detach())) or compute generator(z) again for the generator step"),
    (re.compile(r"(Expected all tensors to be on the same device|is not on the expected device|"
                r"on different devices)"),
     "tensors on two devices met: a tensor created inside your function (torch.randn(shape), torch.zeros(n), "
     "torch.tensor(...)) lives on the CPU while the inputs may be on a GPU — create it with torch.randn_like(x) / "
     "torch.zeros_like(x), or pass device=x.device"),
    (re.compile(r"Cannot copy out of meta tensor"),
     "your function copies a tensor's values over to the CPU — through .numpy(), .item(), .cpu(), or by writing "
     "results into a tensor created on the CPU (torch.zeros(...) without device=): keep the computation in torch "
     "on the inputs' device (torch.zeros_like(x), device=x.device)"),
    (re.compile(r"(expected scalar type \w+ but found \w+|must have the same dtype|"
                r"Found dtype \w+ but expected \w+)"),
     "tensors of two dtypes met (float32 and float64): create new tensors with the input's dtype "
     "(torch.zeros_like(x), dtype=x.dtype) and cast any float64 computation back with .to(x.dtype)"),
    (re.compile(r"(size of tensor a \(\d+\) must match the size of tensor b \(\d+\)|"
                r"shapes? .* cannot be multiplied|could not be broadcast|shape mismatch)"),
     "two tensors' shapes do not fit together: print the shapes of the operands on that line — usually one "
     "of them is missing a dimension ([:, None] or keepdim=True) or is transposed"),
    (re.compile(r"expected input\[[\d, ]+\] to have \d+ channels, but got \d+ channels"),
     "a convolution got an input whose dimension 1 (the channels) is not the layer's in_channels: images and feature "
     "maps are (B, C, H, W) — check where you add or move dimensions (z[:, :, None, None] makes (B, z_dim, 1, 1)) "
     "and the in_channels of this layer"),
    (re.compile(r"does not require grad and does not have a grad_fn"),
     "backward() was called on a result with no gradient history: it was detached somewhere (.item(), "
     ".detach(), .numpy(), torch.tensor(...) around a result, or torch.no_grad())"),
    (re.compile(r"grad can be implicitly created only for scalar outputs"),
     "backward() needs a single number: reduce the loss to a scalar (for example .mean() over the batch) "
     "before calling backward()"),
    (re.compile(r"Tensor\.item\(\) cannot be called on meta tensors|can't convert meta device"),
     "your code reads a tensor's value with .item() or .numpy() where it should stay a tensor computation "
     "(the grader also runs it on a device with no data, as on a GPU where such reads are slow and break "
     "gradients)"),
)


def explain_error(message: str) -> str:
    """The message, with what causes this PyTorch error in this course's code and how to fix it appended."""
    for pattern, explanation in PYTORCH_ERRORS:
        if pattern.search(message) and explanation not in message:
            return f"{message}. What it means: {explanation}"
    return message
