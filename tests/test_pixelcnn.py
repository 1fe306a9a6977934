"""The PixelCNN exercise: reference, stub, realistic mistakes, correct alternatives, the training smoke test.

Full sandboxed grading (every check, the smoke test included) runs for the
reference, the stub, the two correct alternatives and the leaky mask. Every
wrong submission (the reference with the edits in tests/submissions/pixelcnn/mistakes.py)
is also judged by the same check definitions in-process, without the smoke test, so the
catalogue stays fast.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from autograder.config import load_course
from autograder import grading
from autograder.grading import grade_submission, import_file
from conftest import ROOT, assert_named_mistake, SUBMISSIONS, feedback_of
from mutations import load_mistakes, mistake_files

torch.set_num_threads(1)

PIXELCNN_SUBMISSIONS = SUBMISSIONS / "pixelcnn"
MUTATIONS = load_mistakes("pixelcnn")  # name -> (old, new) edits of the reference
SMOKE_PREFIX = "training smoke test:"

# mistake -> (words the feedback must use, check names (prefixes) that must lose points)
MISTAKES = {
    "types_swapped": ("mask types A and B are swapped", ["causal_mask: values"]),
    "centre_row_kept": ("whole centre row is kept", ["causal_mask: values"]),
    "construction_only": ("applied only once to the initial weights", ["causality: an output pixel"]),
    "transposed": ("transposed", ["causal_mask: values"]),
    "no_padding": ("padding must default to kernel_size // 2", ["MaskedConv2d: keeps the height"]),
    "nats": ("in nats", ["nll_bits_per_dim: values", "nll_bits_per_dim: stable"]),
    "one_pass": ("sampled in one pass", ["sample: raster order"]),
    "column_major": ("column by column", ["sample: raster order"]),
    "leaky_mask": ("type A keeps the centre pixel", ["causal_mask: values"]),
    "thresholded_sampling": ("thresholded instead of sampled", ["sample: (n, C, H, W)"]),
    "unstable_nll": ("never log(sigmoid", ["nll_bits_per_dim: stable"]),
}
ALTERNATIVES = ["correct_loops", "correct_parametrize"]
# Mistakes in causal_mask alone: MaskedConv2d builds on it and is right, so the layer's checks keep full marks.
MASK_ONLY = ["centre_row_kept", "transposed", "leaky_mask", "types_swapped"]


def judge_in_process(path: Path, skip=("smoke",)) -> dict:
    """check name -> Verdict for the file at `path`, judged in this process without the smoke test."""
    return grading.judge_in_process(ROOT, "pixelcnn", "pixelcnn", import_file(path, f"pixelcnn_{path.stem}"), skip=skip)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """graded(source_path, device="cpu") -> ExerciseResult of the full sandboxed grading, cached per file."""
    course = load_course(ROOT / "course.yml")
    cache = {}

    def run(source: Path, device="cpu"):
        if (source, device) not in cache:
            folder = tmp_path_factory.mktemp(source.stem)
            (folder / "pixelcnn.py").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
            cache[source, device] = grade_submission(course, ROOT, folder, ["pixelcnn"], device).exercises[0]
        return cache[source, device]

    return run


@pytest.fixture(scope="module")
def mistake_path(tmp_path_factory):
    """mistake_path(name) -> a file holding the reference with the edits of mistake `name`."""
    return mistake_files(tmp_path_factory.mktemp("pixelcnn_mistakes"), "pixelcnn", MUTATIONS)


def smoke_of(result):
    return next(c for c in result.checks if c.name.startswith(SMOKE_PREFIX))


def test_catalogue_has_every_named_mistake():
    assert set(MUTATIONS) == set(MISTAKES)
    assert {p.stem for p in PIXELCNN_SUBMISSIONS.glob("*.py")} >= set(ALTERNATIVES)


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_mistake_loses_points_and_is_named(mistake_path, name):
    words, failing = MISTAKES[name]
    verdicts = judge_in_process(mistake_path(name))
    assert_named_mistake(verdicts, name, words, failing)


@pytest.mark.parametrize("name", MASK_ONLY)
def test_a_wrong_mask_costs_nothing_in_the_layer_checks(mistake_path, name):
    verdicts = judge_in_process(mistake_path(name))
    layer = {c: v for c, v in verdicts.items() if c.startswith(("MaskedConv2d", "causality"))}
    assert len(layer) == 5 and all(v.fraction == 1 for v in layer.values()), {c: v.feedback for c, v in layer.items()}


@pytest.mark.parametrize("name", ALTERNATIVES)
def test_correct_alternative_in_process(name):
    verdicts = judge_in_process(PIXELCNN_SUBMISSIONS / f"{name}.py")
    assert all(v.fraction == 1 for v in verdicts.values()), {k: v.feedback for k, v in verdicts.items() if v.fraction < 1}


def test_reference_full_marks_with_smoke_test(graded):
    result = graded(ROOT / "solutions" / "pixelcnn" / "pixelcnn.py")
    assert result.score == pytest.approx(result.max_score), feedback_of(result)
    assert smoke_of(result).passed


def test_stub_scores_zero(graded):
    result = graded(ROOT / "exercises" / "pixelcnn" / "pixelcnn.py")
    assert result.score == 0
    assert "not implemented" in feedback_of(result)


@pytest.mark.parametrize("name", ALTERNATIVES)
def test_correct_alternative_full_marks_sandboxed(graded, name):
    result = graded(PIXELCNN_SUBMISSIONS / f"{name}.py")
    assert result.score == pytest.approx(result.max_score), feedback_of(result)


def test_a_mask_that_breaks_under_training_fails_the_smoke_test(graded, mistake_path):
    result = graded(mistake_path("construction_only"))
    smoke = smoke_of(result)
    assert not smoke.passed
    assert "evaluated with correct masks" in smoke.feedback


def test_a_leaky_causal_mask_costs_nothing_in_the_smoke_test(graded, mistake_path):
    """Type A keeping the centre breaks training, but the smoke test judges MaskedConv2d given a correct mask."""
    smoke = smoke_of(graded(mistake_path("leaky_mask")))
    assert smoke.passed and "correct, given your `causal_mask`" in smoke.feedback, smoke.feedback


def test_effective_kernel_reads_every_kind_of_layer():
    """The smoke test's weight transfer reads behaviour: buffer, forward-time and parametrize masks alike."""
    from autograder.checks.pixelcnn.checks import TrustedMaskedConv2d, reference_mask
    from genmodels.pixelcnn import effective_kernel

    for path in (PIXELCNN_SUBMISSIONS / "correct_loops.py", PIXELCNN_SUBMISSIONS / "correct_parametrize.py"):
        module = import_file(path, f"kernel_{path.stem}")
        torch.manual_seed(0)
        layer = module.MaskedConv2d(3, 4, 5, "A")
        weight, bias = effective_kernel(layer)
        torch.manual_seed(0)
        trusted = TrustedMaskedConv2d(3, 4, 5, "A")
        expected = trusted.weight.detach() * torch.as_tensor(reference_mask(5, "A"), dtype=torch.float32)
        torch.testing.assert_close(weight, expected, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(bias, trusted.bias.detach())


def test_smoke_weights_must_have_the_right_shapes():
    from autograder.checks.pixelcnn.checks import held_out_bits

    with pytest.raises(ValueError, match="first.weight"):
        held_out_bits({"first.weight": np.zeros((2, 1, 3, 3))})


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_reference_full_marks_on_gpu(graded):
    result = graded(ROOT / "solutions" / "pixelcnn" / "pixelcnn.py", device="cuda")
    assert result.score == pytest.approx(result.max_score), feedback_of(result)


def test_notebook_runs_with_the_reference(tmp_path):
    shutil.copy(ROOT / "exercises" / "pixelcnn" / "explore_pixelcnn.py", tmp_path)
    shutil.copy(ROOT / "solutions" / "pixelcnn" / "pixelcnn.py", tmp_path)
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "explore_pixelcnn.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
