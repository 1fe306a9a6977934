"""Probes: the half of a hidden check that calls student code.

A probe takes the student's module and plain inputs (arrays made on the trusted
side) and returns plain outputs: a flat dict of arrays, tensors, numbers,
strings, None, or lists of those. It runs inside the sandbox, next to untrusted
code, so this file imports nothing from the rest of the engine and holds no
reference answers. The trusted half (the judge) lives in the exercise's
`checks.py` and never runs here.

To judge a function that calls other contract functions on its own, a probe declares
`stand_ins`: `given_stand_ins` runs the function again with stand-ins (decoys the probe module
defines: functions of the same interface that are NOT the answers, e.g. least-squares GAN losses
in place of the non-saturating ones) in place of the student's pieces. The reference runs the same
probe with the same stand-ins, so the judge compares like with like, and one mistake costs points
only in the checks of the function that holds it. Nothing of the reference solution crosses into
the sandbox: student code can read everything there.
"""

from __future__ import annotations

import os
import traceback
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

EXPECTED = "__expected__|"  # prefix of a probe's inputs holding what the reference's pieces return on its trials
VARIANT = "|"  # given_stand_ins's outputs: "<variant label>|<key>"


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
    stand_ins:   names of the contract functions/classes the probe may replace with its module's
                 stand-ins (see `given_stand_ins`).
    trials:      trials(device) -> piece name -> make_args() (or a list of them), for a probe that
                 replaces pieces only where the student's behave differently from the reference's
                 (training runs); the trusted side sends what the reference's pieces return on them.
    max_output_bytes: what its arrays may take together when they come back; None means a budget
                 derived from the reference's outputs (or 64 MiB for a probe without them).
    """

    name: str
    run: Callable[[Any, dict, str], dict]
    make_inputs: Optional[Callable] = None
    time_s: Optional[float] = None
    reference: bool = True
    stand_ins: tuple = ()
    max_output_bytes: Optional[int] = None
    trials: Optional[Callable] = None


@dataclass
class ProbeSet:
    """The probes of one exercise, in the order they run."""

    probes: dict = field(default_factory=dict)
    # Modules its probes import lazily (sympy, through the symbolic shapes PyTorch's meta kernels import on first use):
    # the sandbox's zygote imports them once, so each exercise's child does not pay for them (never in a sandbox
    # whose exercises ban anything in the same package).
    warm_imports: tuple = ()

    def probe(self, inputs=None, time_s=None, reference=True, stand_ins=(), max_output_bytes=None, trials=None):
        """Decorator registering `run(module, inputs, device)` as a probe named after it."""

        def register(run):
            if run.__name__ in self.probes:
                raise ValueError(f"probe {run.__name__!r} is defined twice")
            self.probes[run.__name__] = Probe(run.__name__, run, inputs, time_s, reference, tuple(stand_ins),
                                              max_output_bytes, trials)
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



# ---------------------------------------------------------------- one mistake costs once


@contextmanager
def substituted(module, replacements: dict):
    """Put `replacements` (name -> object) in place of the module's own names, restoring them afterwards.

    Student functions look their module's globals up at call time, so `elbo` calls the substituted
    `kl_to_standard_normal` while this is active.
    """
    missing = object()
    saved = {name: module.__dict__.get(name, missing) for name in replacements}
    module.__dict__.update(replacements)
    try:
        yield module
    finally:
        for name, value in saved.items():
            if value is missing:
                module.__dict__.pop(name, None)
            else:
                module.__dict__[name] = value


def describe_failure(exc, module) -> list:
    """An exception raised in student code as plain data: [type, message, function, line, code].

    The line is the last frame in the student's file (empty strings when there is none).
    """
    student_file = os.path.abspath(getattr(module, "__file__", "") or "")
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if os.path.abspath(f.filename) == student_file]
    last = frames[-1] if frames else None
    message = str(exc)
    message = message if len(message) <= 600 else message[:600] + " ..."
    return [type(exc).__name__, message, last.name if last else "", str(last.lineno) if last else "",
            (last.line or "")[:200] if last else ""]


def behaviour(function, make_args, seed=0) -> list:
    """What `function(*make_args())` returns and, for a torch result, the gradients of its sum w.r.t. the args,
    as float arrays (the arguments are drawn after seeding torch with `seed`)."""
    import numpy as np

    try:
        import torch
    except ImportError:  # a NumPy exercise
        torch = None
    if torch is not None:
        torch.manual_seed(seed)
    args = make_args()
    result = function(*args)
    results = list(result) if isinstance(result, (tuple, list)) else [result]
    if torch is not None and any(isinstance(r, torch.Tensor) and r.requires_grad for r in results):
        leaves = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
        total = sum(r.double().sum() for r in results if isinstance(r, torch.Tensor) and r.requires_grad)
        grads = torch.autograd.grad(total, leaves, allow_unused=True)
        results += [g for g in grads]
    return [np.asarray(r.detach().cpu().double() if hasattr(r, "detach") else r, dtype=float) for r in results
            if r is not None]


def _calls(make_args) -> list:
    return list(make_args) if isinstance(make_args, (list, tuple)) else [make_args]


def expected_behaviours(trials: dict, pieces) -> dict:
    """Inputs for `given_stand_ins` (trusted side): what the reference's pieces (`pieces`, its module) return on
    each trial, as plain arrays under keys "__expected__|<name>|<call>|<i>" — values only, never code."""
    import numpy as np

    out = {}
    for name, make_args in trials.items():
        for call, make in enumerate(_calls(make_args)):
            arrays = behaviour(getattr(pieces, name), make)
            out[f"{EXPECTED}{name}|{call}|count"] = np.array(len(arrays))
            out.update({f"{EXPECTED}{name}|{call}|{i}": array for i, array in enumerate(arrays)})
    return out


def behaves_as_expected(own, inputs, name, call, make_args) -> bool:
    """Whether `own` returns what the reference's piece `name` returned on trial `call` (sent with `inputs`)."""
    import numpy as np

    count = inputs.get(f"{EXPECTED}{name}|{call}|count")
    if count is None:  # nothing sent (a run without the trusted side's expectations): treat it as different
        return False
    expected = [np.asarray(inputs[f"{EXPECTED}{name}|{call}|{i}"]) for i in range(int(count))]
    try:
        got = behaviour(own, make_args)
        return len(got) == len(expected) and all(
            g.shape == e.shape and np.allclose(g, e, rtol=1e-4, atol=1e-5) for g, e in zip(got, expected))
    except Exception:  # noqa: BLE001 - a piece that raises does not behave like the reference's
        return False


