"""Bad submissions score 0 on the affected checks with a clear message; the grader never crashes."""

import json
import subprocess
import sys
import zipfile

import pytest

from autograder.config import LimitOverrides
from autograder.grading import grade_submission
from autograder.isolation import IsolationRefused, detect
from conftest import ROOT, feedback_of, solution_source

REFERENCE = solution_source("gmm")
COURSE_BIN = [sys.executable, "-m", "autograder.cli"]


def bubblewrap_works() -> bool:
    try:
        return detect().strong
    except IsolationRefused:
        return False


def replace_function(name, body):
    """The reference with function `name` replaced by `body` (a whole `def`)."""
    start = REFERENCE.index(f"def {name}(")
    end = REFERENCE.find("\ndef ", start + 1)
    return REFERENCE[:start] + body + ("\n" + REFERENCE[end:] if end != -1 else "\n")


@pytest.fixture
def fast_course(course):
    """The course with short time limits, so that endless loops are cut quickly."""
    exercise = course.exercise("gmm").model_copy(update={"limits": LimitOverrides(check_time_s=4, time_s=40)})
    return course.model_copy(update={"exercises": [exercise]})


def grade_with(course, tmp_path, source, name="gmm.py"):
    folder = tmp_path / "sub"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(source)
    return grade_submission(course, ROOT, folder, ["gmm"]).exercises[0]


def test_missing_file(grade, tmp_path):
    (tmp_path / "empty").mkdir()
    result = grade("gmm", tmp_path / "empty")
    assert result.score == 0
    assert all("no gmm.py or gmm.ipynb" in c.feedback for c in result.checks)


def test_syntax_error(grade):
    result = grade("gmm", {"gmm.py": REFERENCE.replace("def m_step(X, resp, reg_covar=1e-6):", "def m_step(X, resp, reg_covar=1e-6)")})
    assert result.score == 0
    assert "syntax error on line" in result.checks[0].feedback


def test_failing_import(grade):
    result = grade("gmm", {"gmm.py": "import numpy_but_misspelled\n" + REFERENCE})
    assert result.score == 0
    assert "importing your file failed: ModuleNotFoundError" in result.checks[0].feedback


def test_missing_function_costs_only_its_checks(grade):
    source = replace_function("fit_gmm", "def fit_em(X, weights, means, covs):\n    pass\n")
    result = grade("gmm", {"gmm.py": source})
    fit_checks = [c for c in result.checks if c.name.startswith("fit_gmm")]
    assert all(c.score == 0 and "defines no `fit_gmm`" in c.feedback for c in fit_checks)
    assert all(c.passed for c in result.checks if not c.name.startswith("fit_gmm"))


def test_wrong_return_type_and_shape(grade):
    source = replace_function("log_gaussian_pdf", "def log_gaussian_pdf(X, mean, cov):\n    return [0.0] * (len(X) + 1)\n")
    source = source.replace("    return resp, float(np.mean(log_px))", "    return resp")
    result = grade("gmm", {"gmm.py": source})
    text = feedback_of(result)
    assert "should have shape (50,)" in text or "should be a NumPy array of shape (50,)" in text
    assert "e_step must return a tuple (resp, mean_log_likelihood)" in text


def test_exception_names_type_and_line(grade):
    source = REFERENCE.replace("    Nk = resp.sum(axis=0)", "    Nk = resp.sum(axis=0)\n    raise ValueError('oops')")
    result = grade("gmm", {"gmm.py": source})
    text = feedback_of(result)
    assert "your code raised ValueError: oops in `m_step`" in text and "line" in text


def test_nan_output(grade):
    source = REFERENCE.replace("    return -0.5 * (D * np.log", "    return np.nan * (D * np.log")
    result = grade("gmm", {"gmm.py": source})
    assert "NaN" in feedback_of(result)
    assert result.score < result.max_score


