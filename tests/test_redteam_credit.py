"""Red team: credit cannot be bought with memorised outputs or degenerate answers, and never depends on luck."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from autograder.checking import load_checks
from autograder.grading import import_file, judge_in_process, new_seed, probe_inputs
from conftest import ROOT, SUBMISSIONS

EXERCISES = sorted(p.name for p in (ROOT / "autograder/checks").iterdir() if (p / "checks.py").exists())
CORRECT_ALTERNATIVES = {  # other correct implementations in tests/submissions
    "gmm": ["gmm/loops_scipy.py", "gmm/einsum_slogdet.py"],
    "gan": ["gan/ok_logsigmoid.py", "gan/ok_single_pass.py"],
    "pixelcnn": ["pixelcnn/correct_loops.py", "pixelcnn/correct_parametrize.py"],
    "pixelrnn": ["pixelrnn/correct_gather.py"],
    "vae": ["vae/correct_distributions/vae.py", "vae/correct_float64_softplus/vae.py"],
    "flows": ["flows/correct_distributions.py", "flows/correct_loops.py"],
    "diffusion": ["diffusion/correct_closed_forms.py", "diffusion/correct_loops_float64.py"],
}


def share(exercise: str, verdicts: dict) -> float:
    points = {c.name: c.points for c in load_checks(exercise).checks}
    return sum(v.fraction * points[name] for name, v in verdicts.items()) / sum(points[name] for name in verdicts)


def fast_probes(exercise):
    """Probes without a reference run (training smoke tests) are left out: they take seconds each."""
    return tuple(p.name for p in load_checks(exercise).probes if not p.reference)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_verdicts_never_depend_on_the_secret_seed(exercise):
    """Every correct implementation gets full marks whatever inputs the secret seed draws."""
    files = [ROOT / "solutions" / exercise / f"{exercise}.py", *(SUBMISSIONS / f for f in CORRECT_ALTERNATIVES.get(exercise, []))]
    for index, path in enumerate(files):
        module = import_file(path, f"{exercise}_{index}")
        for seed in random.Random(exercise).sample(range(2**62), 3):
            verdicts = judge_in_process(ROOT, exercise, exercise, module, skip=fast_probes(exercise), seed=seed)
            failing = {name: v.feedback for name, v in verdicts.items() if v.fraction < 1}
            assert not failing, f"{path.name} with seed {seed}: {failing}"


def test_every_grading_draws_other_inputs():
    checks = load_checks("gmm")
    first, second = probe_inputs(checks, ["fit"], new_seed()), probe_inputs(checks, ["fit"], new_seed())
    assert first["fit"]["X"].shape == second["fit"]["X"].shape
    assert not np.allclose(first["fit"]["X"], second["fit"]["X"])


LOOKUP = '''
"""No EM here: outputs recorded for the inputs every submission used to get."""
import json
import numpy as np

TABLE = json.loads({table!r})


def _key(X):
    return f"{{float(np.asarray(X).flat[0]):.12g}}"


def _answer(name, X, fallback):
    found = TABLE.get(name + _key(X))
    return fallback if found is None else [np.asarray(v) if isinstance(v, list) else v for v in found]


def log_gaussian_pdf(X, mean, cov):
    return _answer("log_pdf", X, [np.zeros(len(X))])[0]


def e_step(X, weights, means, covs):
    return tuple(_answer("e_step", X, [np.full((len(X), len(weights)), 1 / len(weights)), 0.0]))


def m_step(X, resp, reg_covar=1e-6):
    K, D = resp.shape[1], X.shape[1]
    return tuple(_answer(f"m_step{{reg_covar}}", X, [np.full(K, 1 / K), np.zeros((K, D)), np.stack([np.eye(D)] * K)]))


def fit_gmm(X, weights, means, covs, max_iter=100, tol=1e-6, reg_covar=1e-6):
    return tuple(_answer(f"fit{{max_iter}}", X, [weights, means, covs, [0.0] * min(max_iter, 3)]))
'''


def lookup_table_source() -> str:
    """A gmm.py that replays the reference's outputs for the inputs drawn without a secret seed."""
    reference = import_file(ROOT / "solutions/gmm/gmm.py", "gmm_recorded")
    table = {}
    key = lambda X: f"{float(np.asarray(X).flat[0]):.12g}"  # noqa: E731
    plain = lambda values: [v.tolist() if isinstance(v, np.ndarray) else v for v in values]  # noqa: E731

    def recording(name, function, label):
        def call(X, *args, **kwargs):
            result = function(X, *args, **kwargs)
            values = result if isinstance(result, tuple) else (result,)
            table[label(X, *args, **kwargs) if callable(label) else name + key(X)] = plain(values)
            return result
        return call

    class Recorder:
        log_gaussian_pdf = staticmethod(recording("log_pdf", reference.log_gaussian_pdf, None))
        e_step = staticmethod(recording("e_step", reference.e_step, None))
        m_step = staticmethod(recording("m_step", reference.m_step,
                                        lambda X, resp, reg_covar=1e-6: f"m_step{reg_covar}" + key(X)))
        fit_gmm = staticmethod(recording("fit", reference.fit_gmm,
                                         lambda X, w, m, c, max_iter=100, **kw: f"fit{max_iter}" + key(X)))

    judge_in_process(ROOT, "gmm", "gmm", Recorder, seed=None)
    return LOOKUP.format(table=json.dumps(table))


