"""The plain-data format that crosses the sandbox boundary.

One probe's outputs are two files: ``NAME.json`` (structure, scalars, strings,
type names) and ``NAME.npz`` (every array, loaded with ``allow_pickle=False``).
Nothing is pickled, so reading a file written by hostile code runs none of its code.
Tensors become arrays (their dtype and device go into the type name).
"""

from __future__ import annotations

import io
import json
import math
import os
import stat

import numpy as np

MAX_JSON_BYTES = 4 * 1024 * 1024


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


# ---------------------------------------------------------------- reading (trusted side)


def _read_regular_file(path, limit):
    """Bytes of `path`, refusing links, special files and anything over `limit`."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{os.path.basename(path)} is not a regular file")
        if info.st_size > limit:
            raise ValueError(f"{os.path.basename(path)} is larger than {limit} bytes")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(limit + 1)
    finally:
        os.close(fd)


def read_json(path):
    """The JSON payload at `path` (a plain dict), or None when there is none."""
    if not os.path.lexists(path):
        return None
    payload = json.loads(_read_regular_file(path, MAX_JSON_BYTES).decode("utf-8"))
    if not isinstance(payload, dict):
        raise ValueError(f"{os.path.basename(path)} does not hold a JSON object")
    return payload


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


def read_outputs(directory, name, max_bytes):
    """Decode one probe's outputs: (values dict, type-name dict). Raises ValueError when malformed."""
    payload = read_json(os.path.join(directory, f"{name}.json"))
    data = _read_regular_file(os.path.join(directory, f"{name}.npz"), max_bytes)
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    return decode(payload["values"], arrays)