def test_endless_loop_is_cut_and_other_checks_still_count(fast_course, tmp_path):
    source = replace_function("fit_gmm", "def fit_gmm(X, weights, means, covs, max_iter=100, tol=1e-6, reg_covar=1e-6):\n"
                                         "    while True:\n        pass\n")
    result = grade_with(fast_course, tmp_path, source)
    fit_checks = [c for c in result.checks if c.name.startswith("fit_gmm")]
    assert all("took longer than 4 s" in c.feedback for c in fit_checks)
    assert all(c.passed for c in result.checks if not c.name.startswith("fit_gmm"))


def test_endless_loop_at_import(fast_course, tmp_path):
    result = grade_with(fast_course, tmp_path, REFERENCE + "\nwhile True:\n    pass\n")
    assert result.score == 0
    assert "importing your file took longer than 4 s" in result.checks[0].feedback


def test_memory_hog_is_stopped(course, tmp_path):
    exercise = course.exercise("gmm").model_copy(update={"limits": LimitOverrides(memory_mib=512, check_time_s=20)})
    small = course.model_copy(update={"exercises": [exercise]})
    source = REFERENCE.replace("    Nk = resp.sum(axis=0)", "    hog = [np.ones(10**7) for _ in range(200)]\n    Nk = resp.sum(axis=0)")
    result = grade_with(small, tmp_path, source)
    text = feedback_of(result)
    assert "more than 512 MiB" in text
    assert any(c.passed for c in result.checks if c.name.startswith("e_step"))


def test_process_exit_in_a_function(grade):
    source = REFERENCE.replace("    K = len(weights)\n", "    import os\n    os._exit(3)\n")
    result = grade("gmm", {"gmm.py": source})
    assert "the process ended during this check" in feedback_of(result)
    assert all(c.passed for c in result.checks if c.name.startswith("m_step"))


def test_banned_import(grade):
    result = grade("gmm", {"gmm.py": "from sklearn.mixture import GaussianMixture\n" + REFERENCE})
    assert result.score == 0
    assert "imports sklearn.mixture (line 1), which this exercise does not allow" in result.checks[0].feedback


def test_banned_import_hidden_at_run_time(grade):
    source = REFERENCE.replace("    K = len(weights)\n", "    import importlib\n    importlib.import_module('sklearn.' + 'mixture')\n    K = len(weights)\n")
    result = grade("gmm", {"gmm.py": source})
    assert result.score == 0
    assert "imported sklearn.mixture at run time" in result.checks[0].feedback


def test_notebook_submission_with_magics(grade, tmp_path):
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("%matplotlib inline\n!pip list"), nbformat.v4.new_code_cell(REFERENCE)]
    folder = tmp_path / "nb"
    folder.mkdir()
    nbformat.write(notebook, folder / "gmm.ipynb")
    result = grade("gmm", folder)
    assert result.score == pytest.approx(result.max_score), feedback_of(result)


def test_zip_submission(grade, tmp_path):
    archive = tmp_path / "submission.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("homework/gmm.py", REFERENCE)
    result = grade("gmm", archive)
    assert result.score == pytest.approx(result.max_score), feedback_of(result)


def run_cli(*args, cwd=ROOT):
    return subprocess.run([*COURSE_BIN, *args], capture_output=True, text=True, cwd=cwd)


def test_cli_writes_results_and_exits_zero_for_a_bad_submission(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "gmm.py").write_text("def broken(:\n")
    output = tmp_path / "results.json"
    done = run_cli("grade", str(tmp_path / "sub"), "--exercise", "gmm", "--output", str(output), "--device", "cpu")
    assert done.returncode == 0, done.stderr
    results = json.loads(output.read_text())
    assert results["score"] == 0
    assert set(results) >= {"score", "execution_time", "output", "tests"}
    for test in results["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility"}
        assert test["status"] == "failed" and "syntax error" in test["output"]