def test_memorised_outputs_earn_nothing(grade, tmp_path):
    """A table of the outputs every submission once got for the same inputs: half the marks then, nothing now.

    (It replays the functions called once per input; EM's repeated calls on the same data it cannot tell apart.)
    """
    source = lookup_table_source()
    replay = import_file(_write(tmp_path / "table.py", source), "gmm_table")
    assert share("gmm", judge_in_process(ROOT, "gmm", "gmm", replay, seed=None)) >= 0.5
    result = grade("gmm", {"gmm.py": source})
    assert result.score < 0.2 * result.max_score, [(c.name, c.score) for c in result.checks]


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_degenerate_pixelcnn_earns_nothing_for_properties(tmp_path):
    """All-zero weights and outputs: causal only because nothing depends on anything, which earns nothing."""
    source = '''
import torch
from torch import nn


def causal_mask(kernel_size, mask_type):
    if mask_type not in ("A", "B"):
        raise ValueError("mask_type must be 'A' or 'B'")
    return torch.zeros(kernel_size, kernel_size)


class MaskedConv2d(nn.Conv2d):
    def __init__(self, in_channels, out_channels, kernel_size, mask_type, **kwargs):
        kwargs.setdefault("padding", kernel_size // 2)
        super().__init__(in_channels, out_channels, kernel_size, **kwargs)
        with torch.no_grad():
            self.weight.zero_()

    def forward(self, x):
        return self._conv_forward(x, self.weight * 0, None if self.bias is None else self.bias * 0)


def nll_bits_per_dim(logits, x):
    return (logits * 0).sum()


def sample(model, n, image_shape, device=None):
    return torch.zeros(n, *image_shape)
'''
    module = import_file(_write(tmp_path / "pixelcnn.py", source), "pixelcnn_zero")
    verdicts = judge_in_process(ROOT, "pixelcnn", "pixelcnn", module, skip=("smoke",))
    for prefix in ("causality", "MaskedConv2d: output", "nll_bits_per_dim: a scalar"):
        assert all(v.fraction == 0 for name, v in verdicts.items() if name.startswith(prefix)), prefix
    assert "depends on any earlier input pixel" in verdicts[next(n for n in verdicts if n.startswith("causality: an"))].feedback
    assert share("pixelcnn", verdicts) < 0.15


def test_em_that_never_moves_earns_nothing_for_its_properties(tmp_path):
    """A flat history (EM never moved) is 'monotone' and 'stops after max_iter' only trivially."""
    source = (ROOT / "solutions/gmm/gmm.py").read_text(encoding="utf-8").replace(
        "        weights, means, covs = m_step(X, resp, reg_covar)\n", "")
    module = import_file(_write(tmp_path / "gmm.py", source), "gmm_still")
    verdicts = judge_in_process(ROOT, "gmm", "gmm", module, seed=new_seed())
    assert verdicts["fit_gmm: the log-likelihood never decreases"].fraction == 0
    assert verdicts["fit_gmm: stops after max_iter iterations"].fraction == 0
    assert "EM did not move the parameters" in verdicts["fit_gmm: stops after max_iter iterations"].feedback
