"""Late submissions: the fraction of the score kept under an exercise's late policy."""

from __future__ import annotations

import datetime as dt
import math

from autograder.config import Exercise


def days_late(exercise: Exercise, submitted_at: dt.datetime) -> int:
    """Whole days after the due date, rounded up (one minute late is one day late); 0 when on time."""
    late = submitted_at - exercise.due
    return max(0, math.ceil(late / dt.timedelta(days=1)))


def kept_fraction(exercise: Exercise, submitted_at: dt.datetime | None) -> tuple[float, str | None]:
    """(fraction of the score kept, a note for the student or None when on time)."""
    if submitted_at is None:
        return 1.0, None
    days = days_late(exercise, submitted_at)
    if days == 0:
        return 1.0, None
    policy = exercise.late_policy
    if days > policy.max_days_late:
        return 0.0, (f"submitted {days} day(s) after the due date {exercise.due:%Y-%m-%d %H:%M %Z}; "
                     f"late submissions close after {policy.max_days_late} day(s), so it scores 0")
    kept = max(0.0, 1.0 - policy.penalty_per_day * days)
    return kept, f"submitted {days} day(s) late: {policy.penalty_per_day:.0%} per day, {kept:.0%} of the score kept"
