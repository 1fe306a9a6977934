"""`course audit`: mutants of the reference, how they are classified, a small sample run, and keyword coverage.

The full audit of every exercise takes minutes each and lives in bench/audit.py (figures in docs/audit.md).
"""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from autograder.audit.mutants import answer_lines, mutants
from autograder.audit.report import AuditReport, run_audit
from autograder.audit.runner import Auditor, Graded, correct_alternatives
from autograder.config import load_course
from conftest import ROOT

COURSE = load_course(ROOT / "course.yml")
EXERCISES = ["gmm", "vae", "iwae", "autoencoder", "gan", "dcgan", "pixelcnn", "pixelrnn", "flows", "diffusion"]

SOURCE = '''"""A reference."""
import math


def f(x, scale=2.0):
    """Docstring."""
    # BEGIN SOLUTION
    y = scale * x + 1
    return math.sqrt(y)
    # END SOLUTION


def g(x):
    return x - 1
'''


def test_mutants_change_only_the_answer_regions_and_compile():
    lines = answer_lines(SOURCE)
    assert lines == {8, 9}
    made = mutants(SOURCE)
    assert made and all(m.line in lines for m in made)
    for mutant in made:
        compile(mutant.source, mutant.id, "exec")
        assert "return x - 1" in mutant.source  # g is outside the fences
    operators = {m.operator for m in made}
    assert {"* → /", "+ → −", "a term dropped (a ± b → a)", "argument scale of f() ignored (its default always used)",
            "constant 1 → 0"} <= operators, operators


def test_a_sample_keeps_its_size_and_is_reproducible():
    assert [m.id for m in mutants(SOURCE, limit=3, seed=1)] == [m.id for m in mutants(SOURCE, limit=3, seed=1)]
    assert len(mutants(SOURCE, limit=3)) == 3


def test_classification_of_graded_mutants():
    killed = Graded("a", {"check": (0.0, "the KL is 2 × the expected value everywhere (a factor 2)")})
    generic = Graded("b", {"check": (0.5, "x differs from the expected value (largest difference 1 at index (0,): "
                                          "1 where 2 is expected)")})
    survivor = Graded("c", {"check": (1.0, "")}, behaves_differently=True)
    equivalent = Graded("d", {"check": (1.0, "")}, behaves_differently=False)
    assert killed.killed and killed.specific
    assert generic.killed and not generic.specific
    assert not survivor.killed and not survivor.equivalent
    assert equivalent.equivalent
    from autograder.audit.mutants import Mutant

    report = AuditReport("x", [(Mutant(g.name, "op", 1, "", ""), g) for g in (killed, generic, survivor, equivalent)])
    assert len(report.considered) == 3 and report.kill_rate == pytest.approx(2 / 3)
    assert report.specific_share == pytest.approx(0.5) and not report.passed


def test_behaviour_is_compared_to_float32_precision():
    """A float32 mean taken in another order (a mean of per-pixel means) is the same behaviour; 1e-5 apart is not."""
    import numpy as np

    from autograder.audit.runner import same

    x = np.random.default_rng(0).random((7, 64), dtype=np.float32)
    assert same(x.mean(axis=1).mean(), x.mean(axis=0).mean())
    assert not same(1.0, 1.0 + 1e-5) and same({"a": [np.nan]}, {"a": [np.nan]})


def test_correct_alternatives_are_the_submissions_not_marked_wrong():
    found = correct_alternatives(ROOT, "pixelrnn")
    assert set(found) == {"correct_gather.py"}
    assert set(correct_alternatives(ROOT, "vae")) == {"correct_distributions/vae.py", "correct_float64_softplus/vae.py"}
    assert set(correct_alternatives(ROOT, "flows")) == {"correct_distributions.py", "correct_loops.py"}, \
        "a docstring that starts 'A wrong flows.py' marks a wrong file"


@pytest.fixture(scope="module")
def gmm_sample(tmp_path_factory):
    """A six-mutant audit of gmm, with the temporary folder pointed at an empty one of its own while it runs."""
    import tempfile

    temporary = tmp_path_factory.mktemp("audit-tmp")
    saved, tempfile.tempdir = tempfile.tempdir, str(temporary)
    try:
        report = run_audit(ROOT, COURSE.exercise("gmm"), limit=6, seed=3, timeout_s=300)
    finally:
        tempfile.tempdir = saved
    report.left_in_tmp = sorted(path.name for path in temporary.iterdir())
    return report


