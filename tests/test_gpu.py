"""On CUDA (`pytest -m gpu`; skipped without a GPU): the sandbox exposes the GPU to the student's code, and
every verdict on the GPU equals the one on the CPU, for the references and for wrong submissions (TF32 and
cuDNN non-determinism must not flip a verdict). The training smoke tests run on CUDA in the reference cases."""

from __future__ import annotations

import pytest
import torch

from autograder.grading import grade_submission
from conftest import ROOT, feedback_of
from mutations import load_mistakes, mutated, reference_source

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]

EXERCISES = sorted(path.parent.name for path in (ROOT / "solutions").glob("*/*.py")
                   if path.stem == path.parent.name)
MISTAKES_PER_EXERCISE = 3  # enough to cover several checks; all of them would only repeat the CPU tests
SEED = 20261125
ON_THE_GPU = """
_kl_on_any_device = kl_to_standard_normal
def kl_to_standard_normal(mu, logvar):
    if not (mu.is_cuda and logvar.is_cuda):
        raise RuntimeError("the grader handed me tensors on " + str(mu.device))
    return _kl_on_any_device(mu, logvar)
"""


def cases(exercise_id: str) -> dict[str, str]:
    """label -> source: the reference and the first few mistakes of tests/submissions/<exercise>/mistakes.py."""
    found = {"reference": reference_source(exercise_id)}
    if (ROOT / "tests" / "submissions" / exercise_id / "mistakes.py").exists():
        mistakes = load_mistakes(exercise_id)
        for name in sorted(mistakes)[:MISTAKES_PER_EXERCISE]:
            found[name] = mutated(exercise_id, mistakes[name])
    return found


def graded(course, exercise_id: str, source: str, device: str, folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / course.exercise(exercise_id).student_file).write_text(source, encoding="utf-8")
    return grade_submission(course, ROOT, folder, [exercise_id], device, seed=SEED).exercises[0]


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_verdicts_on_the_gpu_equal_those_on_the_cpu(exercise_id, course, tmp_path):
    points = course.exercise(exercise_id).points
    for label, source in cases(exercise_id).items():
        cpu = graded(course, exercise_id, source, "cpu", tmp_path / label / "cpu")
        gpu = graded(course, exercise_id, source, "cuda", tmp_path / label / "cuda")
        if label == "reference":
            assert gpu.score == pytest.approx(gpu.max_score), feedback_of(gpu)
        for on_cpu, on_gpu in zip(cpu.checks, gpu.checks, strict=True):
            assert on_gpu.name == on_cpu.name
            assert on_gpu.score == pytest.approx(on_cpu.score, abs=1e-6 * points), (
                f"{exercise_id}/{label}/{on_cpu.name}: cpu {on_cpu.score} ({on_cpu.feedback}) vs "
                f"cuda {on_gpu.score} ({on_gpu.feedback})")


def test_the_students_code_gets_tensors_on_the_gpu_in_the_sandbox(course, tmp_path):
    """A VAE whose KL refuses CPU tensors: full marks on CUDA (the sandbox exposes the GPU), points lost on the CPU."""
    source = reference_source("vae") + ON_THE_GPU
    on_gpu = graded(course, "vae", source, "cuda", tmp_path / "cuda")
    assert on_gpu.score == pytest.approx(on_gpu.max_score), feedback_of(on_gpu)
    on_cpu = graded(course, "vae", source, "cpu", tmp_path / "cpu")
    assert "the grader handed me tensors on cpu" in feedback_of(on_cpu)
