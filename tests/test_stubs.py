"""Stubs are generated from the solutions; a test fails as soon as the two drift."""

import ast

import pytest

from autograder.stubgen import StubError, generate, make_stub, stub_pairs
from conftest import ROOT


def test_every_stub_matches_its_solution():
    stale = generate(ROOT, check_only=True)
    assert not stale, f"out of date (run `course stubs`): {[str(p.relative_to(ROOT)) for p in stale]}"


@pytest.mark.parametrize("solution, stub", list(stub_pairs(ROOT)), ids=lambda p: p.parent.name)
def test_stub_keeps_signatures_and_docstrings_but_no_answer(solution, stub):
    def functions(path):
        tree = ast.parse(path.read_text())
        return {n.name: n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}

    ours, theirs = functions(solution), functions(stub)
    assert set(ours) == set(theirs)
    for name, node in ours.items():
        assert ast.dump(node.args) == ast.dump(theirs[name].args) if hasattr(node, "args") else True
        assert ast.get_docstring(node) == ast.get_docstring(theirs[name])
    text = stub.read_text()
    assert "BEGIN SOLUTION" not in text and "raise NotImplementedError" in text


def test_fences_must_balance():
    with pytest.raises(StubError, match="never closed"):
        make_stub("def f():\n    # BEGIN SOLUTION\n    return 1\n", "x.py")
    with pytest.raises(StubError, match="without BEGIN"):
        make_stub("def f():\n    return 1\n    # END SOLUTION\n", "x.py")


def test_answer_becomes_not_implemented_at_its_indentation():
    stub = make_stub("def f(x):\n    '''Doc.'''\n    # BEGIN SOLUTION\n    return x + 1\n    # END SOLUTION\n", "x.py")
    assert "    raise NotImplementedError\n" in stub and "return x + 1" not in stub
    namespace = {}
    exec(compile(stub, "stub", "exec"), namespace)
    with pytest.raises(NotImplementedError):
        namespace["f"](1)
