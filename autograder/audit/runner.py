"""Grade each mutant of a reference with the exercise's hidden checks, and compare its behaviour with the reference's.

A mutant is the instructor's own code, so it runs in a forked copy of this process (no sandbox, like
`--no-isolation`), with a time limit that ends mutants which loop forever. For each mutant:

- its verdicts from the hidden checks (the same probes, inputs, reference and judges as `course grade`);
- whether it behaves differently from the reference at all: every probe run again on inputs from
  another seed, outputs compared number by number. A mutant that loses no points *and* behaves like the
  reference on both sets of inputs is counted as equivalent, not as a survivor.

Training probes (`reference=False`: smoke tests) are left out unless asked for: they take seconds each.
"""

from __future__ import annotations

import multiprocessing
import tempfile
import traceback
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder import grading
from autograder.checking import load_checks
from autograder.checks.diagnostics import is_generic

SECOND_SEED = 1_000_003  # offsets the per-probe seeds for the behaviour comparison
FLOAT32_RTOL = 1e-6  # a few units in the last place of a float32 (eps 1.2e-7)


@dataclass
class Graded:
    """One graded submission (a mutant or a correct alternative)."""

    name: str
    verdicts: dict = field(default_factory=dict)  # check name -> (fraction, feedback)
    behaves_differently: bool = True
    error: str | None = None  # why it could not be graded (time limit, crash)

    @property
    def lost(self) -> dict:
        return {name: feedback for name, (fraction, feedback) in self.verdicts.items() if fraction < 1 - 1e-9}

    @property
    def killed(self) -> bool:
        return self.error is not None or bool(self.lost)

    @property
    def equivalent(self) -> bool:
        return not self.killed and not self.behaves_differently

    @property
    def specific(self) -> bool:
        """Killed, and some failing check's feedback names more than 'differs from the reference'."""
        if self.error is not None:
            return True  # the grader's own message says what happened (time limit, crash)
        return any(feedback and not is_generic(feedback) for feedback in self.lost.values())


def training_probes(exercise_id: str) -> tuple:
    checks = load_checks(exercise_id)
    return tuple(name for name in checks.probe_names() if not checks.probes[name].reference)


def other_inputs(checks, names, reference_file: Path) -> dict:
    """Inputs for `names` from seeds other than the grader's."""
    inputs = {}
    for name in names:
        probe = checks.probes[name]
        rng = np.random.default_rng(zlib.crc32(name.encode()) + SECOND_SEED)
        inputs[name] = probe.make_inputs(rng) if probe.make_inputs else {}
    from autograder import stand_in_inputs
    from autograder.grading import import_file

    return stand_in_inputs.attach(checks.probes, names, inputs, import_file(reference_file, reference_file.stem))


def outputs_of(checks, module, names, inputs) -> dict:
    """probe -> its outputs on `module`, or an error string when it raised."""
    out = {}
    for name in names:
        try:
            out[name] = grading.run_in_process(checks, module, [name], inputs)[name].values
        except Exception as exc:  # noqa: BLE001 - a mutant may raise anything
            out[name] = f"raised {type(exc).__name__}"
    return out


def same(a, b) -> bool:
    """Whether two probe outputs agree number by number (NaN equals NaN), to float32's precision: a sum taken in
    another order (a mean of means where one mean is due) differs in the last bits of a float32 only."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, str) or isinstance(b, str) or a is None or b is None:
        return a == b
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=FLOAT32_RTOL, atol=1e-9, equal_nan=True))


class Auditor:
    """Grades sources of one exercise: verdicts and a behaviour comparison with the reference."""

    def __init__(self, root: Path, exercise_id: str, module_name: str, with_training=False, timeout_s=120.0):
        import torch

        # One thread, before any computation: a child forked from a process whose thread pool has run can hang in
        # it (OpenMP after fork), and a shared machine gains nothing from more.
        torch.set_num_threads(1)
        self.root, self.exercise_id, self.module_name = Path(root), exercise_id, module_name
        self.checks = load_checks(exercise_id)
        self.skip = () if with_training else training_probes(exercise_id)
        self.names = [n for n in self.checks.probe_names() if n not in self.skip]
        self.timeout_s = timeout_s
        reference_file = grading.reference_path(root, exercise_id, module_name)
        reference = grading.import_file(reference_file, module_name)
        self.inputs = {"grader": grading.probe_inputs(self.checks, self.names, reference_file=reference_file),
                       "other": other_inputs(self.checks, self.names, reference_file)}
        self.expected = {seed: outputs_of(self.checks, reference, self.names, inputs)
                         for seed, inputs in self.inputs.items()}
        grading.reference_outputs(str(root), exercise_id, module_name, "cpu")  # computed once, before forking

    def _grade_here(self, name: str, source: str) -> Graded:
        with tempfile.TemporaryDirectory(prefix="course-audit-") as folder:
            path = Path(folder) / f"{self.module_name}.py"
            path.write_text(source, encoding="utf-8")
            module = grading.import_file(path, f"{self.module_name}_{name}")
            verdicts = grading.judge_in_process(self.root, self.exercise_id, self.module_name, module, skip=self.skip)
            differs = any(not same(outputs_of(self.checks, module, self.names, inputs), self.expected[seed])
                          for seed, inputs in self.inputs.items())
        return Graded(name, {k: (v.fraction, v.feedback) for k, v in verdicts.items()}, differs)

    def grade(self, name: str, source: str) -> Graded:
        """Grade `source` in a forked process with a time limit."""
        context = multiprocessing.get_context("fork")
        receiver, sender = context.Pipe(duplex=False)

        def work():
            try:
                sender.send(self._grade_here(name, source))
            except BaseException:  # noqa: BLE001 - report, never hang the parent
                sender.send(Graded(name, error=f"the grader itself failed: {traceback.format_exc(limit=3)[-300:]}"))

        process = context.Process(target=work, daemon=True)
        process.start()
        result = receiver.recv() if receiver.poll(self.timeout_s) else None
        process.join(1.0)
        if process.is_alive():
            process.kill()
            process.join()
        if result is None:
            return Graded(name, error=f"grading did not finish within {self.timeout_s:g} s "
                                      f"(the process {'was stopped' if process.exitcode is None else 'ended'})")
        return result


def correct_alternatives(root: Path, exercise_id: str) -> dict:
    """name -> source of the correct alternatives in tests/submissions/<exercise>/: every file but mistakes.py whose
    docstring's first line does not call it wrong ("WRONG: ...", "A wrong flows.py as a student ...")."""
    import ast
    import re

    folder = Path(root) / "tests" / "submissions" / exercise_id
    found = {}
    for path in sorted(folder.rglob("*.py")) if folder.is_dir() else []:
        if path.name == "mistakes.py" or "__pycache__" in path.parts:
            continue
        source = path.read_text(encoding="utf-8")
        first_line = (ast.get_docstring(ast.parse(source)) or "").strip().splitlines()[:1]
        if not re.search(r"\bwrong\b", " ".join(first_line), re.IGNORECASE):
            found[str(path.relative_to(folder))] = source
    return found
