"""One mistake costs once: a function that calls other contract functions is judged given the reference's.

The engine sends the reference's pieces with a probe's inputs (autograder/reference_pieces.py), the probe runs
the function again with them in place of the student's (probekit.given_reference), and the judge credits it
with "correct, given your X" when only X was wrong (judging.judge_given). Per-exercise cascades of the GAN,
VAE and PixelCNN are tested with their catalogues in test_gan.py, test_vae.py and test_pixelcnn.py.
"""

from __future__ import annotations

import types

import pytest

from autograder import grading
from autograder.checking import Evidence, Verdict
from autograder.checks.judging import judge_given
from autograder.grading import import_file
from autograder.reference_pieces import pieces_source
from autograder.sandboxed.probekit import STAND_INS, given_reference
from conftest import ROOT
from mutations import mutated

REFERENCE = '''"""A reference."""
import math

SCALE = 2.0


def helper(x):
    return SCALE * x


def piece(x):
    return helper(x) + 1


def whole(x):
    return piece(x) * math.pi


class Unused:
    pass
'''


def test_pieces_source_holds_the_pieces_their_helpers_and_imports(tmp_path):
    path = tmp_path / "ref.py"
    path.write_text(REFERENCE)
    source = pieces_source(path, ["piece"])
    namespace = {}
    exec(compile(source, "pieces", "exec"), namespace)
    assert namespace["piece"](3) == 7
    assert "def whole" not in source and "class Unused" not in source
    with pytest.raises(ValueError, match="defines no nothing_here"):
        pieces_source(path, ["nothing_here"])


def _student(piece_offset):
    module = types.ModuleType("student")
    exec(f"def piece(x):\n    return 2 * x + {piece_offset}\n\ndef whole(x):\n    return piece(x) * 3\n", module.__dict__)
    return module


def _run_whole(module, piece_offset, trials=None):
    inputs = {STAND_INS: "def piece(x):\n    return 2 * x + 1\n"}
    variants = {"": (), "given_piece": ("piece",)}
    out = given_reference(module, inputs, variants, lambda: {"y": module.whole(5)}, trials=trials)
    evidence = Evidence(inputs, out, {k: "int" for k in out}, {"y": 33})

    def judge(ev):
        return 1.0 if ev.student["y"] == 33 else 0.0

    return out, judge_given(evidence, judge, {"given_piece": ("piece",)})


def test_a_right_function_on_a_wrong_piece_is_credited_and_says_so():
    module = _student(piece_offset=5)
    out, verdict = _run_whole(module, 5)
    assert out["y"] == 45 and out["given_piece|y"] == 33
    assert verdict.fraction == 1 and verdict.feedback.startswith("correct, given your `piece`")
    assert module.piece(0) == 5, "the student's own piece is back in place afterwards"


def test_a_right_function_on_right_pieces_gets_no_remark():
    assert _run_whole(_student(piece_offset=1), 1)[1] == Verdict(1.0, "")


def test_a_variant_that_would_repeat_the_own_run_is_skipped():
    out, verdict = _run_whole(_student(piece_offset=1), 1, trials={"piece": lambda: (4,)})
    assert out["given_piece|skipped"] is True and "given_piece|y" not in out
    out, _ = _run_whole(_student(piece_offset=5), 5, trials={"piece": lambda: (4,)})
    assert out["given_piece|substituted"] == ["piece"]


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


def test_reference_pieces_cross_the_sandbox_boundary(grade):
    """The same credit when the probe runs sandboxed: the pieces travel as text with the inputs."""
    source = mutated("gmm", [("-0.5 * (D * np.log(2.0 * np.pi) + log_det", "-0.5 * (log_det")])
    result = grade("gmm", {"gmm.py": source})
    e_step = [c for c in result.checks if c.name.startswith("e_step")]
    assert e_step and all(c.passed for c in e_step), [(c.name, c.feedback) for c in e_step]
    assert any("correct, given your `log_gaussian_pdf`" in c.feedback for c in e_step)
