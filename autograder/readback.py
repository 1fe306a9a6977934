"""Read what a probe wrote in the sandbox, trusting nothing about it (trusted side only).

A probe's outputs are NAME.json (structure, scalars, strings, type names) and NAME.npz
(arrays; see `autograder.sandboxed.exchange`). Hostile code can write anything there, so
before anything is loaded both are checked against the probe's `OutputSchema`:

- files are opened without following links, only when regular, and only up to a size cap;
- the JSON has the documented shape: known kinds, bounded nesting, item counts and strings;
- every .npz member is stored uncompressed (no decompression bombs), named after an array
  the JSON announces, with a plain numeric dtype whose header agrees with its size, and all
  of them together fit the probe's byte budget.

Values that break no rule but cannot be judged as numbers (an array of strings) arrive as
None with their type name, so the judge says what came back instead of the grader failing.
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from dataclasses import dataclass

import numpy as np

from autograder import safe_io, sanitize
from autograder.sandboxed import exchange

MAX_JSON_BYTES = 1024 * 1024
MIN_OUTPUT_BYTES = 1024 * 1024  # what any probe may return, however small the reference's outputs
OUTPUT_BYTES_PER_REFERENCE_BYTE = 16  # room for wrong shapes and float64 where the reference has float32
DEFAULT_OUTPUT_BYTES = 64 * 1024 * 1024  # probes without reference outputs (training smoke tests)
MAX_STRING = 10_000
MAX_TYPE_NAME = 200
ARRAY_KINDS = "biufc"


class Malformed(ValueError):
    """A probe's output files break the schema; the message says how, for the student."""


@dataclass(frozen=True)
class OutputSchema:
    """What one probe may send back.

    keys:      the output names the probe returns (others are dropped); None allows any name.
    max_bytes: all arrays together, uncompressed.
    """

    keys: frozenset | None = None
    max_bytes: int = DEFAULT_OUTPUT_BYTES
    max_items: int = 100_000  # values and list items in total
    max_depth: int = 4  # lists nested in lists

    @classmethod
    def for_probe(cls, probe, reference_values: dict | None) -> "OutputSchema":
        """The schema of `probe`: its declared budget, else one derived from the reference's outputs."""
        declared = getattr(probe, "max_output_bytes", None)
        if reference_values is None:
            return cls(None, declared or DEFAULT_OUTPUT_BYTES)
        size = sum(_nbytes(value) for value in reference_values.values())
        budget = declared or max(MIN_OUTPUT_BYTES, OUTPUT_BYTES_PER_REFERENCE_BYTE * size)
        return cls(frozenset(reference_values), budget)


def _nbytes(value) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(item) for item in value)
    return 8


def read_json(directory_fd: int, name: str) -> dict:
    """The JSON object in `name`, or Malformed."""
    try:
        payload = json.loads(safe_io.read_at(directory_fd, name, MAX_JSON_BYTES).decode("utf-8"))
    except (ValueError, RecursionError) as error:  # UnsafeFile, JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise Malformed(sanitize.line(error, 200)) from None
    if not isinstance(payload, dict):
        raise Malformed(f"{name} does not hold a JSON object")
    return payload


class _Budget:
    def __init__(self, schema: OutputSchema):
        self.schema, self.items, self.arrays = schema, 0, set()

    def count(self):
        self.items += 1
        if self.items > self.schema.max_items:
            raise Malformed(f"more than {self.schema.max_items:,} values came back")


def _checked(description, budget: _Budget, depth: int) -> dict:
    """A clean copy of one value's JSON description, or Malformed."""
    if not isinstance(description, dict):
        raise Malformed("a value's description is not a JSON object")
    budget.count()
    kind = description.get("kind")
    type_name = sanitize.line(description.get("type", "?"), MAX_TYPE_NAME)
    value = description.get("value")
    if kind == "none" or kind == "other":
        return {"kind": kind, "type": type_name}
    if kind == "bool" and isinstance(value, bool):
        return {"kind": kind, "value": value, "type": type_name}
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return {"kind": kind, "value": value, "type": type_name}
    if kind == "float" and (isinstance(value, (int, float)) and not isinstance(value, bool)
                            or value in ("nan", "inf", "-inf")):
        return {"kind": kind, "value": float(value), "type": type_name}
    if kind == "str" and isinstance(value, str):
        return {"kind": kind, "value": value[:MAX_STRING], "type": type_name}
    if kind == "array" and isinstance(description.get("key"), str) and len(description["key"]) <= 300:
        budget.arrays.add(description["key"])
        return {"kind": kind, "key": description["key"], "type": type_name}
    if kind == "list" and isinstance(description.get("items"), list):
        if depth >= budget.schema.max_depth:
            raise Malformed(f"lists are nested more than {budget.schema.max_depth} deep")
        return {"kind": kind, "type": type_name,
                "items": [_checked(item, budget, depth + 1) for item in description["items"]]}
    raise Malformed(f"a value of kind {sanitize.line(kind, 40)!r} does not have the documented form")


