"""Submissions the export tests grade with otter-grader and nbgrader, and `course grade`'s verdicts on them.

For each core exercise: the reference, the stub, and wrong implementations (edits of the
reference from tests/submissions/<exercise>/mistakes.py; the GMM ones are listed here). For flows
and diffusion: the reference, the stub, and the hand-written tests/submissions/<id>/wrong_first_attempt.py. The
baseline is `course grade`'s pipeline (`grade_submission`), computed once per submission and
shared between the xdist workers through a cache file next to the session's temporary folder.
"""

from __future__ import annotations

import hashlib
import json
import re
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.grading import grade_submission
from autograder.results import SCORE_DECIMALS
from mutations import load_mistakes, mutated, reference_source

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}  # the venv's tools (nbgrader runs alembic)
CORE = ("gmm", "pixelcnn", "vae", "gan")
BEYOND = ("flows", "diffusion")  # issue 16's exercises: the same exports, a hand-written wrong file each
EXPORTED = CORE + BEYOND
# Mistakes that lose points on different checks, some with partial credit.
CHOSEN = {
    "pixelcnn": ("types_swapped", "nats", "one_pass"),
    "vae": ("kl_sign_flipped", "exp_logvar_as_std", "ll_mean_over_pixels"),
    "gan": ("d_loss_halved", "saturating_generator_loss", "no_zero_grad"),
}
GMM_MISTAKES = {
    "log_det_not_doubled": [("    log_det = 2.0 * np.sum(", "    log_det = np.sum(")],
    "summed_log_likelihood": [("    return resp, float(np.mean(log_px))", "    return resp, float(np.sum(log_px))")],
    "weights_not_normalised": [("    weights = Nk / N  # (K,)", "    weights = Nk  # (K,)")],
}
# One line that makes in-kernel graders see whatever it likes: the hidden tests import the
# course's kernel module after the student's code ran, and get this stand-in instead.
IMPORT_PATCH = ("import builtins, types; _real_import = builtins.__import__; builtins.__import__ = "
                "lambda name, *args, **kwargs: types.SimpleNamespace(otter_case=lambda *a: None, "
                "nbgrader_score=lambda *a: None) if name == 'autograder.exports.kernel' "
                "else _real_import(name, *args, **kwargs)\n")


def run_tool(tool: str, *args, cwd, timeout=1800) -> subprocess.CompletedProcess:
    """Run the venv's `tool` (otter, nbgrader); fail the test with its output when it fails."""
    done = subprocess.run([str(BIN / tool), *args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{tool} {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def same_score(peer: float, ours: float, points: float) -> bool:
    """Whether a peer grader's score equals `course grade`'s to within 1e-6 of the exercise's points,
    once rounded as results.json rounds scores (SCORE_DECIMALS decimals)."""
    return abs(round(peer, SCORE_DECIMALS) - ours) <= 1e-6 * points


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory, worker_id):
    """Where baselines are kept: shared by the session's xdist workers."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


def submissions(exercise_id: str) -> dict[str, str]:
    """label -> source of the student file: reference, stub, and at least three wrong ones."""
    found = {
        "reference": reference_source(exercise_id),
        "stub": (ROOT / "exercises" / exercise_id / f"{exercise_id}.py").read_text(encoding="utf-8"),
    }
    if exercise_id in BEYOND:  # one wrong file that loses points on several checks, the smoke tests included
        found["wrong_first_attempt"] = (ROOT / "tests" / "submissions" / exercise_id / "wrong_first_attempt.py").read_text(
            encoding="utf-8")
    elif exercise_id == "gmm":
        found["flawed_sample"] = (ROOT / "autograder" / "samples" / "flawed" / "gmm.py").read_text(encoding="utf-8")
        found.update({name: mutated("gmm", edits) for name, edits in GMM_MISTAKES.items()})
    else:
        mistakes = load_mistakes(exercise_id)
        found.update({name: mutated(exercise_id, mistakes[name]) for name in CHOSEN[exercise_id]})
    return found


def baseline(course, exercise_id: str, source: str, cache_dir: Path, scratch: Path) -> dict:
    """`course grade`'s result for one student file: {"score", "points", "checks": [{name, score, max, feedback}]}."""
    key = hashlib.sha256(f"{exercise_id}\0{source}".encode()).hexdigest()[:20]
    cached = cache_dir / f"baseline-{key}.json"
    if cached.exists():
        return json.loads(cached.read_text(encoding="utf-8"))
    folder = scratch / f"baseline-{key}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{exercise_id}.py").write_text(source, encoding="utf-8")
    result = grade_submission(course, ROOT, folder, [exercise_id]).exercises[0]
    data = {"score": result.score, "points": result.max_score,
            "checks": [{"name": c.name, "score": c.score, "max": c.max_score, "feedback": c.feedback}
                       for c in result.checks]}
    partial = cached.with_name(f"{cached.name}.{os.getpid()}")
    partial.write_text(json.dumps(data), encoding="utf-8")
    partial.replace(cached)  # another worker may write the same file: both are the same result
    return data


def with_answer(notebook_path: Path, source: str, is_answer) -> nbformat.NotebookNode:
    """The student notebook at `notebook_path` with the answer cell (`is_answer(cell)`) holding `source`."""
    notebook = nbformat.read(notebook_path, as_version=4)
    answers = [cell for cell in notebook.cells if is_answer(cell)]
    assert len(answers) == 1, f"{notebook_path} has {len(answers)} answer cells"
    answers[0].source = source
    return notebook


NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?")


def without_numbers(feedback: str) -> str:
    """Feedback with every number replaced by '#': `course grade` draws fresh probe inputs per run, the
    exports grade with the stored ones, so the same mistake is named with different figures."""
    return NUMBER.sub("#", feedback)


def lost_feedback(expected: dict) -> list[tuple[str, str]]:
    """(check name, feedback without its numbers) of every check that lost points in `course grade`."""
    return [(c["name"], without_numbers(c["feedback"])) for c in expected["checks"] if c["score"] < c["max"] - 1e-9]
