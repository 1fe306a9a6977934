"""Reference outputs stored with an export, on the autograder side only.

An otter or nbgrader export runs the course's checks in a notebook kernel, where no solution
file is available. The reference's outputs of every probe are computed once, at export time,
and stored in the sandbox's plain-data format (JSON + .npz, never pickle) under
`course_reference/<exercise>/`, with a manifest naming the checks they were made for:

    course_reference/gmm/manifest.json   {"exercise": "gmm", "module": "gmm", "checks": [[name, probe], ...]}
    course_reference/gmm/e_step.json     (+ e_step.npz) what the reference's e_step probe returned
    course_reference/gmm/stand_ins.json  probe -> the reference's pieces it substitutes (source text),
                                         as `course grade` sends them with the probe's inputs
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from autograder.checking import CheckSet, load_checks
from autograder.config import Exercise
from autograder.exports.leakcheck import REFERENCE_FOLDER
from autograder.grading import reference_outputs, reference_path
from autograder.reference_pieces import pieces_source
from autograder.sandboxed import exchange

MANIFEST = "manifest.json"
STAND_INS = "stand_ins.json"


class ReferenceError(Exception):
    """Stored reference outputs are missing or were made for other checks."""


def _signature(checks: CheckSet) -> list:
    return [[check.name, check.probe] for check in checks.checks]


def write_references(root: Path, exercise: Exercise, parent: Path) -> Path:
    """Compute and store the reference outputs of `exercise` in parent/course_reference/<id>/."""
    folder = parent / REFERENCE_FOLDER / exercise.id
    folder.mkdir(parents=True, exist_ok=True)
    for name, outcome in reference_outputs(str(root), exercise.id, exercise.module_name, "cpu").items():
        exchange.write_outputs(folder, name, outcome.values)
    checks = load_checks(exercise.id)
    solution = reference_path(root, exercise.id, exercise.module_name)
    stand_ins = {probe.name: pieces_source(solution, probe.stand_ins) for probe in checks.probes if probe.stand_ins}
    (folder / STAND_INS).write_text(json.dumps(stand_ins, indent=1) + "\n", encoding="utf-8")
    manifest = {"exercise": exercise.id, "module": exercise.module_name, "checks": _signature(checks)}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return folder


def read_references(folder: Path) -> tuple[dict, dict, dict]:
    """(manifest, probe name -> reference values, probe name -> stand-in source) from a folder
    `write_references` wrote.

    Raises ReferenceError when the installed course package's checks differ from those the
    references were made for (the export is out of date).
    """
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReferenceError(f"no reference outputs in {folder}: export the course again") from None
    installed = _signature(load_checks(manifest["exercise"]))
    if installed != manifest["checks"]:
        raise ReferenceError(f"the reference outputs in {folder} were made for other checks than the installed "
                             "course package's: export the course again with this version")
    values = {}
    for path in sorted(folder.glob("*.npz")):  # written by the export itself: no untrusted data here
        payload = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        with np.load(path, allow_pickle=False) as npz:
            values[path.stem] = exchange.decode(payload["values"], {key: npz[key] for key in npz.files})[0]
    return manifest, values, json.loads((folder / STAND_INS).read_text(encoding="utf-8"))
