"""`course check`: public checks pass on the reference and fail, readably, on the stub."""

import subprocess
import sys

from conftest import ROOT


def check(*args):
    return subprocess.run([sys.executable, "-m", "autograder.cli", "check", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_reference_passes_public_checks():
    done = check("gmm", "solutions/gmm/gmm.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all public checks pass" in done.stdout


def test_stub_fails_public_checks_and_says_so():
    done = check("gmm")
    assert done.returncode == 1
    assert "NotImplementedError" in done.stdout and "some public checks fail" in done.stdout


def test_missing_path_is_a_usage_error(tmp_path):
    done = check("gmm", str(tmp_path / "nothing.py"))
    assert done.returncode == 2 and "no such file" in done.stderr
