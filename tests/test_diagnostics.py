"""Feedback that diagnoses: the shared diagnostics (checks/diagnostics.py), PyTorch errors in course terms, and
realistic mistakes that no catalogue lists getting more than "differs from the reference"."""

from __future__ import annotations

import numpy as np
import pytest

from autograder import grading
from autograder.checking import load_checks
from autograder.checks.diagnostics import (describe_difference, estimated_factor, explain_error, is_generic,
                                          smallest_case)
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


# A realistic mistake per exercise that no catalogue (tests/submissions/*/mistakes.py, MISTAKES.md) lists: the
# (old, new) edits of the reference, the check that must catch it, and words of its diagnosis.
UNCATALOGUED = {
    "gmm": ([("D * np.log(2.0 * np.pi)", "D * np.log(np.pi)")], "log_gaussian_pdf: values match",
            "check the D·log(2π) term"),
    "vae": ([("eps = torch.randn_like(std)", "eps = torch.randn(std.shape)")], "every function returns a tensor",
            "PyTorch's meta device"),
    "iwae": ([("log_w = log_px_given_z + log_pz - log_qz", "log_w = log_px_given_z + log_pz")],
             "iwae_bound: matches the reference", "log q(z|x) is missing"),
    "pixelrnn": ([("pad(x[:, :, i], (i, H - 1 - i))", "pad(x[:, :, i], (H - 1 - i, i))")], "skew: row i shifted",
                 "shifted left"),
    # summed over the batch axis where the pixels' is meant: a factor B/P, named from the sizes
    "autoencoder": ([("per_pixel.flatten(1).sum(dim=1).mean()", "per_pixel.flatten(1).sum(dim=0).mean()")],
                    "reconstruction_loss: matches the reference", "a factor B/P"),
    # the generator's loss reuses D(fake) computed before the discriminator's optimizer step changed D in place
    "gan": ([("    fake = generator(z)  # (B_fake, ...)\n",
              "    fake = generator(z)  # (B_fake, ...)\n    fake_logits = discriminator(fake)\n"),
             ("g_loss = generator_loss(discriminator(generator(z)))", "g_loss = generator_loss(fake_logits)")],
            "gan_train_step: parameters after two SGD steps", "optimizer.step(), which updates a model's weights"),
    # LeakyReLU's 0.2 typed as the initialisation's standard deviation
    "dcgan": ([("nn.init.normal_(module.weight, 0.0, 0.02)", "nn.init.normal_(module.weight, 0.0, 0.2)")],
              "init_weights: convolution weights", "about 10 × the expected value 0.02"),
    # "per dimension" read as per pixel position: the channels summed, the rest averaged
    "pixelcnn": ([("nats.flatten(1).mean(dim=1).mean()", "nats.sum(dim=1).mean()")],
                 "nll_bits_per_dim: values match the reference", "a factor C"),
    # device placement: the loss's noise made on the CPU, as torch.randn(shape) does
    "diffusion": ([("noise = torch.randn_like(x0)", "noise = torch.randn(x0.shape)")], "every function works on any "
                  "device", "ddpm_loss breaks when its inputs are on another device"),
    # device placement: flow_sample's base samples made on the CPU whatever the layers' device
    "flows": ([("x = torch.randn(n, dim, device=device, dtype=dtype)", "x = torch.randn(n, dim)")],
              "every function works on any device", "flow_sample breaks when its inputs are on another device"),
}


@pytest.mark.parametrize("exercise", sorted(UNCATALOGUED))
def test_an_uncatalogued_mistake_gets_a_diagnosis(exercise, tmp_path):
    edits, check, words = UNCATALOGUED[exercise]
    source = solution_source(exercise)
    for old, new in edits:
        assert source.count(old) == 1, f"the reference no longer contains {old!r} exactly once"
        source = source.replace(old, new)
    path = tmp_path / f"{exercise}.py"
    path.write_text(source, encoding="utf-8")
    training = [probe.name for probe in load_checks(exercise).probes if not probe.reference]
    verdicts = grading.judge_in_process(ROOT, exercise, exercise, import_file(path, f"{exercise}_uncatalogued"),
                                        skip=training)
    caught = {name: v for name, v in verdicts.items() if name.startswith(check)}
    assert caught and all(v.fraction < 1 for v in caught.values()), verdicts
    feedback = " ".join(v.feedback for v in caught.values())
    assert words in feedback and not is_generic(feedback), feedback


@pytest.mark.parametrize("estimate, words", [(0.2008, "about 10 × the expected value"), (0.0102, "about 1/2 ×"),
                                             (0.0205, None), (0.0733, None)])
def test_a_statistical_estimate_off_by_a_simple_factor_is_named(estimate, words):
    found = estimated_factor(estimate, 0.02)
    assert found == words if words is None else words in found


def test_a_reduction_over_the_wrong_axis_names_the_ratio_of_the_sizes():
    expected = np.array(2.0)
    message = describe_difference(expected * 12 / 64, expected, "the loss", sizes={"B": 12, "P": 64})
    assert "a factor B/P" in message and not is_generic(message), message


def test_the_device_check_does_not_count_value_reads_that_work_on_a_gpu():
    """int(t[i]) or .item() cannot run on the meta device but do on a GPU: judge_meta says nothing of them."""
    from autograder.checking import Evidence, Mistake
    from autograder.checks.judging import judge_meta

    read = Evidence({}, {"f_meta": "error: RuntimeError: Tensor.item() cannot be called on meta tensors"}, {}, {})
    assert judge_meta(read, "f") is None
    mixed = Evidence({}, {"f_meta": "error: RuntimeError: Tensor on device cpu is not on the expected device meta!"},
                     {}, {})
    with pytest.raises(Mistake, match="torch.randn_like"):
        judge_meta(mixed, "f")
