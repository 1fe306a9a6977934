"""One mistake costs once: a function that calls other contract functions is judged with stand-ins for them.

The probe runs the function again with its module's stand-ins (decoys of the same interface that are not the
answers) in place of the student's pieces (probekit.given_stand_ins); the reference runs the same probe with
the same stand-ins, and the judge credits the function with "correct, given your X" when only X was wrong
(judging.judge_given). Nothing of the reference solution crosses into the sandbox (test_redteam_sandbox.py,
test_no_answer_reaches_the_sandbox below). Per-exercise cascades of the GAN, VAE and PixelCNN are tested with
their catalogues in test_gan.py, test_vae.py and test_pixelcnn.py.
"""

from __future__ import annotations

import types

import numpy as np
import pytest

from autograder import grading
from autograder.checking import Evidence, Verdict, load_checks
from autograder.checks.judging import judge_given
from autograder.config import load_course
from autograder.grading import import_file
from autograder.sandboxed.probekit import expected_behaviours, given_stand_ins
from conftest import ROOT
from mutations import mutated

COURSE = load_course(ROOT / "course.yml")
STAND_INS = {"piece": lambda x: 10 * x}  # a decoy: not the reference's piece (2x + 1)


def _reference():
    module = types.ModuleType("reference")
    exec("def piece(x):\n    return 2 * x + 1\n\ndef whole(x):\n    return piece(x) * 3\n", module.__dict__)
    return module


def _student(piece_offset):
    module = types.ModuleType("student")
    exec(f"def piece(x):\n    return 2 * x + {piece_offset}\n\ndef whole(x):\n    return piece(x) * 3\n", module.__dict__)
    return module


def _run_whole(module, trials=None):
    inputs = expected_behaviours(trials, _reference()) if trials else {}
    variants = {"": (), "given_piece": ("piece",)}
    run = given_stand_ins  # the reference runs the same probe, with the same stand-ins
    out = run(module, inputs, variants, lambda: {"y": module.whole(5)}, STAND_INS, trials=trials)
    reference = _reference()
    expected = run(reference, inputs, variants, lambda: {"y": reference.whole(5)}, STAND_INS)
    evidence = Evidence(inputs, out, {k: "int" for k in out}, expected)

    def judge(ev):
        return 1.0 if ev.student["y"] == ev.reference["y"] else 0.0

    return out, judge_given(evidence, judge, {"given_piece": ("piece",)})


def test_a_right_function_on_a_wrong_piece_is_credited_and_says_so():
    module = _student(piece_offset=5)
    out, verdict = _run_whole(module)
    assert out["y"] == 45 and out["given_piece|y"] == 150, "the variant ran with the stand-in, not the answer"
    assert verdict.fraction == 1 and verdict.feedback.startswith("correct, given your `piece`")
    assert module.piece(0) == 5, "the student's own piece is back in place afterwards"


def test_a_wrong_function_is_not_credited_by_the_stand_in():
    module = _student(piece_offset=5)
    exec("def whole(x):\n    return piece(x) * 4\n", module.__dict__)
    assert _run_whole(module)[1].fraction == 0


def test_a_right_function_on_right_pieces_gets_no_remark():
    assert _run_whole(_student(piece_offset=1))[1] == Verdict(1.0, "")


def test_a_variant_that_would_repeat_the_own_run_is_skipped():
    """With trials, the reference's piece is known by what it returns (sent as values), never by its code."""
    trials = {"piece": lambda: (4,)}
    sent = {key: float(value) for key, value in expected_behaviours(trials, _reference()).items()}
    assert sent == {"__expected__|piece|0|count": 1.0, "__expected__|piece|0|0": 9.0}
    out, _ = _run_whole(_student(piece_offset=1), trials=trials)
    assert out["given_piece|skipped"] is True and "given_piece|y" not in out
    out, _ = _run_whole(_student(piece_offset=5), trials=trials)
    assert out["given_piece|substituted"] == ["piece"] and out["given_piece|y"] == 150


@pytest.fixture
def in_process(tmp_path):
    """in_process(exercise, name, edits) -> verdicts of the reference with `edits`, judged in this process."""

    def judge(exercise, name, edits):
        path = tmp_path / f"{name}.py"
        path.write_text(mutated(exercise, edits), encoding="utf-8")
        return grading.judge_in_process(ROOT, exercise, exercise, import_file(path, f"{exercise}_{name}"))

    return judge


def _assert_credited_given(verdicts, prefixes, piece):
    judged = {c: v for c, v in verdicts.items() if c.startswith(prefixes)}
    assert judged and all(v.fraction == 1 for v in judged.values()), {c: v.feedback for c, v in judged.items()}
    assert any(f"correct, given your `{piece}`" in v.feedback for v in judged.values())


def test_gmm_a_wrong_log_density_costs_nothing_in_e_step_and_fit_gmm(in_process):
    verdicts = in_process("gmm", "no_2pi", [("-0.5 * (D * np.log(2.0 * np.pi) + log_det", "-0.5 * (log_det")])
    assert verdicts["log_gaussian_pdf: values match the reference for D = 1, 2, 3, 5"].fraction == 0
    _assert_credited_given(verdicts, ("e_step", "fit_gmm"), "log_gaussian_pdf")


