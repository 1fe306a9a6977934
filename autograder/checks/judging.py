"""Small helpers judges share: read a student's value safely, compare, name a mistake."""

from __future__ import annotations

import re

import numpy as np

from autograder.checking import Evidence, Mistake, Verdict
from autograder.sandboxed.probekit import VARIANT


def as_array(value, name, shape=None, type_name=None):
    """`value` as a float ndarray of `shape`, or a Mistake that says what came back instead."""
    if value is None or isinstance(value, (str, dict)):
        got = type_name or type(value).__name__
        raise Mistake(f"`{name}` should be an array; your code returned {got}")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        raise Mistake(f"`{name}` should be an array; your code returned {type_name or type(value).__name__}") from None
    if array.dtype.kind not in "fiub":
        raise Mistake(f"`{name}` should hold numbers; it has dtype {array.dtype}")
    if shape is not None and array.shape != tuple(shape):
        raise Mistake(f"`{name}` should have shape {tuple(shape)}; yours has shape {array.shape}")
    return array.astype(np.float64)


def as_float(value, name, type_name=None):
    """A Python float from a number or a 0-d / 1-element array, else a Mistake."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        raise Mistake(f"`{name}` should be a float; your code returned {type_name or type(value).__name__}")
    if isinstance(value, (int, float)):
        return float(value)
    array = np.asarray(value)
    if array.size != 1 or array.dtype.kind not in "fiu":
        raise Mistake(f"`{name}` should be a single float; your code returned an array of shape {array.shape}")
    return float(array.reshape(()))


def require_finite(array, name, hint=""):
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise Mistake(f"`{name}` has {bad} NaN or infinite value(s){hint}")


def close(actual, expected, rtol=1e-5, atol=1e-8) -> bool:
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    return actual.shape == expected.shape and bool(np.allclose(actual, expected, rtol=rtol, atol=atol))


def named_mistake(actual, variants: dict, rtol=1e-5, atol=1e-8):
    """The description of the first known-wrong variant `actual` matches, else None."""
    for description, expected in variants.items():
        if expected is not None and close(actual, expected, rtol, atol):
            return description
    return None


def worst_difference(actual, expected) -> str:
    diff = np.abs(np.asarray(actual, dtype=float) - np.asarray(expected, dtype=float))
    index = np.unravel_index(int(np.nanargmax(diff)), diff.shape) if diff.size else ()
    return f"largest difference {float(diff[index]):.3g} at index {tuple(int(i) for i in index)}"


# ---------------------------------------------------------------- one mistake costs once


def failure_message(failed) -> str:
    """Feedback for a variant run that raised (`probekit.describe_failure`'s plain data)."""
    from autograder.checks.diagnostics import explain_error
    from autograder.executor import describe_error

    kind, message, function, line, code = (list(failed) + [""] * 5)[:5]
    where = {"function": function, "line": int(line), "code": code} if str(line).isdigit() else None
    return explain_error(describe_error({"type": kind, "message": message, "where": where})[1])


VARIANT_META = ("substituted", "skipped")


def variant(ev: Evidence, label: str) -> Evidence:
    """The evidence of one run recorded by `probekit.given_stand_ins` ("" = the student's own run), with the
    reference's run of the same variant (the same stand-ins) as its reference."""
    prefix = f"{label}{VARIANT}" if label else ""

    def keep(key):
        own = key.startswith(prefix) if prefix else VARIANT not in key
        return own and key[len(prefix):] not in VARIANT_META

    def strip(values):
        return {key[len(prefix):]: value for key, value in values.items() if keep(key)}

    return Evidence(ev.inputs, strip(ev.student), strip(ev.types), strip(ev.reference))


def _verdict(judge, ev: Evidence) -> Verdict:
    if "failed" in ev.student:
        return Verdict(0.0, failure_message(ev.student["failed"]))
    try:
        outcome = judge(ev)
    except Mistake as mistake:
        return Verdict(0.0, str(mistake))
    if outcome is None or outcome is True:
        return Verdict(1.0)
    if isinstance(outcome, Verdict):
        return outcome
    return Verdict(float(outcome))


def _names(pieces) -> str:
    pieces = [f"`{p}`" for p in pieces]
    return pieces[0] if len(pieces) == 1 else ", ".join(pieces[:-1]) + " and " + pieces[-1]


def judge_given(ev: Evidence, judge, variants: dict, given_judge=None) -> Verdict:
    """Judge a function on its own: with stand-ins where the student's pieces change the outcome.

    variants: label -> the student's functions that variant replaced with the probe's stand-ins (decoys
    of the same interface, not the answers), in the order to try (fewest pieces first); the student's
    own run is always tried first. The verdict is the own run's when it passes; else the first variant
    that passes earns full credit with feedback that says "correct, given your X"; else the last (most
    replaced) variant judges the function's own mistake. A variant's evidence has the reference's run
    with the same stand-ins as its reference; `given_judge` judges variants where `judge` computes its
    expected values from the true pieces' formulas (default: `judge` itself).
    """
    given_judge = given_judge or judge
    own = _verdict(judge, variant(ev, ""))
    if own.fraction >= 1:
        return own
    last, last_pieces = own, ()
    for label, pieces in variants.items():
        if ev.student.get(f"{label}{VARIANT}skipped"):  # the student's pieces behave like the reference's: same as own
            continue
        given = _verdict(given_judge, variant(ev, label))
        pieces = ev.student.get(f"{label}{VARIANT}substituted") or pieces  # only those that differ from the reference's
        if given.fraction >= 1:
            names, its = _names(pieces), "its" if len(pieces) == 1 else "their"
            # The own run's diagnosis is not repeated: it compares with correct pieces, so it may blame this function.
            return Verdict(1.0, f"correct, given your {names}: run with stand-ins in place of yours (other functions "
                                f"of the same interface, used the same way in the reference's run) this check passes, "
                                f"so what goes wrong with yours comes from your {names}, judged in {its} own checks")
        last, last_pieces = given, pieces
    if last is own or last.fraction < own.fraction:
        return own
    from autograder.checks.diagnostics import is_generic

    if last.fraction == own.fraction and own.feedback and not is_generic(own.feedback):
        return own  # it names the mistake against the true pieces; a run with stand-ins can only compare
    if last.feedback == own.feedback:
        return last
    return Verdict(last.fraction, f"{last.feedback} (judged with stand-ins in place of your {_names(last_pieces)}, "
                                  "so that only this function's own mistakes count here)")


def matches_reference(*keys, what=None, rtol=1e-4, atol=1e-6):
    """A judge for runs with stand-ins: the student's outputs `keys` equal the reference's run with the same
    stand-ins (used where the usual judge computes its expectation from the true pieces)."""

    def judge(ev):
        for key in keys:
            expected = np.asarray(ev.reference[key], dtype=float)
            got = as_array(ev.student.get(key), what or key, expected.shape, ev.types.get(key))
            if not close(got, expected, rtol=rtol, atol=atol):
                from autograder.checks.diagnostics import describe_difference

                raise Mistake(describe_difference(got, expected, what or key))
        return 1.0

    return judge


# ---------------------------------------------------------------- dtype and device


DTYPE_LABELS = (("32", "torch.float32"), ("64", "torch.float64"))


def judge_dtypes(ev: Evidence, functions, hints=None):
    """The course-wide contract: a returned tensor has the dtype and device of the function's input tensors.

    The probe calls each function on float32 and on float64 inputs and returns the results under
    "<function>32" / "<function>64", with "device" naming where the inputs were.
    """
    hints = hints or {}
    device = ev.student.get("device") if isinstance(ev.student.get("device"), str) else "cpu"
    for function in functions:
        for label, dtype in DTYPE_LABELS:
            type_name = ev.types.get(f"{function}{label}", "?")
            kind = type_name.split()
            if not kind or kind[0] != "torch.Tensor":
                raise Mistake(f"{function} should return a torch tensor; it returned {type_name}")
            if dtype not in kind:
                hint = hints.get(function, " (computing in float64 inside is fine: cast the result back with "
                                           ".to(<input>.dtype))")
                raise Mistake(f"for {dtype} inputs {function} should return {dtype}; it returns {kind[1]}{hint}")
            if not kind[-1].startswith(device.split(":")[0]):
                raise Mistake(f"for inputs on {device} {function} should return a tensor there; it is on {kind[-1]} "
                              "(create new tensors with torch.*_like(input) or device=input.device)")
        judge_meta(ev, function)
    return 1.0


META_VALUE_READ = re.compile(r"Tensor\.item\(\) cannot be called on meta tensors")


def judge_meta(ev: Evidence, function: str, key=None):
    """The result of running `function` with inputs on PyTorch's meta device (probekit.meta_result).

    A tensor made on the CPU inside the function breaks on a GPU; on the meta device it breaks the same
    way, so the grader catches it without a GPU. A read of a tensor's value (.item(), int(t[i])) works on a GPU but
    cannot on the meta device: such a run shows nothing, and costs nothing.
    """
    from autograder.checks.diagnostics import explain_error

    outcome = ev.student.get(key or f"{function}_meta")
    if outcome is None or outcome == "meta":
        return
    if str(outcome).startswith("error: "):
        message = str(outcome)[len("error: "):]
        if META_VALUE_READ.search(message):
            return  # int(t[i]), .item(): a meta tensor has no values to read, a GPU tensor has; nothing shown either way
        if re.search(r"device|\.item\(\)|to numpy|meta tensor", message):
            raise Mistake(f"{function} breaks when its inputs are on another device than the CPU (as on a GPU; the "
                          f"grader checks this on PyTorch's meta device): {explain_error(message)}")
        raise Mistake(f"{function} raised on inputs on another device than the CPU (PyTorch's meta device): {message}")
    raise Mistake(f"for inputs on another device than the CPU (PyTorch's meta device) {function} returns a result on "
                  f"{outcome}: create new tensors with torch.*_like(input) or device=input.device")
