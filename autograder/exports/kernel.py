"""The course's hidden checks inside a notebook kernel: what the otter and nbgrader exports call.

The probes, their inputs, the judges and the points are exactly those of `course grade`
(`grading.judge_in_process`); the reference outputs come from the export's `course_reference`
folder (`references.py`), so no solution is needed where grading happens. There is no isolation:
the student's definitions live in this kernel, and the checks run beside them. Each probe runs
once per set of definitions, when the first check that needs it is asked for, with its printing
and warnings kept out of the notebook (nbgrader scores a test cell that writes to stderr 0).

    verdict("gmm", "e_step: responsibilities match the reference", globals())  -> Verdict
"""

from __future__ import annotations

import contextlib
import io
import sys
import types
import warnings
from collections import Counter
from pathlib import Path

from autograder.checking import Verdict, load_checks
from autograder.exports.leakcheck import REFERENCE_FOLDER
from autograder.exports.references import MANIFEST, read_references
from autograder.grading import judge_in_process

_references: dict = {}  # exercise id -> (manifest, probe -> reference values, probe -> trial expectations)
_verdicts: dict = {}  # (exercise id, probe, definitions) -> check name -> Verdict


class CheckFailed(Exception):
    """A hidden check gave no credit; its message is the check's feedback."""


def find_references(exercise_id: str, start: Path | None = None) -> Path:
    """The `course_reference/<exercise>` folder of the export, above the kernel's folder.

    Otter runs the notebook in /autograder/submission with the export's files in
    /autograder/source/files; nbgrader in autograded/<student>/<assignment> below the course
    folder. The kernel's own folder (where a submission's files land) is never searched.
    """
    here = (start or Path.cwd()).resolve()
    for folder in here.parents:
        for candidate in (folder / REFERENCE_FOLDER, folder / "source" / "files" / REFERENCE_FOLDER):
            if (candidate / exercise_id / MANIFEST).is_file():
                return candidate / exercise_id
    raise FileNotFoundError(f"no {REFERENCE_FOLDER}/{exercise_id} above {here}: grade inside the exported "
                            "course folder (nbgrader) or with the exported autograder zip (otter)")


def _cell_file(namespace: dict) -> str:
    """The file (notebook cell) most of the student's functions were defined in."""
    files = Counter()
    for value in namespace.values():
        functions = [value] if isinstance(value, types.FunctionType) else \
            [v for v in vars(value).values() if isinstance(v, types.FunctionType)] if isinstance(value, type) else []
        for function in functions:
            if function.__module__ == "__main__":
                files[function.__code__.co_filename] += 1
    return files.most_common(1)[0][0] if files else ""


def student_module(namespace: dict, module_name: str):
    """The notebook's globals seen as the module `module_name` the probes expect.

    Its `__dict__` is the notebook's globals themselves, so when a probe puts a reference piece in
    place of the student's (`probekit.substituted`, e.g. `fit_gmm` judged given the reference's
    `e_step`), the student's functions, which look their helpers up in those globals, call it.
    """
    cell_file = _cell_file(namespace)

    class NotebookModule:
        __name__ = module_name
        __file__ = cell_file  # so feedback can quote the student's line

        def __getattr__(self, attribute):
            raise AttributeError(f"module '{module_name}' has no attribute '{attribute}'")

    module = NotebookModule()
    module.__dict__ = namespace
    return module


@contextlib.contextmanager
def _quietly_on_one_thread():
    """No printing, no warnings, and torch on one thread (as in the sandbox) while probes run."""
    sink = io.StringIO()
    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch else None
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if torch:
            torch.set_num_threads(1)
        try:
            yield
        finally:
            if torch:
                torch.set_num_threads(threads)


def _definitions(namespace: dict) -> tuple:
    return tuple(sorted((k, id(v)) for k, v in namespace.items() if callable(v) and not k.startswith("_")))


def verdict(exercise_id: str, check_name: str, namespace: dict) -> Verdict:
    """The verdict of one hidden check on the definitions in `namespace` (a notebook's globals())."""
    if exercise_id not in _references:
        _references[exercise_id] = read_references(find_references(exercise_id))
    manifest, reference, expected = _references[exercise_id]
    checks = {check.name: check for check in load_checks(exercise_id).checks}
    if check_name not in checks:
        raise KeyError(f"exercise {exercise_id!r} has no check {check_name!r}: export the course again")
    probe = checks[check_name].probe
    key = (exercise_id, probe, _definitions(namespace))
    if key not in _verdicts:
        module = student_module(namespace, manifest["module"])
        others = [c.probe for c in checks.values() if c.probe != probe]
        with _quietly_on_one_thread():
            _verdicts[key] = judge_in_process(None, exercise_id, manifest["module"], module, skip=others,
                                              device="cpu", stored=(reference, expected))
    return _verdicts[key][check_name]


def nbgrader_score(exercise_id: str, check_name: str, points: float, namespace: dict):
    """An nbgrader test cell's result: nothing for full credit, the points earned for partial
    credit (nbgrader reads a number a test cell outputs as its score), CheckFailed for none."""
    __tracebackhide__ = True  # IPython leaves this frame out of the traceback students see
    result = verdict(exercise_id, check_name, namespace)
    if result.fraction >= 1:
        if result.feedback:
            print(result.feedback)
        return None
    if result.fraction <= 0:
        raise CheckFailed(result.feedback or "this check failed")
    print(f"partial credit, {result.fraction:.0%} of {points:g} points: {result.feedback}")
    return result.fraction * points


def otter_case(exercise_id: str, check_name: str, namespace: dict, case) -> None:
    """An otter test case: records the fraction on the test case (for the partial-credit plugin,
    `otter_plugin.PartialCredit`) and fails with the feedback unless the check passed in full."""
    __tracebackhide__ = True
    result = verdict(exercise_id, check_name, namespace)
    case.course_fraction = result.fraction
    if result.fraction < 1:
        share = f" ({result.fraction:.0%} of its points)" if result.fraction > 0 else ""
        raise AssertionError(f"{check_name}{share}: {result.feedback or 'failed'}")

