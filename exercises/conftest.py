"""Shared fixture and reporting for the public checks: `student` is the module you are writing.

By default it is the file next to the test (exercises/gmm/gmm.py for exercises/gmm/test_gmm.py);
`course check gmm PATH` points it elsewhere through the COURSE_STUDENT_FILE environment variable.
When a check fails, the summary at the end shows the line of *your* file where it went wrong (or the
check's own line when your code returned a wrong value), not only PyTorch's innermost frame.
"""

import importlib.util
import json
import os
from pathlib import Path

import pytest


def student_path(test_file: Path) -> Path:
    name = test_file.stem.removeprefix("test_")
    return Path(os.environ.get("COURSE_STUDENT_FILE") or test_file.with_name(f"{name}.py"))


def load_student(test_file: Path):
    name = test_file.stem.removeprefix("test_")
    spec = importlib.util.spec_from_file_location(name, student_path(test_file))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def student(request):
    return load_student(Path(request.node.fspath))


def _where(path: Path, line: int) -> str:
    """'gmm.py, line 12', or for a notebook checked through `course check`, 'gmm.ipynb, cell 4, line 2'."""
    label = os.environ.get("COURSE_STUDENT_LABEL") or path.name
    cells = os.environ.get("COURSE_STUDENT_CELLS")
    if cells:
        origins = json.loads(Path(cells).read_text(encoding="utf-8"))
        if 1 <= line <= len(origins):
            cell, in_cell = origins[line - 1]
            return f"{label}, cell {cell}, line {in_cell}"
    return f"{label}, line {line}"


def _summary(item, excinfo) -> list:
    """What failed, and the line of the student's file (else of the check) where it happened."""
    message = str(excinfo.value).strip().splitlines()
    first = f"{excinfo.typename}: {message[0]}" if message else excinfo.typename
    lines = [first[:300]] + [f"    {text[:200]}" for text in message[1:4]]
    mine = student_path(Path(str(item.fspath))).resolve()
    entries = list(excinfo.traceback)
    own = [e for e in entries if Path(str(e.path)).resolve() == mine]
    if own:
        entry = own[-1]
        code = str(entry.statement).strip().splitlines()[0] if entry.statement else ""
        lines.append(f"in your code: {_where(mine, entry.lineno + 1)}, in {entry.name}: {code}")
    else:
        test = [e for e in entries if Path(str(e.path)).resolve() == Path(str(item.fspath)).resolve()]
        if test:
            code = str(test[-1].statement).strip().splitlines()[0] if test[-1].statement else ""
            lines.append(f"the check: {Path(str(item.fspath)).name}, line {test[-1].lineno + 1}: {code}")
    return lines


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.excinfo is not None:
        report.user_properties.append(("course_summary", _summary(item, call.excinfo)))


def pytest_terminal_summary(terminalreporter):
    reports = terminalreporter.stats.get("failed", []) + terminalreporter.stats.get("error", [])
    summaries = [(r, dict(r.user_properties).get("course_summary")) for r in reports]
    summaries = [(r, s) for r, s in summaries if s]
    if not summaries:
        return
    terminalreporter.write_sep("-", "what failed, and where")
    for report, lines in summaries:
        terminalreporter.write_line(f"FAILED {report.nodeid.split('::', 1)[-1]}")
        for line in lines:
            terminalreporter.write_line(f"    {line}")
