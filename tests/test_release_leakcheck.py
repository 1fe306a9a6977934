"""The leak check that ends every release: answer regions and hidden checks are found again after
renaming and reformatting, in code, markdown, notebooks and HTML; the release fails loudly."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.config import load_course
from autograder.exports import leakcheck
from autograder.exports.fingerprint import Piece, Text, code_tokens, html_text
from autograder.exports.release import build_release
from conftest import ROOT

REPARAMETERIZE = '''
    std = torch.exp(0.5 * logvar)  # (B, D): the standard deviation is exp(logvar / 2)
    eps = torch.randn_like(std)  # (B, D): fresh noise for every element
    return mu + std * eps  # (B, D)
'''
# The same answer with other names, other layout, other quotes and comments.
DISGUISED = '''Here's a hint (don't tell anyone):

```python
sigma = torch.exp( .5*log_variance )   ;  noise=torch.randn_like(
    sigma,
)
return mean+sigma*noise   # it's the trick
```
'''
WORKED_SOLUTION = """# Worked solutions: Gaussian mixtures

Problem 1. Show that the E-step responsibilities sum to one over the components for every point.
Each responsibility is the joint density of the point and one component divided by the marginal
density of the point, and the marginal is by definition the sum of the joint densities over all
components, so summing the responsibilities over k gives the marginal divided by itself, one.
"""


def test_renaming_and_reformatting_give_the_same_tokens():
    assert code_tokens("z = mu + torch.exp(0.5 * logvar) * eps") == \
        code_tokens("sample=(mean)+torch.exp(.5*lv)*noise".replace("(mean)", "mean"))
    assert code_tokens('f(a, b,)\n# note\nx = "A"') == code_tokens("f(x,y); x = 'B'")
    assert code_tokens("x.sum(axis=0)") != code_tokens("x.mean(axis=0)")  # attribute names are kept


def test_a_disguised_answer_is_found_in_markdown_html_and_notebooks():
    piece = Piece.of_code("reparameterize", REPARAMETERIZE)
    assert piece.recognisable
    assert piece.appears_in(Text(other=[DISGUISED]))
    html = "<pre><code>" + DISGUISED.replace("<", "&lt;").replace("'", "&#x27;") + "</code></pre>"
    assert piece.appears_in(Text(other=[html_text(html)]))
    notebook = {"cells": [{"cell_type": "code", "source": "sigma = torch.exp(0.5 * lv)\nnoise = torch.randn_like(sigma)\n"
                                                         "return m + sigma * noise\n", "outputs": []}]}
    assert piece.appears_in(Text.of_notebook(notebook))
    assert not piece.appears_in(Text(python=["z = mu + torch.exp(logvar) * torch.randn_like(mu)"]))


def _course_copy(tmp_path: Path) -> Path:
    """The parts of the course a release reads, in a folder of its own."""
    root = tmp_path / "course"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("exercises", "solutions", "genmodels", "autograder"):
        shutil.copytree(ROOT / folder, root / folder, ignore=ignore)
    for name in ("course.yml", "pyproject.toml"):
        shutil.copy2(ROOT / name, root / name)
    return root


def test_a_release_with_a_planted_answer_fails_loudly(tmp_path):
    root = _course_copy(tmp_path)
    readme = root / "exercises" / "vae" / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\n" + DISGUISED, encoding="utf-8")
    out = tmp_path / "bundle"
    done = subprocess.run([str(Path(sys.executable).parent / "course"), "--course", str(root), "release", str(out),
                           "--no-site"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "LEAK CHECK FAILED" in done.stderr
    assert re.search(r"solutions/vae/vae\.py answer region, lines \d+-\d+ -> exercises/vae/README\.md", done.stderr), \
        done.stderr
    assert not out.exists() and (tmp_path / "bundle.leaked" / "exercises" / "vae" / "README.md").is_file()


def test_hidden_checks_worked_solutions_and_hidden_paths_are_leaks(tmp_path):
    root = _course_copy(tmp_path)
    lectures = root / "solutions" / "lectures"
    lectures.mkdir(exist_ok=True)
    (lectures / "99-extra.md").write_text(WORKED_SOLUTION, encoding="utf-8")
    course = load_course(root / "course.yml")
    release = build_release(root, course, tmp_path / "clean", site=False, log=lambda *_: None)
    assert release.secrets_checked > 100  # the worked solution is looked for, and is not there

    bundle = tmp_path / "planted"
    shutil.copytree(release.path, bundle)
    judge = (root / "autograder" / "checks" / "gmm" / "checks.py").read_text(encoding="utf-8")
    start = judge.index("def _e_step_log_likelihood(ev):")
    stolen = judge[start:judge.index("\n\n\n", start)].replace("value", "v").replace("reference", "ref")
    (bundle / "genmodels" / "helpers.py").write_text(stolen + "\n", encoding="utf-8")
    notebook = {"cells": [{"cell_type": "markdown", "source": WORKED_SOLUTION.upper(), "metadata": {}}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (bundle / "exercises" / "gmm" / "notes.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    (bundle / "exercises" / "gmm" / "solutions").mkdir()
    leaks = {(leak.secret, leak.where) for leak in leakcheck.scan(bundle, leakcheck.secrets(root))}
    assert ("hidden check autograder/checks/gmm/checks.py: _e_step_log_likelihood", "genmodels/helpers.py") in leaks
    assert ("solutions/lectures/99-extra.md (whole file)", "exercises/gmm/notes.ipynb") in leaks
    assert ("a path only hidden material has", "exercises/gmm/solutions") in leaks
    with pytest.raises(leakcheck.LeakError, match="3 piece"):
        leakcheck.check(bundle, root)
