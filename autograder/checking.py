"""The vocabulary of hidden checks: a check names a probe, carries points, and judges evidence.

A check is defined once, in ``autograder/checks/<exercise>/checks.py``::

    CHECKS = CheckSet("autograder.checks.gmm.probes")

    @CHECKS.check("e_step: responsibilities match the reference", points=3, probe="e_step")
    def responsibilities(ev):
        '''Feedback names the likely mistake when this fails.'''
        resp = expect_array(ev.student["resp"], ev.reference["resp"].shape, "resp")
        ...
        return 1.0  # or Verdict(0.5, "..."), or raise Mistake("...")

The probe runs wherever student code runs (the sandbox here; a notebook kernel
for nbgrader/otter exports); the judge always runs on the trusted side.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from typing import Callable

from autograder import sanitize
from autograder.results import VISIBILITIES


class Mistake(Exception):
    """Raised by a judge: the check fails (score 0) with this feedback."""


@dataclass(frozen=True)
class Verdict:
    fraction: float  # 0..1 of the check's points
    feedback: str = ""


@dataclass(frozen=True)
class Evidence:
    """What a judge sees: the inputs, the student's outputs (and their types), the reference outputs."""

    inputs: dict
    student: dict
    types: dict
    reference: dict


@dataclass(frozen=True)
class Check:
    name: str
    points: float
    probe: str
    judge: Callable[[Evidence], object]
    visibility: str = "visible"

    def verdict(self, evidence: Evidence) -> Verdict:
        """Run the judge; a Mistake, any other exception or a bad return is a 0 with feedback, never a crash.

        Whatever the student's outputs make a judge do (raise on a ragged list, divide by a NaN,
        recurse too deep), only this check scores 0. Feedback is sanitised: judges quote student values.
        """
        try:
            outcome = self.judge(evidence)
            if outcome is None or outcome is True:
                fraction, feedback = 1.0, ""
            elif isinstance(outcome, Verdict):
                fraction, feedback = float(outcome.fraction), outcome.feedback
            else:
                fraction, feedback = float(outcome), ""
        except Mistake as mistake:
            fraction, feedback = 0.0, str(mistake)
        except Exception as error:  # noqa: BLE001 - a judge must never take the grader down
            fraction = 0.0
            feedback = (f"your outputs for this check could not be judged ({type(error).__name__}: "
                        f"{sanitize.line(error, 200)}): check that every value has the documented type and shape")
        if not math.isfinite(fraction):
            fraction = 0.0
        return Verdict(min(max(fraction, 0.0), 1.0), sanitize.text(feedback))


@dataclass
class CheckSet:
    """The hidden checks of one exercise and the module holding their probes."""

    probes_module: str
    checks: list = field(default_factory=list)
    # Modules its judges import lazily: the grader imports them while the sandboxes run, not after the last
    # exercise came back (e.g. scikit-learn for gmm's referee, about a second).
    warm_imports: tuple = ()

    def check(self, name, points, probe, visibility="visible"):
        if visibility not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {VISIBILITIES}, got {visibility!r}")
        if points <= 0:
            raise ValueError(f"check {name!r}: points must be positive")

        def register(judge):
            if any(c.name == name for c in self.checks):
                raise ValueError(f"check {name!r} is defined twice")
            self.checks.append(Check(name, points, probe, judge, visibility))
            return judge

        return register

    @property
    def probes(self):
        return importlib.import_module(self.probes_module).PROBES

    @property
    def total_points(self) -> float:
        return sum(c.points for c in self.checks)

    def probe_names(self):
        """Probes the checks use, in the order the probes module defines them."""
        used = {c.probe for c in self.checks}
        unknown = used - set(self.probes.probes)
        if unknown:
            raise ValueError(f"checks name unknown probes: {sorted(unknown)}")
        return [p.name for p in self.probes if p.name in used]


def load_checks(exercise_id: str) -> CheckSet:
    """The CheckSet of an exercise, from autograder/checks/<exercise_id>/checks.py."""
    return importlib.import_module(f"autograder.checks.{exercise_id}.checks").CHECKS
