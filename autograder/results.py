"""Grading results as plain dataclasses, and their Gradescope export.

check result -> exercise result -> submission result. Rendering for a
terminal lives in `autograder.report`, not here.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.sanitize import quoted_block

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
SCORE_DECIMALS = 4  # points are written with this many decimals; grading makes them add up exactly


@dataclass
class CheckResult:
    exercise: str
    name: str
    score: float
    max_score: float
    feedback: str
    visibility: str = "visible"

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score - 1e-9

    def to_dict(self) -> dict:
        return {
            "name": f"{self.exercise}: {self.name}",
            "score": round(self.score, SCORE_DECIMALS),
            "max_score": round(self.max_score, SCORE_DECIMALS),
            "status": "passed" if self.passed else "failed",
            "output": self.feedback,
            "visibility": self.visibility,
        }


@dataclass
class ExerciseResult:
    exercise: str
    title: str
    checks: list[CheckResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # shown once, above the checks
    kept_fraction: float = 1.0  # below 1 for a late submission (see autograder.late)
    printed: str = ""  # what the student's code printed (head and tail), sanitised

    @property
    def raw_score(self) -> float:
        return sum(c.score for c in self.checks)

    @property
    def score(self) -> float:
        return self.raw_score * self.kept_fraction

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.checks)


@dataclass
class SubmissionResult:
    exercises: list[ExerciseResult]
    execution_time: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(e.score for e in self.exercises)

    @property
    def max_score(self) -> float:
        return sum(e.max_score for e in self.exercises)

    def to_gradescope(self) -> dict:
        lines = list(self.notes)
        for exercise in self.exercises:
            lines.append(f"{exercise.exercise}: {exercise.score:.2f} / {exercise.max_score:.2f}")
            lines.extend(f"  {note}" for note in exercise.notes)
            if exercise.printed:
                lines.append(quoted_block(exercise.printed, prefix="  | "))
        return {
            "score": round(self.score, SCORE_DECIMALS),
            "execution_time": round(self.execution_time, 3),
            "output": "\n".join(lines),
            "tests": [check.to_dict() for exercise in self.exercises for check in exercise.checks],
        }

    def write(self, path: Path | str) -> None:
        """Write the Gradescope JSON atomically through a fresh, unpredictable temporary file.

        The temporary file is created with O_EXCL|O_NOFOLLOW (mkstemp), so a planted link cannot
        redirect the write even in a world-writable folder; the rename replaces a link, never follows it.
        """
        path = Path(path)
        data = (json.dumps(self.to_gradescope(), indent=2) + "\n").encode("utf-8")
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o644)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
