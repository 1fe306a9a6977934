"""A student's feedback page: score per exercise and check, the feedback text, the late penalty.

Checks marked `hidden` are not listed (their points still count in the exercise's score, as on
Gradescope); everything from the submission is escaped and made visible by `pages.shown`.
"""

from __future__ import annotations

from autograder.classroom.pages import render


def render_feedback(course, record: dict) -> str:
    """The HTML page for one record (see `record.build_record`)."""
    exercises = []
    for exercise in record["exercises"]:
        visible = [c for c in exercise["checks"] if c["visibility"] != "hidden"]
        exercises.append({**exercise, "visible_checks": visible,
                          "hidden_count": len(exercise["checks"]) - len(visible),
                          "late_penalty": exercise["raw_score"] - exercise["score"]})
    return render("feedback.html", course=course, record=record, exercises=exercises)