@pytest.mark.parametrize("piece, edit, own_check", [
    ("m_step", ("    weights = Nk / N  # (K,)", "    weights = Nk  # (K,)"), "m_step: weights, means"),
    ("e_step", ("    return resp, float(np.mean(log_px))", "    return resp, float(np.sum(log_px))"),
     "e_step: mean log-likelihood"),
])
def test_gmm_a_wrong_e_or_m_step_costs_nothing_in_fit_gmm(in_process, piece, edit, own_check):
    """fit_gmm calls the student's e_step and m_step: a mistake in one is charged in that step's checks only."""
    verdicts = in_process("gmm", f"wrong_{piece}", [edit])
    assert verdicts[next(c for c in verdicts if c.startswith(own_check))].fraction < 1
    _assert_credited_given(verdicts, ("fit_gmm",), piece)


def test_iwae_a_wrong_log_mean_exp_costs_nothing_in_iwae_bound(in_process):
    verdicts = in_process("iwae", "no_log_k", [("torch.logsumexp(values, dim=dim) - math.log(values.shape[dim])",
                                                  "torch.logsumexp(values, dim=dim)")])
    assert verdicts["log_mean_exp: matches the reference over dim 0 and dim 1"].fraction == 0
    _assert_credited_given(verdicts, ("iwae_bound",), "log_mean_exp")


def test_pixelrnn_a_wrong_skew_costs_nothing_in_the_round_trip(in_process):
    verdicts = in_process("pixelrnn", "shift_by_one", [("pad(x[:, :, i], (i, H - 1 - i))",
                                                         "pad(x[:, :, i], (min(i + 1, H - 1), H - 1 - min(i + 1, H - 1)))")])
    assert verdicts["skew: row i shifted right by i, zeros elsewhere, width W + H - 1"].fraction < 1
    _assert_credited_given(verdicts, ("unskew(skew(x))",), "skew")


def test_dcgan_a_wrong_init_weights_costs_nothing_in_the_models_check(in_process):
    verdicts = in_process("dcgan", "variance", [("nn.init.normal_(module.weight, 0.0, 0.02)",
                                                  "nn.init.normal_(module.weight, 0.0, 0.02**0.5)")])
    assert verdicts["init_weights: convolution weights ~ N(0, 0.02), biases 0"].fraction == 0
    _assert_credited_given(verdicts, ("Generator and Discriminator are initialised",), "init_weights")


def test_stand_ins_work_across_the_sandbox_boundary(grade):
    """The same credit when the probe runs sandboxed, with the stand-ins that live in the probe module."""
    source = mutated("gmm", [("-0.5 * (D * np.log(2.0 * np.pi) + log_det", "-0.5 * (log_det")])
    result = grade("gmm", {"gmm.py": source})
    e_step = [c for c in result.checks if c.name.startswith("e_step")]
    assert e_step and all(c.passed for c in e_step), [(c.name, c.feedback) for c in e_step]
    assert any("correct, given your `log_gaussian_pdf`" in c.feedback for c in e_step)


def _answer_regions():
    from autograder.exports.leakcheck import secrets

    return [piece for piece in secrets(ROOT) if "answer region" in piece.label]


@pytest.mark.parametrize("exercise", [e.id for e in COURSE.exercises])
def test_no_answer_reaches_the_sandbox(exercise, tmp_path):
    """Everything `course grade` writes into the sandbox (the kit: probes with their stand-ins, helper
    packages; every probe's inputs) holds no answer region of any solution, by the release leak check's
    fingerprints: student code can read all of it."""
    import importlib

    from autograder.exports.leakcheck import scan
    from autograder.session import ExerciseRun, build_kit

    checks = load_checks(exercise)
    module = COURSE.exercise(exercise).module_name
    inputs = grading.probe_inputs(checks, checks.probe_names(), seed=1, reference_file=grading.reference_path(
        ROOT, exercise, module))
    stub = (ROOT / "exercises" / exercise / f"{module}.py").read_text(encoding="utf-8")
    packages = tuple(getattr(importlib.import_module(checks.probes_module), "KIT_PACKAGES", ()))
    build_kit(tmp_path / "kit", [ExerciseRun(exercise, module, stub, checks.probes, checks.probe_names(), inputs,
                                             limits=None, extra_packages=packages)])
    texts = tmp_path / "kit" / "input_texts"
    texts.mkdir()
    for probe, values in inputs.items():
        strings = [str(v) for v in values.values() if np.asarray(v).dtype.kind in "USO"]
        assert not any("def " in text or "lambda" in text for text in strings), f"{probe} sends code with its inputs"
        (texts / f"{probe}.py").write_text("\n".join(strings), encoding="utf-8")
    leaks = [leak for leak in scan(tmp_path / "kit", _answer_regions()) if leak.share is not None]  # by content
    assert not leaks, [str(leak) for leak in leaks]
