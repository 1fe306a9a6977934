"""Feedback pages and gradebook cells: hidden checks stay hidden, student text is shown as text."""

import csv
import io

from autograder.classroom import gradebook
from autograder.classroom.feedback import render_feedback
from autograder.classroom.pages import shown


def record(name="Ada", feedback="fine", hidden_feedback="the hidden input was X = [[1e9]]"):
    return {
        "key": "ada", "layout": "gradescope", "students": [{"id": "1", "name": name, "email": "ada@example.edu"}],
        "submitted_at": "2026-12-05T10:00:00+01:00", "marked_late": False, "status": "ok", "problems": [],
        "notes": [], "score": 3.0, "max_score": 4.0, "grading_time_s": 1.0,
        "exercises": [{
            "id": "gmm", "title": "EM for a Gaussian mixture model", "origin": "gmm.py", "raw_score": 3.0,
            "kept_fraction": 1.0, "score": 3.0, "max_score": 4.0, "notes": [],
            "checks": [
                {"name": "visible check", "score": 1.0, "max_score": 2.0, "passed": False, "visibility": "visible",
                 "feedback": feedback},
                {"name": "secret edge case", "score": 2.0, "max_score": 2.0, "passed": True, "visibility": "hidden",
                 "feedback": hidden_feedback},
            ],
        }],
    }


def test_hidden_checks_are_not_on_the_page_but_count(course):
    page = render_feedback(course, record())
    assert "secret edge case" not in page and "1e9" not in page
    assert "includes 1 hidden check" in page and "3 / 4 points" in page


def test_student_text_is_escaped_and_control_characters_are_visible(course):
    page = render_feedback(course, record(name="<img src=x onerror=alert(1)>",
                                          feedback="raised \x1b[2J\x1b[31m<b>boom</b>\r\u202eevil"))
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>boom" not in page and "&lt;b&gt;boom&lt;/b&gt;" in page
    assert "\x1b" not in page and "\r" not in page and "\u202e" not in page
    assert "[2J" not in page and "\\u202e" in page and "raised" in page


def test_shown_keeps_newlines_tabs_and_long_text():
    assert shown("a\n\tb") == "a\n\tb" and shown(None) == ""
    assert shown("x" * 100_000) == "x" * 100_000  # a source shown side by side is never cut


def test_gradebook_cells_cannot_be_formulas_or_carry_escapes(course):
    hostile = record(name="=HYPERLINK(\"http://evil\",\"click\")")
    hostile["students"][0]["email"] = "@SUM(1+1)\x1b[31m"
    rows = list(csv.DictReader(io.StringIO(gradebook.gradebook_csv(course, [hostile]))))
    assert rows[0]["name"].startswith("'=HYPERLINK") and rows[0]["email"] == "'@SUM(1+1)"
    assert rows[0]["gmm_score"] == "3" and rows[0]["gmm_late_penalty"] == "0"
