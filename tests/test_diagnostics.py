"""Feedback that diagnoses: the shared diagnostics (checks/diagnostics.py), PyTorch errors in course terms, and
realistic mistakes that no catalogue lists getting more than "differs from the reference"."""

from __future__ import annotations

import numpy as np
import pytest

from autograder import grading
from autograder.checking import load_checks
from autograder.checks.diagnostics import describe_difference, explain_error, is_generic, smallest_case
from autograder.grading import import_file
from conftest import ROOT, solution_source

EXPECTED = np.arange(1.0, 7.0).reshape(2, 3)


@pytest.mark.parametrize("actual, words", [
    (0.5 * EXPECTED, "a factor ½"),
    (EXPECTED + np.log(2), "off by +0.6931 everywhere (= ln 2)"),
    (-EXPECTED, "wrong sign"),
    (EXPECTED.T, "transposed"),
    (np.tile(EXPECTED[:1], (2, 1)), "example 0's value is repeated"),
])
def test_how_a_value_differs_is_named(actual, words):
    message = describe_difference(actual, EXPECTED, "x")
    assert words in message and not is_generic(message), message


def test_partly_right_results_say_where_and_noise_falls_back_to_the_largest_difference():
    actual = EXPECTED.copy()
    actual[1, 2] = 0.0
    assert describe_difference(actual, EXPECTED, "x") == "x is right for 1 of 2 rows and wrong for row 1"
    noise = np.array([[0.3, -0.1, 0.7], [0.2, 0.9, -0.4]])
    assert is_generic(describe_difference(EXPECTED + noise, EXPECTED, "x"))


def test_the_smallest_case_shows_what_comes_back_and_what_should():
    assert smallest_case("f([1.0])", np.array(2.0), np.array(1.0)) == \
        "on the smallest case, f([1.0]) returns 2; it should return 1"


@pytest.mark.parametrize("error, words", [
    ("RuntimeError: one of the variables needed for gradient computation has been modified by an inplace operation",
     "changed in place"),
    ("RuntimeError: Trying to backward through the graph a second time", "discriminator(fake.detach())"),
    ("RuntimeError: Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!",
     "torch.randn_like(x)"),
    ("RuntimeError: expected scalar type Float but found Double", ".to(x.dtype)"),
])
def test_pytorch_errors_are_explained_in_course_terms(error, words):
    explained = explain_error(error)
    assert explained.startswith(error) and words in explained
    assert explain_error(explained) == explained, "explained once"


# A realistic mistake per exercise that no catalogue (tests/submissions/*/mistakes.py) lists: (old, new) in the
# reference, the check that must catch it, and words of its diagnosis.
UNCATALOGUED = {
    "gmm": (("D * np.log(2.0 * np.pi)", "D * np.log(np.pi)"), "log_gaussian_pdf: values match",
            "check the D·log(2π) term"),
    "vae": (("eps = torch.randn_like(std)", "eps = torch.randn(std.shape)"), "every function returns a tensor",
            "PyTorch's meta device"),
    "iwae": (("log_w = log_px_given_z + log_pz - log_qz", "log_w = log_px_given_z + log_pz"),
             "iwae_bound: matches the reference", "log q(z|x) is missing"),
    "pixelrnn": (("pad(x[:, :, i], (i, H - 1 - i))", "pad(x[:, :, i], (H - 1 - i, i))"), "skew: row i shifted",
                 "shifted left"),
}


@pytest.mark.parametrize("exercise", sorted(UNCATALOGUED))
def test_an_uncatalogued_mistake_gets_a_diagnosis(exercise, tmp_path):
    (old, new), check, words = UNCATALOGUED[exercise]
    source = solution_source(exercise)
    assert source.count(old) == 1, f"the reference no longer contains {old!r}"
    path = tmp_path / f"{exercise}.py"
    path.write_text(source.replace(old, new), encoding="utf-8")
    training = [probe.name for probe in load_checks(exercise).probes if not probe.reference]
    verdicts = grading.judge_in_process(ROOT, exercise, exercise, import_file(path, f"{exercise}_uncatalogued"),
                                        skip=training)
    caught = {name: v for name, v in verdicts.items() if name.startswith(check)}
    assert caught and all(v.fraction < 1 for v in caught.values()), verdicts
    feedback = " ".join(v.feedback for v in caught.values())
    assert words in feedback and not is_generic(feedback), feedback
