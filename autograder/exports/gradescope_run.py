"""What `run_autograder` runs on Gradescope: grade /autograder/submission, write results.json.

    python -m autograder.exports.gradescope_run [--root /autograder]

It runs in the course folder the export shipped (`/autograder/source/course`), whose
`assignment.json` names the exercises of this Gradescope assignment and where due dates come
from. The submission time is `created_at` of `submission_metadata.json`; the late policy is
course.yml's, applied to course.yml's due dates or, when the export chose so, to the due date
Gradescope's assignment has. results.json follows Gradescope's specification: top-level
`score`, `execution_time`, `output`, `output_format`, and `tests` with `name`, `score`,
`max_score`, `status`, `output`, `visibility`. Whatever happens, a results.json is written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
import traceback
from pathlib import Path

from autograder.config import Course, load_course

ASSIGNMENT = "assignment.json"
MAX_TEXT = 20_000  # characters of one output field
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|[\x00-\x08\x0b-\x1f\x7f]")


def sanitise(text: str) -> str:
    """`text` without terminal escapes and control characters, cut to MAX_TEXT characters."""
    text = _CONTROL.sub("", str(text))
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + f"\n... ({len(text) - MAX_TEXT} characters cut)"


def submitted_at(metadata: dict):
    """The submission time (an aware datetime) from Gradescope's metadata, or None."""
    created = metadata.get("created_at")
    return dt.datetime.fromisoformat(created) if created else None


def with_gradescope_due_dates(course: Course, exercise_ids, metadata: dict) -> Course:
    """The course with the Gradescope assignment's due date for each of `exercise_ids`."""
    due = (metadata.get("assignment") or {}).get("due_date")
    if not due:
        return course
    due_date = dt.datetime.fromisoformat(due)
    exercises = [e.model_copy(update={"due": due_date}) if e.id in exercise_ids else e for e in course.exercises]
    return course.model_copy(update={"exercises": exercises})


def results_json(result) -> dict:
    """A SubmissionResult as Gradescope's results.json, every field its specification names."""
    exported = result.to_gradescope()
    tests = [{
        "name": sanitise(test["name"]),
        "score": float(test["score"]),
        "max_score": float(test["max_score"]),
        "status": "passed" if test["score"] >= test["max_score"] - 1e-9 else "failed",
        "output": sanitise(test["output"]),
        "visibility": test["visibility"],
    } for test in exported["tests"]]
    return {"score": float(exported["score"]), "execution_time": float(exported["execution_time"]),
            "output": sanitise(exported["output"]), "output_format": "text", "tests": tests}


def failure_json(message: str, started: float) -> dict:
    return {"score": 0.0, "execution_time": round(time.monotonic() - started, 3),
            "output": sanitise(f"The autograder could not grade this submission: {message}. "
                               "Your instructor can see the details; please tell them."),
            "output_format": "text", "tests": []}


def grade(root: Path, course_folder: Path, device: str = "cpu") -> dict:
    """results.json's content for the submission in root/submission."""
    from autograder.grading import grade_submission

    assignment = json.loads((course_folder / ASSIGNMENT).read_text(encoding="utf-8"))
    course = load_course(course_folder / "course.yml")
    metadata_path = root / "submission_metadata.json"
    metadata = json.loads(metadata_path.read_text(encoding="utf-8")) if metadata_path.is_file() else {}
    exercises = assignment["exercises"]
    if assignment.get("due_dates") == "gradescope":
        course = with_gradescope_due_dates(course, exercises, metadata)
    result = grade_submission(course, course_folder, root / "submission", exercises, device,
                              progress=lambda e: print(f"grading {e.id} ...", flush=True),
                              submitted_at=submitted_at(metadata))
    return results_json(result)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="/autograder", help="Gradescope's folder (default: /autograder)")
    parser.add_argument("--course", default=".", help="the course folder the export shipped (default: here)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    args = parser.parse_args(argv)
    started = time.monotonic()
    root = Path(args.root)
    target = root / "results" / "results.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    status = 0
    try:
        payload = grade(root, Path(args.course).resolve(), args.device)
    except Exception as exc:  # the grader itself failed: still give Gradescope a result
        traceback.print_exc()
        payload, status = failure_json(type(exc).__name__, started), 1
    target.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"score {payload['score']:g}; results written to {target}")
    return status


if __name__ == "__main__":
    sys.exit(main())