def test_a_small_sample_audit_of_gmm(gmm_sample):
    assert len(gmm_sample.graded) == 6
    assert gmm_sample.left_in_tmp == [], "each graded mutant's folder is removed (2,300 were left after a day)"
    assert gmm_sample.alternatives and gmm_sample.alternatives_ok, gmm_sample.render()
    assert gmm_sample.kill_rate >= 0.95, gmm_sample.render()
    text = gmm_sample.render()
    assert "killed:" in text and "correct alternatives with full marks: 2 of 2" in text


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_every_keyword_argument_shows_its_effect_in_a_verdict(exercise_id):
    """A contract function that ignores one of its keyword arguments (always uses the default) loses points."""
    exercise = COURSE.exercise(exercise_id)
    reference = (ROOT / "solutions" / exercise_id / exercise.student_file).read_text(encoding="utf-8")
    ignoring = [m for m in mutants(reference) if "ignored (its default always used)" in m.operator]
    if not ignoring:
        pytest.skip(f"{exercise_id}'s contract functions take no keyword arguments")
    auditor = Auditor(ROOT, exercise_id, exercise.module_name, timeout_s=300)
    survivors = [m.describe() for m in ignoring if not auditor.grade(m.id, m.source).killed]
    assert not survivors, survivors


def test_device_mutants_make_their_tensor_on_the_cpu():
    source = ("import torch\n\n\ndef f(x):\n    # BEGIN SOLUTION\n"
              "    return torch.randn_like(x) + torch.zeros(3, device=x.device)\n    # END SOLUTION\n")
    made = {m.operator: m.source.split("return")[1] for m in mutants(source) if "(made on the CPU)" in m.operator}
    assert made == {"randn_like(x) → randn(x.shape) (made on the CPU)": " torch.randn(x.shape) + torch.zeros(3, device=x.device)",
                    "device= dropped from zeros() (made on the CPU)": " torch.randn_like(x) + torch.zeros(3)"}


@pytest.mark.parametrize("exercise_id", ["vae", "gan", "pixelcnn", "flows", "diffusion"])
def test_every_tensor_made_on_the_cpu_loses_points_without_a_gpu(exercise_id):
    """A contract function that makes a tensor on the CPU (device= dropped, randn_like(x) → randn(x.shape)) breaks
    on a GPU: the meta-device checks catch each such mutant on a machine without one."""
    exercise = COURSE.exercise(exercise_id)
    reference = (ROOT / "solutions" / exercise_id / exercise.student_file).read_text(encoding="utf-8")
    on_the_cpu = [m for m in mutants(reference) if "(made on the CPU)" in m.operator]
    assert on_the_cpu
    auditor = Auditor(ROOT, exercise_id, exercise.module_name, timeout_s=300)
    survivors = [m.describe() for m in on_the_cpu if not auditor.grade(m.id, m.source).killed]
    assert not survivors, survivors


def test_course_audit_command_runs_and_reports(tmp_path):
    done = subprocess.run([sys.executable, "-m", "autograder.cli", "audit", "autoencoder", "--limit", "2", "--quiet",
                           "--json", str(tmp_path / "audit.json")], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode in (0, 1), done.stderr
    assert "course audit autoencoder: 2 mutants" in done.stdout
    import json

    report = json.loads((tmp_path / "audit.json").read_text())
    assert report["mutants"] == 2 and set(report) >= {"kill_rate", "specific_share", "survivor_list", "alternatives"}


def test_the_keyword_operator_targets_the_right_function():
    source = (ROOT / "solutions" / "dcgan" / "dcgan.py").read_text(encoding="utf-8")
    ignoring = [m for m in mutants(source) if "ignored" in m.operator]
    assert len(ignoring) == 3
    for mutant in ignoring:
        tree = ast.parse(mutant.source)
        inits = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "__init__"]
        assigned = [n for n in inits if any(isinstance(s, ast.Assign) and isinstance(s.value, ast.Constant)
                                            and s.targets[0].id in ("z_dim", "base_channels") for s in n.body)]
        assert len(assigned) == 1, mutant.describe()
