"""Shared fixtures: the course, and grading a submission written on the fly."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.config import load_course
from autograder.grading import grade_submission

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = Path(__file__).resolve().parent / "submissions"


@pytest.fixture(scope="session")
def course():
    return load_course(ROOT / "course.yml")


@pytest.fixture
def grade(course, tmp_path):
    """grade(exercise_id, {filename: source}) or grade(exercise_id, folder) -> ExerciseResult."""

    def run(exercise_id, files, device="cpu"):
        folder = files if isinstance(files, Path) else tmp_path / "submission"
        if not isinstance(files, Path):
            folder.mkdir(exist_ok=True)
            for name, text in files.items():
                (folder / name).write_text(text, encoding="utf-8")
        return grade_submission(course, ROOT, folder, [exercise_id], device).exercises[0]

    return run


def solution_source(exercise_id: str, filename: str | None = None) -> str:
    return (ROOT / "solutions" / exercise_id / (filename or f"{exercise_id}.py")).read_text(encoding="utf-8")


def feedback_of(result) -> str:
    return "\n".join(f"{c.name}: {c.feedback}" for c in result.checks if not c.passed)


def assert_named_mistake(verdicts: dict, name: str, words: str, failing_prefixes) -> None:
    """The mistake `name` lost points on checks starting with each prefix, and the feedback says `words`."""
    lost = {check: v for check, v in verdicts.items() if v.fraction < 1}
    assert lost, f"{name} got full marks"
    for prefix in failing_prefixes:
        assert any(check.startswith(prefix) for check in lost), f"{name}: no failing check starts with {prefix!r}: {list(lost)}"
    feedback = "\n".join(v.feedback for v in lost.values())
    assert words in feedback, f"{name}: feedback does not say {words!r}:\n{feedback}"


def assert_loses_exactly(verdicts: dict, expected: dict) -> None:
    """Points are lost on exactly the checks named by a prefix in `expected` (prefix -> words its feedback says)."""
    lost = {check: v for check, v in verdicts.items() if v.fraction < 1}
    for prefix, words in expected.items():
        matching = [check for check in lost if check.startswith(prefix)]
        assert matching, f"no failing check starts with {prefix!r}: {list(lost)}"
        assert all(words in lost[check].feedback for check in matching), \
            f"feedback of {prefix!r} does not say {words!r}: {[lost[c].feedback for c in matching]}"
    unexpected = [check for check in lost if not any(check.startswith(prefix) for prefix in expected)]
    assert not unexpected, f"points lost where the file is right: {[(c, lost[c].feedback) for c in unexpected]}"
