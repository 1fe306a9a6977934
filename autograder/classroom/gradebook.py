"""The class's gradebook: gradebook.csv, a CSV Canvas's gradebook import accepts, and a terminal summary.

One row per student (a group submission gives each member a row). Only numbers and text from the
records are written; text that came from a submission goes through `autograder.sanitize.line` and,
when it starts like a spreadsheet formula (= + - @), gets a leading quote.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter

from autograder import sanitize
from autograder.classroom.pages import points
from autograder.classroom.staging import STATUSES

SUMMARY_ROWS = 30  # a class this small is listed student by student in the terminal summary


def cell(text) -> str:
    """A CSV cell safe to open in a spreadsheet: one line, no escapes, never a formula."""
    text = sanitize.line("" if text is None else text, limit=1000)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def exercise_ids(course, records) -> list[str]:
    """The exercises graded in any record, in course.yml's order."""
    graded = {e["id"] for record in records for e in record["exercises"]}
    return [e.id for e in course.exercises if e.id in graded]


def _rows_with_layout(course, records) -> list[tuple[dict, str]]:
    """(gradebook row, layout of its record), sorted by student id then submission."""
    ids = exercise_ids(course, records)
    table = []
    for record in records:
        by_id = {e["id"]: e for e in record["exercises"]}
        for student in record["students"]:
            row = {"student_id": cell(student["id"]), "name": cell(student["name"]), "email": cell(student["email"]),
                   "submission": cell(record["key"]), "submitted_at": record["submitted_at"] or "",
                   "marked_late": "yes" if record["marked_late"] else ""}
            for exercise_id in ids:
                exercise = by_id.get(exercise_id)
                row[f"{exercise_id}_raw"] = points(exercise["raw_score"]) if exercise else ""
                row[f"{exercise_id}_late_penalty"] = points(exercise["raw_score"] - exercise["score"]) if exercise else ""
                row[f"{exercise_id}_score"] = points(exercise["score"]) if exercise else ""
            row.update({"total": points(record["score"]), "max_total": points(record["max_score"]),
                        "status": record["status"], "problems": cell(" | ".join(m for _, m in record["problems"]))})
            table.append((row, record["layout"]))
    return sorted(table, key=lambda pair: (pair[0]["student_id"], pair[0]["submission"]))


def rows(course, records) -> list[dict]:
    """Gradebook rows (column -> text), sorted by student id then submission."""
    return [row for row, _ in _rows_with_layout(course, records)]


def _csv(header, table) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    return buffer.getvalue()


def gradebook_csv(course, records) -> str:
    table = rows(course, records)
    header = list(table[0]) if table else ["student_id", "name", "email", "submission", "total", "status"]
    return _csv(header, table)


def canvas_csv(course, records) -> str:
    """Canvas's gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, then one column per
    exercise (a new column name makes a new assignment), and a "Points Possible" row.

    Canvas matches students by ID (its user id, known from a Canvas download), else by SIS User ID
    (Gradescope's SID), else by SIS Login ID (the folder name of the plain and nbgrader layouts).
    """
    ids = exercise_ids(course, records)
    titles = {e.id: f"{course.code + ' ' if course.code else ''}{e.title} ({e.id})" for e in course.exercises}
    header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] + [titles[i] for i in ids]
    possible = {"Student": "    Points Possible", **{titles[i]: points(course.exercise(i).points) for i in ids}}
    table = []
    for row, layout in _rows_with_layout(course, records):
        table.append({
            "Student": row["name"] or row["student_id"],
            "ID": row["student_id"] if layout == "canvas" else "",
            "SIS User ID": row["student_id"] if layout == "gradescope" else "",
            "SIS Login ID": row["student_id"] if layout in ("plain", "nbgrader") else "",
            "Section": "",
            **{titles[i]: row[f"{i}_score"] for i in ids},
        })
    return _csv(header, [possible] + table)


def summary(course, records) -> str:
    """A few lines for the terminal: how many, how they scored, which problems."""
    if not records:
        return "no graded submissions"
    totals = [r["score"] for r in records]
    maximum = max(r["max_score"] for r in records)
    students = sum(len(r["students"]) for r in records)
    lines = [f"{len(records)} submissions ({students} students): median {points(statistics.median(totals))} / "
             f"{points(maximum)}, mean {points(statistics.fmean(totals))}, "
             f"{sum(t >= maximum - 1e-9 for t in totals)} full marks"]
    for exercise_id in exercise_ids(course, records):
        scores = [e["score"] for r in records for e in r["exercises"] if e["id"] == exercise_id]
        lines.append(f"  {exercise_id:<12} median {points(statistics.median(scores)):>7} / "
                     f"{points(course.exercise(exercise_id).points)}")
    if len(records) <= SUMMARY_ROWS:
        for row in rows(course, records):
            lines.append(f"    {(row['name'] or row['student_id'])[:28]:<28} {row['total']:>8} / {row['max_total']:<4} "
                         f"{row['status']}")
    codes = Counter(code for r in records for code in {c for c, _ in r["problems"]})
    if codes:
        lines.append("problems: " + ", ".join(f"{codes[c]} {c}" for c in STATUSES if c in codes))
    else:
        lines.append("problems: none")
    return "\n".join(lines)
