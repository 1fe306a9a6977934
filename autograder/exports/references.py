"""Reference outputs stored with an export, on the autograder side only.

An otter or nbgrader export runs the course's checks in a notebook kernel, where no solution
file is available. The reference's outputs of every probe are computed once, at export time,
and stored in the sandbox's plain-data format (JSON + .npz, never pickle) under
`course_reference/<exercise>/`, with a manifest naming the checks they were made for:

    course_reference/gmm/manifest.json   {"exercise": "gmm", "module": "gmm", "checks": [[name, probe], ...]}
    course_reference/gmm/e_step.json     (+ e_step.npz) what the reference's e_step probe returned
    course_reference/gmm/trials.json     probe -> what the reference's pieces return on the probe's
                                         trials (plain numbers, as `stand_in_inputs` adds them to its
                                         inputs); never any of the reference's code
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from autograder.checking import CheckSet, load_checks
from autograder.config import Exercise
from autograder.exports.leakcheck import REFERENCE_FOLDER
from autograder.grading import reference_outputs, reference_path
from autograder.grading import import_file
from autograder.stand_in_inputs import attach
from autograder.sandboxed import exchange

MANIFEST = "manifest.json"
TRIALS = "trials.json"


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
    with_trials = [probe.name for probe in checks.probes if probe.trials is not None]
    expected = attach(checks.probes, with_trials, {name: {} for name in with_trials}, import_file(solution, solution.stem))
    trials = {name: {key: np.asarray(value).tolist() for key, value in values.items()} for name, values in expected.items()}
    (folder / TRIALS).write_text(json.dumps(trials) + "\n", encoding="utf-8")
    manifest = {"exercise": exercise.id, "module": exercise.module_name, "checks": _signature(checks)}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return folder


def read_references(folder: Path) -> tuple[dict, dict, dict]:
    """(manifest, probe name -> reference values, probe name -> the inputs `stand_in_inputs` adds) from a folder
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
    trials = json.loads((folder / TRIALS).read_text(encoding="utf-8"))
    return manifest, values, {name: {key: np.asarray(value, dtype=float) for key, value in expected.items()}
                              for name, expected in trials.items()}
