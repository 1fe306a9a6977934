"""`course export nbgrader OUT`: an nbgrader (0.9) course directory.

    OUT/nbgrader_config.py                course id, the cell time limit, the course's stub lines
    OUT/README.md                         the commands below
    OUT/source/<id>/<id>.ipynb            one assignment per exercise
    OUT/source/<id>/test_<id>.py          its public checks (released with the notebook)
    OUT/course_reference/<id>/            reference outputs (outside source/: never released)

    cd OUT && nbgrader generate_assignment gmm      # release/gmm/gmm.ipynb for students
    # submissions in submitted/<student>/gmm/gmm.ipynb
    nbgrader autograde gmm                           # scores in gradebook.db

The notebook has the instructions (read-only), one autograded answer cell holding the whole
student file, a read-only cell running the public checks, and one read-only autograder test
cell per hidden check, worth that check's points; its code is entirely within nbgrader's hidden
tests. `kernel.nbgrader_score` runs the check in the kernel and outputs the points earned when
they are partial (nbgrader reads a number a test cell outputs as its score).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.config import Course, Exercise
from autograder.exports import notebooks
from autograder.exports.references import write_references
from autograder.exports.rendering import render

HIDDEN = "### BEGIN HIDDEN TESTS\n{code}\n### END HIDDEN TESTS"
MIN_CELL_TIMEOUT_S = 120


def _cell(make, source: str, grade_id: str, solution=False, points=None, locked=True):
    """A notebook cell with nbgrader's metadata (schema 3)."""
    metadata = {"grade": points is not None, "grade_id": grade_id, "locked": locked, "schema_version": 3,
                "solution": solution, "task": False}
    if points is not None:
        metadata["points"] = points
    return make(source, metadata={"nbgrader": metadata})


def hidden_check_cell(exercise: Exercise, index: int, graded: notebooks.GradedCheck):
    code = ("from autograder.exports.kernel import nbgrader_score\n"
            + notebooks.call("nbgrader_score", exercise.id, graded.check.name, graded.points, notebooks.Name("globals()")))
    points = f"{graded.points:.4g} point{'' if graded.points == 1 else 's'}"
    source = f"# hidden check {index} ({points}): {graded.check.name}\n" + HIDDEN.format(code=code)
    return _cell(new_code_cell, source, f"check_{index:02d}", points=graded.points)


def assignment_notebook(root: Path, course: Course, exercise: Exercise) -> nbformat.NotebookNode:
    how = "Run the public checks below; submit this notebook. The hidden checks are run when it is graded."
    checks = notebooks.graded_checks(exercise)
    cells = [
        _cell(new_markdown_cell, notebooks.instructions(root, course, exercise, how), "instructions"),
        _cell(new_code_cell, notebooks.solution_source(root, exercise), "answer", solution=True, locked=False),
        _cell(new_code_cell, notebooks.public_checks(root, exercise)
              + f"\n\n{notebooks.PUBLIC_CHECKS_FUNCTION}(globals())", "public_checks"),
        _cell(new_markdown_cell, f"## Hidden checks\n\nThe {len(checks)} cells below are graded after you submit "
              f"({exercise.points:g} points in all).", "hidden_checks"),
        *[hidden_check_cell(exercise, i, graded) for i, graded in enumerate(checks, start=1)],
    ]
    return new_notebook(cells=cells, metadata={"kernelspec": notebooks.KERNEL_SPEC, "language_info": {"name": "python"}})


def export_nbgrader(root: Path, course: Course, out: Path, exercises: list[Exercise], log=print) -> Path:
    """Write (or refresh) the nbgrader course directory `out` for `exercises`."""
    for exercise in exercises:
        log(f"nbgrader: {exercise.id} (reference outputs, assignment notebook)")
        source = out / "source" / exercise.id
        if source.exists():
            shutil.rmtree(source)
        source.mkdir(parents=True)
        for test in notebooks.public_tests(root, exercise):
            shutil.copy2(test, source / test.name)
        nbformat.write(assignment_notebook(root, course, exercise), source / f"{exercise.id}.ipynb")
        write_references(root, exercise, out)
    config = out / "nbgrader_config.py"
    if config.exists():
        log(f"kept {config} (delete it to have it written again)")
    else:
        timeout = max([MIN_CELL_TIMEOUT_S, *(course.limits_for(e).time_s for e in course.exercises)])
        config.write_text(render("nbgrader_config.py.j2", course=course, timeout=int(timeout)), encoding="utf-8")
    (out / "README.md").write_text(render("nbgrader_README.md.j2", course=course, exercises=exercises),
                                   encoding="utf-8")
    return out
