"""Entry point of the sandboxed process: import the student's file, run probes, write plain data.

Protocol: results are files in --out, written atomically:
  import.json                    -- {"ok": bool, "error": {...}} for the student's import
  NAME.json (+ NAME.npz)         -- {"ok": true, "values": ...} or {"ok": false, "error": {...}}
  banned.json                    -- a banned module the student tried to import at run time
and progress is lines on the pipe --progress-fd ("started import", "finished import",
"finished NAME"), written after the file they announce. The trusted side times each step
from these events, enforces every limit, and relaunches the runner for the probes left
after a kill. It believes nothing here except as data to judge.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.abc
import importlib.util
import os
import sys
import traceback

import numpy as np

from autograder.sandboxed import exchange

MAX_MESSAGE = 600


class BannedImportFinder(importlib.abc.MetaPathFinder):
    """Refuses to import the exercise's banned modules (and their submodules)."""

    def __init__(self, banned, out_dir):
        self.banned = tuple(banned)
        self.out_dir = out_dir

    def find_spec(self, fullname, path=None, target=None):
        for name in self.banned:
            if fullname == name or fullname.startswith(name + "."):
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--probes", required=True, help="module holding the exercise's PROBES")
    parser.add_argument("--student", required=True, help="path of the student's file")
    parser.add_argument("--module-name", required=True)
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--run", default="", help="comma-separated probe names, in order")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--banned", default="")
    parser.add_argument("--progress-fd", type=int, default=None, help="pipe for progress events")
    args = parser.parse_args(argv)
    progress = os.fdopen(args.progress_fd, "w", buffering=1) if args.progress_fd is not None else None

    def announce(event):
        if progress is not None:
            try:
                progress.write(event + "\n")
            except (OSError, ValueError):  # student code closed it: the grader's clock runs on regardless
                pass

    probes = importlib.import_module(args.probes).PROBES
    banned = [name for name in args.banned.split(",") if name]
    if banned:
        sys.meta_path.insert(0, BannedImportFinder(banned, args.out))
    sys.path.insert(0, os.path.dirname(os.path.abspath(args.student)))

    announce("started import")
    try:
        module = import_student(args.student, args.module_name)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt included: report, don't die
        exchange.write_json(args.out, "import", {"ok": False, "error": describe_exception(exc, args.student)})
        announce("finished import")
        return 0
    exchange.write_json(args.out, "import", {"ok": True})
    announce("finished import")

    for name in [n for n in args.run.split(",") if n]:
        try:
            outputs = probes[name].run(module, load_inputs(args.inputs, name), args.device)
            exchange.write_outputs(args.out, name, outputs)
        except BaseException as exc:
            exchange.write_json(args.out, name, {"ok": False, "error": describe_exception(exc, args.student)})
        announce(f"finished {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
