"""Probes: the half of a hidden check that calls student code.

A probe takes the student's module and plain inputs (arrays made on the trusted
side) and returns plain outputs: a flat dict of arrays, tensors, numbers,
strings, None, or lists of those. It runs inside the sandbox, next to untrusted
code, so this file imports nothing from the rest of the engine and holds no
reference answers. The trusted half (the judge) lives in the exercise's
`checks.py` and never runs here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional


class ContractError(Exception):
    """The student's function broke the exercise contract (wrong return shape or type).

    Its message is shown to the student as it is, so it should say what was
    expected and what came back.
    """


@dataclass(frozen=True)
class Probe:
    """One call (or a few) into student code, with its inputs recipe and a time limit.

    name:        unique within the exercise; names the inputs and outputs files.
    run:         run(module, inputs, device) -> dict of plain values. Runs in the sandbox.
    make_inputs: make_inputs(rng) -> dict of numpy arrays / numbers. Runs on the trusted side.
    time_s:      wall-time limit for this probe; None means the exercise's check_time_s.
    reference:   whether the trusted side also runs the probe on the reference solution.
    max_output_bytes: what its arrays may take together when they come back; None means a budget
                 derived from the reference's outputs (or 64 MiB for a probe without them).
    """

    name: str
    run: Callable[[Any, dict, str], dict]
    make_inputs: Optional[Callable] = None
    time_s: Optional[float] = None
    reference: bool = True
    max_output_bytes: Optional[int] = None


@dataclass
class ProbeSet:
    """The probes of one exercise, in the order they run."""

    probes: dict = field(default_factory=dict)

    def probe(self, inputs=None, time_s=None, reference=True, max_output_bytes=None):
        """Decorator registering `run(module, inputs, device)` as a probe named after it."""

        def register(run):
            if run.__name__ in self.probes:
                raise ValueError(f"probe {run.__name__!r} is defined twice")
            self.probes[run.__name__] = Probe(run.__name__, run, inputs, time_s, reference, max_output_bytes)
            return run

        return register

    def __getitem__(self, name) -> Probe:
        return self.probes[name]

    def __iter__(self):
        return iter(self.probes.values())


def unpack(result, names, function):
    """Unpack a tuple returned by student code, or raise a ContractError that says why not.

    unpack(out, ("resp", "mean_log_likelihood"), "e_step") -> (resp, mean_log_likelihood)
    """
    expected = f"({', '.join(names)})"
    if not isinstance(result, (tuple, list)):
        raise ContractError(f"{function} must return a tuple {expected}; it returned {type(result).__name__}")
    if len(result) != len(names):
        raise ContractError(f"{function} must return {len(names)} values {expected}; it returned {len(result)}")
    return tuple(result)

