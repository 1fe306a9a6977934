"""Render results for a terminal: one table per exercise, feedback under failed checks."""

from __future__ import annotations

import shutil
import textwrap

from autograder.results import SubmissionResult


def render(result: SubmissionResult, title: str | None = None) -> str:
    width = min(shutil.get_terminal_size((100, 20)).columns, 110)
    name_width = width - 22
    lines = [title] if title else []
    for exercise in result.exercises:
        lines.append(f"{exercise.title} [{exercise.exercise}]")
        lines.extend(f"  note: {note}" for note in exercise.notes)
        lines.append(f"  {'check':<{name_width}} {'score':>8}  ")
        lines.append("  " + "-" * (name_width + 10))
        for check in exercise.checks:
            mark = "ok  " if check.passed else "FAIL"
            name = textwrap.shorten(check.name, name_width - 5)
            lines.append(f"  {mark} {name:<{name_width - 5}} {check.score:5.2f}/{check.max_score:<5.2f}")
            if check.feedback and not check.passed:
                for line in textwrap.wrap(check.feedback, width - 10):
                    lines.append(f"       {line}")
        if exercise.kept_fraction < 1:
            lines.append(f"  {'before the late penalty':<{name_width}} {exercise.raw_score:5.2f}/{exercise.max_score:<5.2f}")
        lines.append(f"  {'total':<{name_width}} {exercise.score:5.2f}/{exercise.max_score:<5.2f}")
        lines.append("")
    lines.append(f"score {result.score:.2f} / {result.max_score:.2f} in {result.execution_time:.1f} s")
    return "\n".join(lines)