@pytest.mark.parametrize("args, reason", [
    (["grade", "tests", "--exercise", "nope"], "unknown exercise 'nope'"),
    (["grade", "/no/such/path", "--exercise", "gmm"], "no such submission: /no/such/path"),
    (["check", "nope"], "unknown exercise 'nope'"),
])
def test_bad_command_line_exits_nonzero_with_one_line(args, reason, tmp_path):
    done = run_cli(*args, "--output", str(tmp_path / "r.json")) if args[0] == "grade" else run_cli(*args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0]


def test_unsafe_zip_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../../escape.py", "x = 1")
    done = run_cli("grade", str(archive), "--exercise", "gmm", "--output", str(tmp_path / "r.json"))
    assert done.returncode == 2 and "unsafe path" in done.stderr


@pytest.mark.skipif(not bubblewrap_works(), reason="needs bubblewrap isolation")
def test_student_code_cannot_see_course_files_or_network(grade):
    spy = (
        "    import os, socket\n"
        f"    assert not os.path.exists({str(ROOT / 'course.yml')!r}), 'course files are visible'\n"
        f"    assert not os.path.exists({str(ROOT / 'autograder/checks/gmm/checks.py')!r}), 'hidden checks are visible'\n"
        "    try:\n"
        "        socket.create_connection(('127.0.0.1', 22), timeout=1)\n"
        "        raise AssertionError('network reachable')\n"
        "    except OSError:\n"
        "        pass\n"
        "    assert os.getuid() != 0 and os.geteuid() != 0, 'running as root'\n"
    )
    source = REFERENCE.replace("    K = len(weights)\n", spy + "    K = len(weights)\n")
    result = grade("gmm", {"gmm.py": source})
    assert result.score == pytest.approx(result.max_score), feedback_of(result)


def test_printing_a_lot_is_kept_head_and_tail_and_costs_nothing(course, tmp_path):
    exercise = course.exercise("gmm").model_copy(update={"limits": LimitOverrides(output_kib=64, check_time_s=20)})
    small = course.model_copy(update={"exercises": [exercise]})
    source = REFERENCE.replace("    Nk = resp.sum(axis=0)", "    for _ in range(2000):\n        print('debug ' * 100)\n    Nk = resp.sum(axis=0)")
    result = grade_with(small, tmp_path, source)
    assert result.score == pytest.approx(result.max_score), feedback_of(result)
    assert "bytes of output dropped" in result.printed and result.printed.count("debug") < 64 * 1024 / 6
    assert any("printing never costs points" in note for note in result.notes)


def test_sys_exit_in_a_function_is_an_exception_not_a_verdict(grade):
    source = REFERENCE.replace("    K = len(weights)\n", "    import sys\n    sys.exit(0)\n")
    result = grade("gmm", {"gmm.py": source})
    assert "SystemExit" in feedback_of(result)
    assert not any(c.passed for c in result.checks if c.name.startswith("e_step"))


def test_forged_outputs_cannot_raise_the_score(grade):
    """Code that writes the runner's files itself and exits is judged on the numbers it forged."""
    forger = (
        "import json, os, sys\n"
        "out = os.path.join(os.getcwd(), 'out')\n"
        "inputs = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'inputs')\n"
        "for name in [n[:-4] for n in os.listdir(inputs)]:\n"
        "    json.dump({'ok': True, 'values': {'score': {'kind': 'float', 'value': 100.0}}}, open(f'{out}/{name}.json', 'w'))\n"
        "    open(f'{out}/{name}.npz', 'wb').close()\n"
        "json.dump({'ok': True}, open(f'{out}/import.json', 'w'))\n"
        "os.symlink('/etc/passwd', f'{out}/fit.npz') if not os.path.exists(f'{out}/fit.npz') else None\n"
        "os._exit(0)\n"
    )
    result = grade("gmm", {"gmm.py": forger + REFERENCE})
    assert result.score == 0
    assert result.max_score == pytest.approx(20)
