"""Notebook submissions: graded from the cells that define things, feedback by cell, the same score as a .py.

The notebooks are built from Python files by tests/notebook_builder.py: one definition per cell under
markdown headings, an imports cell with IPython magics, a leftover experiment that raises, a top-level
training loop that never ends, and a %%time cell magic.
"""

from __future__ import annotations

import pytest

from autograder import grading
from autograder.checking import load_checks
from autograder.grading import import_file
from autograder.notebooks import convert
from autograder.submission import locate
from conftest import ROOT, feedback_of
from mutations import load_mistakes, mutated
from notebook_builder import LEFTOVER, TRAINING, write_notebook

EXERCISES = ["gmm", "vae", "iwae", "autoencoder", "gan", "dcgan", "pixelcnn", "pixelrnn", "flows", "diffusion"]
# Probes that train a model: left out of the in-process comparison (they run the same code either way).
TRAINING_PROBES = {"vae": ("train",), "gan": ("smoke_ring",), "pixelcnn": ("smoke",), "flows": ("train",),
                   "diffusion": ("train",)}
# One wrong version of each exercise: the first of its catalogue, or a small edit here.
EDITS = {
    "iwae": [("return log_mean_exp(log_w, dim=0)", "return log_w.mean(dim=0)")],
    "autoencoder": [(".flatten(1).sum(dim=1).mean()", ".mean()")],
    "pixelrnn": [("return torch.stack([s[:, :, i, i:i + W] for i in range(H)], dim=2)",
                  "return s[..., :W]")],
}


def wrong_version(exercise: str) -> str:
    if exercise in EDITS:
        return mutated(exercise, EDITS[exercise])
    catalogue = load_mistakes(exercise)
    return mutated(exercise, catalogue[sorted(catalogue)[0]])


def reference(exercise: str) -> str:
    return (ROOT / "solutions" / exercise / f"{exercise}.py").read_text(encoding="utf-8")


def judged(folder, exercise: str, tag: str) -> dict:
    """check name -> (fraction, feedback) of the file `locate` finds in `folder`, judged in this process."""
    found = locate(folder, exercise)
    assert found.problem is None, found.problem
    module_file = folder.parent / f"{tag}_{exercise}_module.py"
    module_file.write_text(found.source, encoding="utf-8")
    verdicts = grading.judge_in_process(ROOT, exercise, exercise, import_file(module_file, f"{tag}_{exercise}"),
                                        skip=TRAINING_PROBES.get(exercise, ()))
    return {name: (v.fraction, v.feedback) for name, v in verdicts.items()}


@pytest.mark.parametrize("exercise", EXERCISES)
@pytest.mark.parametrize("version", ["reference", "wrong"])
def test_a_notebook_scores_what_the_same_code_as_a_py_file_scores(tmp_path, exercise, version):
    source = reference(exercise) if version == "reference" else wrong_version(exercise)
    as_py, as_notebook = tmp_path / "py", tmp_path / "ipynb"
    as_py.mkdir()
    as_notebook.mkdir()
    (as_py / f"{exercise}.py").write_text(source, encoding="utf-8")
    write_notebook(source, as_notebook / f"{exercise}.ipynb")
    py_verdicts = judged(as_py, exercise, "py")
    assert judged(as_notebook, exercise, "nb") == py_verdicts
    scores = [fraction for fraction, _ in py_verdicts.values()]
    assert (min(scores) == 1) == (version == "reference"), py_verdicts
    assert len(py_verdicts) == len(load_checks(exercise).checks) - len(TRAINING_PROBES.get(exercise, ()))


def test_top_level_code_is_not_run_and_the_skipped_cells_are_named(grade, tmp_path):
    """The leftover experiment would raise and the training loop would never end: neither runs."""
    write_notebook(reference("gmm"), tmp_path / "gmm.ipynb")
    result = grade("gmm", tmp_path)
    assert result.score == pytest.approx(result.max_score), feedback_of(result)
    leftover, training = _cells_holding(tmp_path / "gmm.ipynb", LEFTOVER, TRAINING)
    note = next(n for n in result.notes if "skipped" in n)
    assert f"cell {leftover} (" in note and f"cell {training} (a loop at line 3)" in note, note
    assert "graded gmm.ipynb" in result.notes


