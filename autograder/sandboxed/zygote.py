"""The sandbox's long-lived process: import the heavy modules once, then fork a child per exercise run.

Started once per sandbox (the exercises of one submission that `grading.sandbox_plan` lets it run), it
imports NumPy, PyTorch and every exercise's probes (never touching CUDA, so that children may
use it), then waits for commands on a Unix socket only the grader holds the other end of. Each
command names one run (an exercise and the probes still to run) and comes with two fresh pipe
ends: the run's stdout/stderr and its progress pipe. The child it forks:

- starts a session of its own, drops the command socket, lowers its limits to the exercise's;
- runs `autograder.sandboxed.runner.run_probes` (import the student's file, run the probes,
  write plain data, announce progress), then exits.

The zygote waits for it and reports "exited STATUS" on the command socket; before the next child, it removes
what the last one left in System V IPC (its own namespace, under bubblewrap). It is not
dumpable, so student code running as the same uid can neither read its memory nor reach its
file descriptors; what it can do (kill or stop it) only costs the submission its own time: the
grader notices and starts a fresh sandbox for what is left.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import errno
import gc
import importlib
import json
import os
import resource
import socket
import sys

from autograder.sandboxed import sysv

PR_SET_DUMPABLE = 4
CLONE_NEWUSER = 0x10000000


def refuse_user_namespaces() -> bool:
    """From now on, in this process and every process it starts, creating a user namespace fails (EPERM) and
    clone3 reports ENOSYS (so that its flags can be checked: the C library falls back to clone, as under
    Docker's default seccomp profile). Where unprivileged users may create user namespaces, student code in
    one could mount a tmpfs of its own and fill it out of the watchdog's sight. Returns whether the filter is
    in place (libseccomp is missing on some hosts: then only the watchdog bounds memory).
    """
    try:
        import pyseccomp as seccomp

        rules = seccomp.SyscallFilter(seccomp.ALLOW)
        new_user = seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER)
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "unshare", new_user)
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "clone", new_user)
        rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
        rules.load()
    except (ImportError, OSError, RuntimeError, ValueError, NotImplementedError):  # (an architecture it lacks)
        return False
    return True


def _lower(limit, value):
    soft, hard = resource.getrlimit(limit)
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(limit, (value, value))


def _child(command: dict, out_fd: int, progress_fd: int, commands: socket.socket) -> None:
    """In the forked child: become the run's process, run its probes, never return."""
    status = 1
    try:
        commands.close()
        os.setsid()
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        os.close(out_fd)
        limits = command.get("limits", {})
        if limits.get("open_files"):
            _lower(resource.RLIMIT_NOFILE, int(limits["open_files"]))
        if limits.get("file_bytes"):
            _lower(resource.RLIMIT_FSIZE, int(limits["file_bytes"]))
        os.chdir(command["cwd"])
        sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
        sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
        from autograder.sandboxed.runner import run_probes

        status = run_probes(command["probes"], command["student"], command["module"], command["inputs"],
                            command["out"], command["run"], command["device"], command["banned"], progress_fd)
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)


def serve(commands: socket.socket) -> None:
    """Fork a child per command until the grader closes the socket."""
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(commands, 65536, 2)
        except OSError:
            return
        if not message:
            return
        if len(fds) != 2:
            for fd in fds:
                os.close(fd)
            continue
        out_fd, progress_fd = fds
        command = json.loads(message.decode("utf-8"))
        # Every process of the last child is dead by now: what it left in System V IPC goes, so this one finds
        # nothing of it (under bubblewrap the namespace is the sandbox's own, which the grader cannot see).
        sysv.remove(sysv.objects(os.getuid()))
        pid = os.fork()
        if pid == 0:
            _child(command, out_fd, progress_fd, commands)
        os.close(out_fd)
        try:
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            code = "lost"
        os.close(progress_fd)
        try:
            commands.sendall(f"exited {code}\n".encode())
        except OSError:
            return


def holds_banned(module: str, banned) -> bool:
    """Whether importing `module` imports (or could import) one of the `banned` modules: same top-level package."""
    root = module.split(".")[0]
    return any(b == root or b.startswith(root + ".") for b in banned)


def preload(names, banned=()) -> list[str]:
    """Import `names`, then what the probes among them import lazily (their ProbeSet's `warm_imports`), except what
    is or holds a banned module (one already imported would get past the ban). Returns the warm imports made."""
    from autograder.sandboxed import deferred_dynamo
    from autograder.sandboxed.probekit import ProbeSet

    modules = []
    for name in names:
        try:
            modules.append(importlib.import_module(name))
        except Exception:  # noqa: BLE001 - a student's import fails in its own child, with a message
            if name.startswith("autograder."):
                raise
    warm = dict.fromkeys(lazily for module in modules for value in vars(module).values()
                         if isinstance(value, ProbeSet) for lazily in value.warm_imports)
    warm = [name for name in warm if not holds_banned(name, banned)]
    deferred_dynamo.install()  # PyTorch's meta kernels and torch.optim would import its compiler for nothing
    for name in warm:
        importlib.import_module(name)
    return warm


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands-fd", type=int, required=True, help="this end of the grader's Unix socket")
    parser.add_argument("--preload", default="", help="comma-separated modules to import once (the probes)")
    parser.add_argument("--banned", default="", help="comma-separated modules refused to every exercise here")
    args = parser.parse_args(argv)
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # same-uid student code cannot read our memory or descriptors
    refuse_user_namespaces()
    commands = socket.socket(fileno=args.commands_fd)
    gc.disable()  # imports make hundreds of thousands of objects that all stay: no collection need walk them
    importlib.import_module("numpy")  # the point is to pay the imports once
    preload(list(filter(None, args.preload.split(","))), tuple(filter(None, args.banned.split(","))))
    gc.freeze()  # what is imported stays: no child's collections walk it (or copy its pages by touching it)
    gc.enable()
    commands.sendall(b"ready\n")
    serve(commands)
    return 0


if __name__ == "__main__":
    sys.exit(main())