def _array(member: bytes, name: str) -> np.ndarray | None:
    """One .npy member as an array, or None when its dtype is not plain numbers. Malformed when inconsistent."""
    stream = io.BytesIO(member)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream, max_header_size=10_000)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream, max_header_size=10_000)
        else:
            raise ValueError(f"unknown .npy version {version}")
    except (ValueError, SyntaxError, TypeError) as error:
        raise Malformed(f"array {sanitize.line(name, 80)} has a broken header ({sanitize.line(error, 120)})") from None
    if len(shape) > 32 or any(not isinstance(n, int) or n < 0 for n in shape):
        raise Malformed(f"array {sanitize.line(name, 80)} has an impossible shape")
    if dtype.hasobject or dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        return None
    count = math.prod(shape)
    if len(member) - stream.tell() != count * dtype.itemsize:
        raise Malformed(f"array {sanitize.line(name, 80)} holds a different number of bytes than its header says")
    flat = np.frombuffer(member, dtype=dtype, count=count, offset=stream.tell())
    return flat.reshape(shape, order="F" if fortran else "C").copy()


def _arrays(data: bytes, wanted: set, schema: OutputSchema) -> dict:
    """The announced arrays of an .npz, checked member by member before any is loaded."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise Malformed(f"the arrays file is not a readable .npz ({sanitize.line(error, 120)})") from None
    if len(members) > len(wanted) + 16:
        raise Malformed(f"the arrays file holds {len(members):,} members for {len(wanted)} arrays")
    total, arrays = 0, {}
    with archive:
        for member in members:
            key = member.filename.removesuffix(".npy")
            if key not in wanted:
                continue
            if member.compress_type != zipfile.ZIP_STORED:
                raise Malformed("arrays must be stored uncompressed (the grader never decompresses what comes back)")
            total += member.file_size
            if total > schema.max_bytes:
                raise Malformed(f"the outputs are larger than this check allows ({schema.max_bytes:,} bytes)")
            try:
                member_bytes = archive.read(member)
            except (zipfile.BadZipFile, ValueError, EOFError, OSError) as error:
                raise Malformed(f"array {sanitize.line(key, 80)} cannot be read ({sanitize.line(error, 120)})") from None
            arrays[key] = _array(member_bytes, key)
    return arrays


def _resolve(description: dict, arrays: dict) -> dict:
    """Arrays the .npz lacks or that are not plain numbers become kind "other" (None), keeping their type name."""
    if description["kind"] == "array" and arrays.get(description["key"]) is None:
        return {"kind": "other", "type": description["type"]}
    if description["kind"] == "list":
        return {**description, "items": [_resolve(item, arrays) for item in description["items"]]}
    return description


def read_outputs(directory_fd: int, name: str, payload: dict, schema: OutputSchema):
    """(values, type names) of probe `name` whose NAME.json held `payload`; Malformed when it breaks `schema`."""
    values = payload.get("values")
    if not isinstance(values, dict):
        raise Malformed("the outputs are not a JSON object")
    budget = _Budget(schema)
    described = {}
    for key, description in values.items():
        if schema.keys is not None and key not in schema.keys:
            continue
        described[sanitize.line(key, 100)] = _checked(description, budget, 0)
    arrays = {}
    if budget.arrays:
        try:
            data = safe_io.read_at(directory_fd, f"{name}.npz", schema.max_bytes + 64 * 1024 + 1024 * len(budget.arrays))
        except safe_io.UnsafeFile as error:
            raise Malformed(str(error)) from None
        arrays = _arrays(data, budget.arrays, schema)
    described = {key: _resolve(description, arrays) for key, description in described.items()}
    return exchange.decode(described, arrays)


def error_of(payload: dict) -> dict:
    """The runner's description of an exception, each field checked and bounded (see runner.describe_exception)."""
    error = payload.get("error")
    error = error if isinstance(error, dict) else {}
    where = error.get("where") if isinstance(error.get("where"), dict) else {}
    line = where.get("line")
    return {
        "type": sanitize.line(error.get("type", "an exception"), 100),
        "message": sanitize.line(error.get("message", ""), 600),
        "contract": error.get("contract") is True,
        "where": {
            "function": sanitize.line(where.get("function") or "", 100),
            "line": line if isinstance(line, int) and not isinstance(line, bool) and 0 < line < 10**7 else None,
            "code": sanitize.line(where.get("code") or "", 200),
        } if where else None,
    }


def open_outputs(box: os.PathLike, folder: str = "out") -> int:
    """A directory fd for the box's outputs folder, refusing a link planted in its place."""
    return safe_io.open_folder(box, folder)