def _cells_holding(path, *texts):
    import nbformat

    cells = nbformat.read(str(path), as_version=4).cells
    return [next(i for i, cell in enumerate(cells, start=1) if cell.source == text) for text in texts]


def test_feedback_on_a_notebook_names_the_cell_and_line(grade, tmp_path):
    source = mutated("gmm", [("resp = np.exp(log_joint - log_px[:, None])", "resp = np.exp(log_joint - log_px[None, :])")])
    path = write_notebook(source, tmp_path / "gmm.ipynb")
    result = grade("gmm", tmp_path)
    import nbformat

    cells = nbformat.read(str(path), as_version=4).cells
    cell = next(i for i, c in enumerate(cells, start=1) if c.source.startswith("def e_step"))
    line = next(i for i, text in enumerate(cells[cell - 1].source.splitlines(), start=1) if "log_px[None, :]" in text)
    feedback = feedback_of(result)
    assert f"cell {cell}, line {line} of your notebook" in feedback, feedback
    assert "of your file" not in feedback


def test_when_both_files_are_present_the_results_say_which_was_graded(grade, tmp_path):
    (tmp_path / "gmm.py").write_text(reference("gmm"), encoding="utf-8")
    write_notebook(mutated("gmm", load_mistakes("gmm")["no_2pi"]), tmp_path / "gmm.ipynb")
    result = grade("gmm", tmp_path)
    assert result.score == pytest.approx(result.max_score)
    assert any("found both gmm.py and gmm.ipynb: graded gmm.py, because a .py file takes precedence" in note
               for note in result.notes), result.notes


def test_a_cell_that_is_not_python_is_skipped_and_named(tmp_path):
    path = write_notebook(reference("iwae"), tmp_path / "iwae.ipynb", extra_cells=("def broken(:\n    pass\n",))
    cells = convert(path)
    assert any("not valid Python (line 1" in what[0] for what in cells.skipped.values()), cells.skipped
    assert "def iwae_bound" in cells.source and "def broken" not in cells.source


def test_what_the_definitions_use_is_kept_and_nothing_else(tmp_path):
    source = ("import math\nimport os\nSCALE = 2.0\nUNUSED = os.getcwd()\nalias = math.sqrt\n\n"
              "def f(x):\n    return SCALE * math.pi * x\n")
    cells = convert(write_notebook(source, tmp_path / "x.ipynb", extra_cells=("print(f(1))\n",)))
    namespace = {}
    exec(compile(cells.source, "x", "exec"), namespace)
    assert namespace["f"](1) == pytest.approx(2 * 3.141592653589793)
    assert "alias" in namespace and "UNUSED" not in namespace and "os" not in namespace


def test_reading_notebooks_skips_the_iri_grammar_that_no_notebook_schema_uses():
    """jsonschema compiles rfc3987-syntax's Lark grammar at import (about 1.5 CPU-s, once per grading worker)
    for formats that nbformat never checks: the grader imports nbformat without it, validates all the same,
    and leaves the package importable for anyone who needs it."""
    import importlib.util
    import subprocess
    import sys

    if importlib.util.find_spec("rfc3987_syntax") is None:
        pytest.skip("rfc3987-syntax is not installed here")
    script = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from autograder.notebooks import import_nbformat
nbformat = import_nbformat()
loaded_with_nbformat = 'rfc3987_syntax' in sys.modules
nbformat.validate(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('x = 1')]))
try:
    nbformat.validate({{'nbformat': 4, 'nbformat_minor': 5, 'metadata': {{}}, 'cells': [{{'cell_type': 'code'}}]}})
except nbformat.ValidationError:
    caught = True
import rfc3987_syntax
print(loaded_with_nbformat, caught, callable(rfc3987_syntax.is_valid_syntax))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True", "True"]
