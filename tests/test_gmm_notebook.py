"""The GMM exploration notebook runs on the reference solution and saves its figures."""

import os
import shutil
import subprocess
import sys

from conftest import ROOT


def test_explore_notebook_runs_with_the_reference(tmp_path):
    shutil.copy(ROOT / "exercises/gmm/explore_gmm.py", tmp_path)
    shutil.copy(ROOT / "solutions/gmm/gmm.py", tmp_path)
    done = subprocess.run([sys.executable, "explore_gmm.py"], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "MPLBACKEND": "Agg"}, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "non-decreasing: True" in done.stdout
    assert (tmp_path / "gmm_em_steps.png").stat().st_size > 10_000
