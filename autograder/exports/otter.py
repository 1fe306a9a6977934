"""`course export otter OUT`: one otter-assign master notebook per exercise (otter-grader 7).

    OUT/README.md                         the commands below, and what runs where
    OUT/<id>/<id>.ipynb                   the master notebook: assignment config, one question
    OUT/<id>/test_<id>.py                 the public checks (students get them)
    OUT/<id>/requirements.txt             what the grading image needs besides otter
    OUT/<id>/course_reference/<id>/       reference outputs (autograder zip only)

    otter assign OUT/gmm/gmm.ipynb OUT/gmm/dist     # dist/student/gmm.ipynb, dist/autograder/*.zip
    otter run -a OUT/gmm/dist/autograder/gmm-autograder_*.zip submitted/gmm.ipynb

The question's solution is the reference file, its answer regions fenced for otter (students
get the course's stub: `raise NotImplementedError`). The public test runs the course's public
checks with pytest; each hidden test is one check of `autograder/checks/<id>/`, run in the
kernel by `kernel.otter_case` with the points `course grade` gives it; the `PartialCredit`
plugin turns the checks' fractions into the question's score.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

from autograder.config import Course, Exercise
from autograder.exports import notebooks
from autograder.exports.leakcheck import REFERENCE_FOLDER
from autograder.exports.references import write_references
from autograder.exports.rendering import render
from autograder.stubgen import BEGIN, END

PLUGIN = "autograder.exports.otter_plugin.PartialCredit"
# The prompt students get in place of each answer region: the course's stub.
PROMPT = ('{indent}""" # BEGIN PROMPT\n{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError\n'
          '{indent}""" # END PROMPT\n')


def fence_for_otter(source: str) -> str:
    """The solution with each `# BEGIN SOLUTION` region marked so that otter assign replaces it by
    the course's stub lines instead of `...`."""
    out = []
    for line in source.splitlines(keepends=True):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            indent = begin.group(1)
            out.append(f"{indent}# BEGIN SOLUTION NO PROMPT\n")
        elif end:
            out.append(line)
            out.append(PROMPT.format(indent=re.match(r"\s*", line).group()))
        else:
            out.append(line)
    return "".join(out)


def _test_cell(function_source: str, points: float, hidden: bool):
    config = yaml.safe_dump({"points": points, "hidden": hidden}, sort_keys=False)
    return new_code_cell(f'""" # BEGIN TEST CONFIG\n{config}""" # END TEST CONFIG\n{function_source}')


def hidden_test(exercise: Exercise, index: int, graded: notebooks.GradedCheck):
    """An exception-based test case running one check; its own name is the test case object."""
    name = f"test_check_{index:02d}"
    body = notebooks.call("otter_case", exercise.id, graded.check.name, notebooks.Name("env"), notebooks.Name(name))
    source = (f"def {name}(env):\n    # {graded.check.name}\n"
              f"    from autograder.exports.kernel import otter_case\n    {body}\n")
    return _test_cell(source, graded.points, hidden=True)


def assignment_config(exercise: Exercise, files: list[str]) -> dict:
    return {
        "name": exercise.id,
        "requirements": "requirements.txt",
        "files": files,
        "autograder_files": [REFERENCE_FOLDER],
        "plugins": [PLUGIN],
        "run_tests": False,
        "check_all_cell": False,
        "export_cell": {"pdf": False, "run_tests": False},
        "generate": {"pdf": False, "show_stdout": True},
        "tests": {"files": False, "ok_format": False},
    }


def master_notebook(root: Path, course: Course, exercise: Exercise) -> nbformat.NotebookNode:
    tests = [p.name for p in notebooks.public_tests(root, exercise)]
    how = f'Run `grader.check("{exercise.id}")` for the public checks; submit the zip the last cell makes.'
    cells = [
        new_raw_cell("# ASSIGNMENT CONFIG\n" + yaml.safe_dump(assignment_config(exercise, tests), sort_keys=False)),
        new_markdown_cell(f"# {exercise.title}"),
        new_raw_cell(f"# BEGIN QUESTION\nname: {exercise.id}\n"),
        new_markdown_cell(notebooks.instructions(root, course, exercise, how)),
        new_raw_cell("# BEGIN SOLUTION"),
        new_code_cell(fence_for_otter(notebooks.solution_source(root, exercise))),
        new_raw_cell("# END SOLUTION"),
        new_raw_cell("# BEGIN TESTS"),
        _test_cell(notebooks.public_checks(root, exercise), 0, hidden=False),
        *[hidden_test(exercise, i, graded) for i, graded in enumerate(notebooks.graded_checks(exercise), start=1)],
        new_raw_cell("# END TESTS"),
        new_raw_cell("# END QUESTION"),
    ]
    return new_notebook(cells=cells, metadata={"kernelspec": notebooks.KERNEL_SPEC})


def export_otter(root: Path, course: Course, out: Path, exercises: list[Exercise], requirements: list[str],
                 log=print) -> list[Path]:
    """Write one master notebook folder per exercise under `out`; the master notebooks' paths."""
    masters = []
    for exercise in exercises:
        folder = out / exercise.id
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        log(f"otter: {exercise.id} (reference outputs, master notebook)")
        for test in notebooks.public_tests(root, exercise):
            shutil.copy2(test, folder / test.name)
        write_references(root, exercise, folder)
        (folder / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")
        master = folder / f"{exercise.id}.ipynb"
        nbformat.write(master_notebook(root, course, exercise), master)
        masters.append(master)
    (out / "README.md").write_text(render("otter_README.md.j2", course=course, exercises=exercises),
                                   encoding="utf-8")
    return masters
