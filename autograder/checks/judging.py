"""Small helpers judges share: read a student's value safely, compare, name a mistake."""

from __future__ import annotations

import numpy as np

from autograder.checking import Mistake


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
