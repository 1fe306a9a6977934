"""`course check`: which file it checks, what its failures show, and that it agrees with the grader.

Public checks pass on the reference and on every correct alternative in tests/submissions (which the
grader gives full marks); they catch the cheap common mistakes the exercise READMEs promise; and a
submission that breaks the course-wide dtype contract fails both the public and the hidden checks.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import nbformat
import pytest

from autograder import grading
from autograder.grading import import_file
from conftest import ROOT, SUBMISSIONS
from mutations import load_mistakes, mutated
from notebook_builder import write_notebook

EXERCISES = ["gmm", "vae", "iwae", "autoencoder", "gan", "dcgan", "pixelcnn", "pixelrnn"]
CORRECT_ALTERNATIVES = [("gmm", "loops_scipy.py"), ("gmm", "einsum_slogdet.py"), ("gan", "ok_logsigmoid.py"),
                        ("gan", "ok_single_pass.py"), ("vae", "correct_distributions/vae.py"),
                        ("vae", "correct_float64_softplus/vae.py"), ("pixelcnn", "correct_loops.py"),
                        ("pixelcnn", "correct_parametrize.py"), ("pixelrnn", "correct_gather.py")]
# Cheap common mistakes the public checks catch: (exercise, catalogue mistake, words in the output).
CAUGHT = [
    ("pixelcnn", "construction_only", "apply the mask in forward"),
    ("pixelcnn", "one_pass", "draw each pixel after the ones before it"),
    ("pixelcnn", "column_major", "draw each pixel after the ones before it"),
    ("pixelcnn", "unstable_nll", "compute the loss from the logits"),
    ("vae", "bce_on_probabilities", "compute it from the logits"),
    ("gan", "log_of_sigmoid", "log(sigmoid(x)) underflows"),
    ("autoencoder", "item", "no .item(), .detach(), numpy"),  # a .item() where a tensor is asked for
]


def check(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "autograder.cli", "check", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_passes_public_checks(exercise):
    done = check(exercise, f"solutions/{exercise}/{exercise}.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0] == f"Checking {ROOT / 'solutions' / exercise / f'{exercise}.py'} (the file you named)"
    assert "all public checks pass" in done.stdout


def test_stub_fails_public_checks_and_says_where():
    done = check("gmm", "exercises/gmm/gmm.py")
    assert done.returncode == 1
    assert "NotImplementedError" in done.stdout and "some public checks fail" in done.stdout
    assert "in your code: gmm.py, line" in done.stdout


def test_missing_path_is_a_usage_error(tmp_path):
    done = check("gmm", str(tmp_path / "nothing.py"))
    assert done.returncode == 2 and "no such file" in done.stderr


def test_from_a_copy_of_the_exercise_folder_it_checks_the_file_there(tmp_path):
    copy = tmp_path / "my_gmm"
    shutil.copytree(ROOT / "exercises" / "gmm", copy)
    shutil.copy(ROOT / "solutions" / "gmm" / "gmm.py", copy / "gmm.py")  # the student's finished work
    done = check("gmm", cwd=copy)
    assert done.stdout.splitlines()[0] == f"Checking {copy.resolve() / 'gmm.py'} (the file in the current folder)"
    assert done.returncode == 0, done.stdout + done.stderr


def test_outside_the_course_without_a_file_it_says_what_to_do(tmp_path):
    done = check("gmm", cwd=tmp_path)
    assert done.returncode == 2
    assert "no gmm.py or gmm.ipynb in the current folder" in done.stderr and "course check gmm path/to/gmm.py" in done.stderr


def test_inside_the_course_without_a_file_it_names_the_course_copy():
    done = check("gmm")
    assert done.stdout.splitlines()[0].startswith(f"Checking {ROOT / 'exercises' / 'gmm' / 'gmm.py'} (no gmm.py in the "
                                                  "current folder")


def test_a_notebook_is_checked_and_failures_name_its_cells(tmp_path):
    source = mutated("gmm", [("resp = np.exp(log_joint - log_px[:, None])", "resp = np.exp(log_joint - log_px[None, :])")])
    write_notebook(source, tmp_path / "gmm.ipynb")
    cells = nbformat.read(tmp_path / "gmm.ipynb", as_version=4).cells  # numbered as Jupyter shows them
    number, cell = next((n, c) for n, c in enumerate(cells, 1) if "log_px[None, :]" in c.source)
    line = next(i for i, text in enumerate(cell.source.splitlines(), 1) if "log_px[None, :]" in text)
    done = check("gmm", cwd=tmp_path)
    assert done.returncode == 1
    assert (f"in your code: gmm.ipynb, cell {number}, line {line}, in e_step: "
            "resp = np.exp(log_joint - log_px[None, :])") in done.stdout, done.stdout


def test_a_failure_deep_inside_pytorch_shows_the_students_line(tmp_path):
    source = mutated("vae", [('nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none")',
                              'nll = F.binary_cross_entropy_with_logits(logits.flatten(1), x, reduction="none")')])
    (tmp_path / "vae.py").write_text(source, encoding="utf-8")
    done = check("vae", str(tmp_path / "vae.py"))
    assert done.returncode == 1
    assert "in your code: vae.py, line" in done.stdout and "in bernoulli_log_likelihood: nll = " in done.stdout, done.stdout


@pytest.mark.parametrize("exercise, mistake, words", CAUGHT)
def test_public_checks_catch_cheap_common_mistakes(tmp_path, exercise, mistake, words):
    (tmp_path / f"{exercise}.py").write_text(mutated(exercise, load_mistakes(exercise)[mistake]), encoding="utf-8")
    done = check(exercise, str(tmp_path / f"{exercise}.py"))
    assert done.returncode == 1 and words in done.stdout, done.stdout


@pytest.mark.parametrize("exercise, name", CORRECT_ALTERNATIVES)
def test_every_correct_alternative_passes_the_public_checks(exercise, name):
    done = check(exercise, str(SUBMISSIONS / exercise / name))
    assert done.returncode == 0, done.stdout + done.stderr


# Functions whose tensors must keep their inputs' dtype (course-wide contract, stated in every stub).
TENSOR_FUNCTIONS = {
    "vae": ["kl_to_standard_normal", "bernoulli_log_likelihood", "elbo"],
    "gan": ["discriminator_loss", "generator_loss", "generator_loss_minimax"],
    "iwae": ["log_mean_exp", "iwae_bound"],
    "autoencoder": ["reconstruction_loss"],
    "pixelrnn": ["unskew"],
}


def float64_version(exercise: str) -> str:
    """The reference, with every function in TENSOR_FUNCTIONS returning float64 whatever its inputs."""
    source = (ROOT / "solutions" / exercise / f"{exercise}.py").read_text(encoding="utf-8")
    wrappers = "".join(f"\n\n_{name} = {name}\n\n\ndef {name}(*args, **kwargs):\n"
                       f"    return _{name}(*args, **kwargs).double()\n" for name in TENSOR_FUNCTIONS[exercise])
    return source + wrappers


@pytest.mark.parametrize("exercise", sorted(TENSOR_FUNCTIONS))
def test_public_and_hidden_checks_agree_on_the_dtype_contract(tmp_path, exercise):
    path = tmp_path / f"{exercise}.py"
    path.write_text(float64_version(exercise), encoding="utf-8")
    assert check(exercise, str(path)).returncode == 1
    skip = {"vae": ("train",), "gan": ("smoke_ring",)}.get(exercise, ())
    verdicts = grading.judge_in_process(ROOT, exercise, exercise, import_file(path, f"float64_{exercise}"), skip=skip)
    lost = {name: v.feedback for name, v in verdicts.items() if v.fraction < 1}
    assert lost and any("float64" in feedback for feedback in lost.values()), lost
