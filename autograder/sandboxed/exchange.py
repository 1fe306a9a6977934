"""The plain-data format that crosses the sandbox boundary.

One probe's outputs are two files: ``NAME.json`` (structure, scalars, strings,
type names) and ``NAME.npz`` (every array, loaded with ``allow_pickle=False``).
Nothing is pickled, so reading a file written by hostile code runs none of its code.
Tensors become arrays (their dtype and device go into the type name). Arrays are stored
uncompressed: the trusted side (`autograder.readback`) refuses compressed members.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np


def type_name_of(value) -> str:
    kind = type(value)
    module = kind.__module__
    name = kind.__name__ if module == "builtins" else f"{module.split('.')[0]}.{kind.__name__}"
    extra = []
    if getattr(value, "dtype", None) is not None:
        extra.append(str(value.dtype))
    if module.startswith("torch") and getattr(value, "device", None) is not None:
        extra.append(str(value.device))
    return " ".join([name, *extra])


def _encode(value, key, arrays):
    """Return the JSON description of `value`, moving arrays into `arrays[key]`."""
    type_name = type_name_of(value)
    if value is None:
        return {"kind": "none", "type": type_name}
    if isinstance(value, (bool, np.bool_)):
        return {"kind": "bool", "value": bool(value), "type": type_name}
    if isinstance(value, (int, np.integer)):
        return {"kind": "int", "value": int(value), "type": type_name}
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return {"kind": "float", "value": number if math.isfinite(number) else repr(number), "type": type_name}
    if isinstance(value, str):
        return {"kind": "str", "value": value[:10_000], "type": type_name}
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":
            value = value.float()
        value = value.numpy()
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            return {"kind": "other", "type": f"{type_name} (object array)"}
        arrays[key] = np.array(value, order="C", copy=True)  # keeps 0-d arrays 0-d
        return {"kind": "array", "key": key, "type": type_name}
    if isinstance(value, (list, tuple)):
        items = [_encode(item, f"{key}.{i}", arrays) for i, item in enumerate(value)]
        return {"kind": "list", "items": items, "type": type_name}
    return {"kind": "other", "type": type_name}


def encode(outputs: dict):
    """(JSON-able description, arrays) of one probe's outputs (a flat dict)."""
    arrays = {}
    described = {str(k): _encode(v, str(k), arrays) for k, v in outputs.items()}
    return described, arrays


def decode(described: dict, arrays: dict):
    """(values, type names) from `encode`'s output: what a judge sees, in or out of the sandbox."""
    values = {key: _decode(desc, arrays) for key, desc in described.items()}
    types = {key: desc.get("type", "?") for key, desc in described.items()}
    return values, types


def write_outputs(directory, name, outputs: dict) -> None:
    """Write one probe's outputs (a flat dict) as NAME.npz + NAME.json in `directory`."""
    described, arrays = encode(outputs)
    np.savez(os.path.join(directory, f"{name}.npz"), **arrays)
    _write_json(os.path.join(directory, f"{name}.json"), {"ok": True, "values": described})


def write_json(directory, name, payload: dict) -> None:
    _write_json(os.path.join(directory, f"{name}.json"), payload)


def _write_json(path, payload):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(payload, handle)
    os.replace(tmp, path)  # the trusted side never sees half a file


def _decode(description, arrays):
    kind = description.get("kind")
    if kind == "array":
        return arrays[description["key"]]
    if kind == "list":
        return [_decode(item, arrays) for item in description["items"]]
    if kind == "float":
        return float(description["value"])
    if kind in ("int", "bool", "str"):
        return description["value"]
    return None
