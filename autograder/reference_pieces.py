"""The reference's pieces a probe puts in place of the student's, as source text (trusted side).

A check of `gan_train_step` should judge the step, not the losses it calls: its probe runs the
step again with the reference's `discriminator_loss` and `generator_loss` substituted
(`probekit.given_reference`). The pieces cross into the sandbox as plain source text with the
probe's inputs: the named top-level functions and classes of the reference solution, the
reference helpers they call, and the reference's imports and top-level constants.
"""

from __future__ import annotations

import ast
from pathlib import Path

DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
CONTEXT = (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign)


def _segment(lines, node) -> str:
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
    return "".join(lines[first - 1:node.end_lineno])


def pieces_source(reference_file: Path, names) -> str:
    """Source defining `names` as the reference defines them (with the helpers they call)."""
    source = Path(reference_file).read_text(encoding="utf-8")
    tree = ast.parse(source)
    definitions = {node.name: node for node in tree.body if isinstance(node, DEFINITIONS)}
    unknown = sorted(set(names) - set(definitions))
    if unknown:
        raise ValueError(f"{reference_file} defines no {', '.join(unknown)} (named in a probe's stand_ins)")
    needed, queue = set(), list(names)
    while queue:  # the named pieces and every reference definition they mention, transitively
        name = queue.pop()
        if name in needed:
            continue
        needed.add(name)
        mentioned = {n.id for n in ast.walk(definitions[name]) if isinstance(n, ast.Name)}
        queue.extend(mentioned & set(definitions))
    lines = source.splitlines(keepends=True)
    kept = [node for node in tree.body
            if isinstance(node, CONTEXT) or (isinstance(node, DEFINITIONS) and node.name in needed)]
    return "\n".join(_segment(lines, node) for node in kept)


def attach(probes, names, inputs: dict, reference_file: Path) -> dict:
    """`inputs` with the reference pieces each probe in `names` declares (in place; also returned)."""
    from autograder.sandboxed.probekit import STAND_INS

    for name in names:
        wanted = probes[name].stand_ins
        if wanted:
            inputs[name][STAND_INS] = pieces_source(reference_file, wanted)
    return inputs
