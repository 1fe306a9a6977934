"""An otter-grader plugin: partial credit per check, as `course grade` gives it.

Otter scores a test case all or nothing. The course's hidden tests (`kernel.otter_case`) record
each check's fraction on their test case; after grading, this plugin sets every question's score
to the sum of points × fraction, so a check that earns 75% in `course grade` earns 75% here.
The export names it in each assignment's `plugins`; it must be importable where otter grades
(the course package installed there).
"""

from __future__ import annotations

from otter.plugins import AbstractOtterPlugin


def question_score(test_file) -> float | None:
    """Points earned in one graded test file, from the recorded fractions (None: nothing recorded)."""
    total, recorded = 0.0, False
    for result in test_file.test_case_results:
        fraction = getattr(result.test_case.body, "course_fraction", None)
        recorded |= fraction is not None
        total += result.test_case.points * (fraction if fraction is not None else float(result.passed))
    return total if recorded else None


class PartialCredit(AbstractOtterPlugin):
    """after_grading: each question's score from its checks' fractions."""

    def after_grading(self, results):
        for name, test_file in results.results.items():
            score = question_score(test_file)
            if score is not None:
                results.update_score(name, score)
