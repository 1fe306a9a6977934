"""A student's record: what the gradebook and the report need from one graded submission, as plain JSON."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from autograder.classroom.layouts import Submission
from autograder.classroom.staging import status_of
from autograder.classroom.store import RECORD_SCHEMA
from autograder.results import SCORE_DECIMALS, SubmissionResult


def _points(value: float) -> float:
    return round(value, SCORE_DECIMALS)


def build_record(submission: Submission, result: SubmissionResult, problems, fingerprint: str,
                 grading_time_s: float, origins: dict) -> dict:
    """The record of `submission` graded as `result`; `origins` maps exercise id -> the file graded."""
    return {
        "schema": RECORD_SCHEMA,
        "key": submission.key,
        "layout": submission.layout,
        "origin": submission.origin,
        "students": [asdict(student) for student in submission.students],
        "submitted_at": submission.submitted_at.isoformat() if submission.submitted_at else None,
        "marked_late": submission.marked_late,
        "fingerprint": fingerprint,
        "status": status_of(problems),
        "problems": [list(problem) for problem in problems],
        "exercises": [
            {
                "id": exercise.exercise,
                "title": exercise.title,
                "origin": origins.get(exercise.exercise),
                "raw_score": _points(exercise.raw_score),
                "kept_fraction": exercise.kept_fraction,
                "score": _points(exercise.score),
                "max_score": _points(exercise.max_score),
                "notes": list(exercise.notes),
                "checks": [
                    {"name": c.name, "score": _points(c.score), "max_score": _points(c.max_score), "passed": c.passed,
                     "visibility": c.visibility, "feedback": c.feedback}
                    for c in exercise.checks
                ],
            }
            for exercise in result.exercises
        ],
        "notes": list(result.notes),
        "score": _points(result.score),
        "max_score": _points(result.max_score),
        "grading_time_s": round(grading_time_s, 3),
        "graded_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds"),
    }