def given_stand_ins(module, inputs, variants: dict, run, stand_ins: dict, trials=None) -> dict:
    """Run `run()` once per variant, each with the stand-ins it names in place of the student's pieces.

    stand_ins: name -> the probe module's stand-in (a decoy of the same interface, not the answer).
    variants: label -> names of pieces to replace; the label "" (no pieces) is the student's own run.
    Returns one flat dict: the outputs of variant `label` under keys "<label>|<key>" ("<key>" for ""),
    or "<label>|failed" = describe_failure(...) when it raised. The reference runs the same variants
    with the same stand-ins, and a judge compares them with autograder.checks.judging.judge_given.
    When every variant raised, the own run's exception propagates, so a stub still reads "not implemented".

    trials (for training runs, judged against bars rather than the reference): piece name -> make_args()
    (or a list of them). A variant replaces only the pieces that behave differently from the reference's
    on their trials (`behaves_as_expected`, with what the trusted side sent in `inputs`), recorded as
    "<label>|substituted"; one that would repeat the own run or an earlier variant is skipped and
    recorded as "<label>|skipped" = True.
    """
    differs = {}
    for name, make_args in (trials or {}).items():
        own = getattr(module, name, None)
        differs[name] = own is None or not all(behaves_as_expected(own, inputs, name, call, make)
                                               for call, make in enumerate(_calls(make_args)))
    out, errors, ran, seen = {}, [], 0, {frozenset()}
    for label, names in variants.items():
        prefix = f"{label}{VARIANT}" if label else ""
        if label and trials:
            changing = frozenset(name for name in names if differs.get(name, True))
            if changing in seen:  # nothing differs, or an earlier variant already substituted exactly these
                out[f"{prefix}skipped"] = True
                continue
            seen.add(changing)
            out[f"{prefix}substituted"] = sorted(changing, key=list(names).index)
            names = [name for name in names if name in changing]
        ran += 1
        try:
            with substituted(module, {name: stand_ins[name] for name in names}):
                result = run()
        except Exception as exc:  # noqa: BLE001 - a wrong submission may raise anything
            errors.append(exc)
            out[f"{prefix}failed"] = describe_failure(exc, module)
            continue
        out.update({f"{prefix}{key}": value for key, value in result.items()})
    if errors and len(errors) == ran:
        raise errors[0]
    return out


# ---------------------------------------------------------------- device placement without a GPU


_PLACEMENT_JUDGED = ContextVar("placement_judged", default=True)


@contextmanager
def placement_not_judged():
    """While the trusted side runs the reference: `meta_result` answers "meta" without calling.

    No judge reads the reference's placement, and PyTorch's meta kernels import torch._dynamo and sympy on first
    use (about 1.5 s of CPU) in whichever process runs them: the grader need not pay it for nothing.
    """
    token = _PLACEMENT_JUDGED.set(False)
    try:
        yield
    finally:
        _PLACEMENT_JUDGED.reset(token)


def placement_judged() -> bool:
    """False while the trusted side runs the reference (`placement_not_judged`): a probe's own device checks skip."""
    return _PLACEMENT_JUDGED.get()


def meta_result(call) -> str:
    """Where `call()`'s result lives when its inputs are on PyTorch's `meta` device, as plain data.

    "meta" when the result follows its inputs; "<device>" when it ended elsewhere; "error: <type>: <message>"
    when it raised — a tensor created on the CPU inside the function cannot meet a meta tensor, exactly as
    it cannot meet a CUDA tensor, so device mistakes show on a machine without a GPU.
    """
    if not placement_judged():
        return "meta"
    from torch.distributions import Distribution

    validating = Distribution._validate_args
    Distribution.set_default_validate_args(False)  # argument checks read values, which meta tensors do not have
    try:
        result = call()
    except NotImplementedError as exc:
        if not str(exc):  # the stub's bare `raise NotImplementedError`; PyTorch's own carry a message
            raise
        return f"error: {type(exc).__name__}: {str(exc)[:300]}"
    except Exception as exc:  # noqa: BLE001 - which error is the evidence
        return f"error: {type(exc).__name__}: {str(exc)[:300]}"
    finally:
        Distribution.set_default_validate_args(validating)
    results = result if isinstance(result, (tuple, list)) else [result]
    devices = sorted({str(getattr(r, "device", "not a tensor")) for r in results})
    return ",".join(devices)
