"""Shared fixture for the public checks: `student` is the module you are writing.

By default it is the file next to the test (exercises/gmm/gmm.py for
exercises/gmm/test_gmm.py); `course check gmm PATH` points it elsewhere through
the COURSE_STUDENT_FILE environment variable.
"""

import importlib.util
import os
from pathlib import Path

import pytest


def load_student(test_file: Path):
    name = test_file.stem.removeprefix("test_")
    path = Path(os.environ.get("COURSE_STUDENT_FILE") or test_file.with_name(f"{name}.py"))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def student(request):
    return load_student(Path(request.node.fspath))
