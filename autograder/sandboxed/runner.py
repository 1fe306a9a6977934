"""What runs for one exercise in the sandbox: import the student's file, run probes, write plain data.

Protocol: results are files in the run's out folder, written atomically:
  import.json                    -- {"ok": bool, "error": {...}} for the student's import
  NAME.json (+ NAME.npz)         -- {"ok": true, "values": ...} or {"ok": false, "error": {...}}
  banned.json                    -- a banned module the student tried to import at run time
and progress is lines on the run's progress pipe ("started import", "finished import",
"finished NAME"), written after the file they announce. The trusted side times each step
from these events, enforces every limit, and asks for another run of the probes left after a
kill. It believes nothing here except as data to judge.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import sys
import traceback

import numpy as np

from autograder.sandboxed import exchange

MAX_MESSAGE = 600
UNWRITABLE = 75  # exit status: a probe's result could not be written even after freeing the spare descriptor


class SpareDescriptor:
    """One descriptor held while student code runs and given back just before a result is written, so code that
    opens files up to the limit (or leaks them) still gets its result, or its error, recorded."""

    def __init__(self):
        self.fd = None
        self.take()

    def take(self):
        try:
            self.fd = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            self.fd = None

    def free(self):
        if self.fd is not None:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = None


def is_banned(module: str, banned) -> bool:
    """Whether `module` is one of the `banned` modules or a submodule of one."""
    return any(module == name or module.startswith(name + ".") for name in banned)


class BannedImportFinder(importlib.abc.MetaPathFinder):
    """Refuses to import the exercise's banned modules (and their submodules)."""

    def __init__(self, banned, out_dir):
        self.banned = tuple(banned)
        self.out_dir = out_dir

    def find_spec(self, fullname, path=None, target=None):
        if is_banned(fullname, self.banned):
            exchange.write_json(self.out_dir, "banned", {"module": fullname})
            raise ImportError(f"importing {fullname} is not allowed in this exercise")
        return None


def describe_exception(exc, student_file):
    """Plain-data description of an exception raised while running student code."""
    frames = traceback.extract_tb(exc.__traceback__)
    student_frames = [f for f in frames if os.path.abspath(f.filename) == os.path.abspath(student_file)]
    where = None
    if student_frames:
        last = student_frames[-1]
        where = {"function": last.name, "line": last.lineno, "code": (last.line or "")[:200]}
    try:
        message = str(exc)
    except BaseException:  # noqa: BLE001 - a hostile __str__
        message = "(the exception's message could not be turned into text)"
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + " ..."
    return {
        "type": type(exc).__name__[:200],
        "message": message,
        "where": where,
        "contract": type(exc).__name__ == "ContractError",
    }


def import_student(path, module_name):
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def load_inputs(directory, name):
    path = os.path.join(directory, f"{name}.npz")
    if not os.path.exists(path):
        return {}
    with np.load(path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def run_probes(probes_module, student, module_name, inputs_dir, out_dir, names, device="cpu", banned=(),
               progress_fd=None) -> int:
    """Import the student's file, run probes `names` in order, write their outputs; return the exit status.

    Runs in the child the zygote forks for one exercise (see zygote.py); progress goes to `progress_fd`.
    """
    progress = os.fdopen(progress_fd, "w", buffering=1) if progress_fd is not None else None

    def announce(event):
        if progress is not None:
            try:
                progress.write(event + "\n")
            except (OSError, ValueError):  # student code closed it: the grader's clock runs on regardless
                pass

    probes = importlib.import_module(probes_module).PROBES
    banned = [name for name in banned if name]
    if banned:
        sys.meta_path.insert(0, BannedImportFinder(banned, out_dir))
    sys.path.insert(0, os.path.dirname(os.path.abspath(student)))

    announce("started import")
    spare = SpareDescriptor()
    try:
        module = import_student(student, module_name)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt included: report, don't die
        spare.free()
        exchange.write_json(out_dir, "import", {"ok": False, "error": describe_exception(exc, student)})
        announce("finished import")
        return 0
    spare.free()
    exchange.write_json(out_dir, "import", {"ok": True})
    spare.take()
    announce("finished import")

    for name in names:
        try:
            outputs = probes[name].run(module, load_inputs(inputs_dir, name), device)
            spare.free()
            exchange.write_outputs(out_dir, name, outputs)
        except BaseException as exc:
            spare.free()
            try:
                exchange.write_json(out_dir, name, {"ok": False, "error": describe_exception(exc, student)})
            except OSError:  # no descriptor or no room left: the trusted side says which limit was reached
                return UNWRITABLE
        spare.take()
        announce(f"finished {name}")
    return 0
