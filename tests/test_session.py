"""One sandbox per submission (per set of banned modules), a fresh child per exercise: what one exercise's code
does costs only that exercise's checks, and no exercise sees another's state. In both isolation levels."""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from autograder import file_limits
from autograder.config import Limits, load_course
from autograder.executor import run_exercise
from autograder.grading import probe_inputs, reference_path
from autograder.checking import load_checks
from autograder.isolation import Isolation, detect
from autograder.session import ExerciseRun, Session
from redteam import (LIMITS, MODES, ROOT, assert_contained, bubblewrap_available, grade, mode_env, private_course,
                     token)

PAIR = ("autoencoder", "iwae")  # no banned modules: one sandbox serves both
SOURCES = {name: (ROOT / "solutions" / name / f"{name}.py").read_text(encoding="utf-8") for name in PAIR}
ATTACKS = {
    "a crash in native code": "import ctypes\nctypes.string_at(0)\n",
    "an endless loop": "while True:\n    pass\n",
    "a memory hog": "hog = [bytearray(1 << 20) for _ in range(100_000)]\n",
    "killing the sandbox's first process": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n",
    "stopping the sandbox's first process": "import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)\n",
    "killing every process it can": "import os, signal\nos.kill(-1, signal.SIGKILL)\n",
}


STOPS_ITSELF = ("a crash in native code", "an endless loop", "a memory hog")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    # iwae's float64 checks with the zygote's PyTorch in the same tree need more than the red team's 600 MiB
    return private_course(tmp_path_factory.mktemp("session"), {**LIMITS, "memory_mib": 1024})


def submission(tmp_path, autoencoder_prefix="", iwae_prefix=""):
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "autoencoder.py").write_text(autoencoder_prefix + SOURCES["autoencoder"], encoding="utf-8")
    (folder / "iwae.py").write_text(iwae_prefix + SOURCES["iwae"], encoding="utf-8")
    return folder


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_what_one_exercise_does_costs_only_its_checks(mode, attack, course, tmp_path):
    graded = grade(course, submission(tmp_path, autoencoder_prefix=ATTACKS[attack]), mode, tmp_path / "r.json",
                   exercise=PAIR)
    assert_contained(graded, token())
    scores = {t["name"].split(":")[0]: 0.0 for t in graded.results["tests"]}
    for test in graded.results["tests"]:
        scores[test["name"].split(":")[0]] += test["score"]
    if attack in STOPS_ITSELF:  # the others may still let its honest part earn something
        assert scores["autoencoder"] == 0, graded.results["output"]
    assert scores["iwae"] == pytest.approx(5.0), graded.results["output"]


SYSV = "import ctypes, ctypes.util\n_libc = ctypes.CDLL(ctypes.util.find_library('c'))\n"
SYSV_KEY = 0x5EED


@pytest.mark.parametrize("mode", MODES)
def test_no_exercise_sees_another_exercises_state(mode, course, tmp_path):
    """The first exercise changes modules, defaults and files around it; the second starts from a clean child."""
    # Its temporary folder: the private /tmp under bubblewrap, the box in the fallback (the host's /tmp is closed).
    meddle = ("import numpy, torch, sys, tempfile, os\nnumpy.MEDDLED = True\ntorch.set_default_dtype(torch.float64)\n"
              "sys.modules['iwae'] = None\nopen(os.path.join(tempfile.gettempdir(), 'meddled'), 'w').close()\n"
              f"{SYSV}assert _libc.shmget({SYSV_KEY}, 4096, 0o1600) >= 0\n")
    check = ("import numpy, torch, os, tempfile\nassert not hasattr(numpy, 'MEDDLED'), 'saw the other exercise'\n"
             "assert torch.get_default_dtype() == torch.float32, 'saw the other dtype'\n"
             "assert not os.path.exists(os.path.join(tempfile.gettempdir(), 'meddled')), 'saw its file'\n"
             f"{SYSV}assert _libc.shmget({SYSV_KEY}, 0, 0o600) < 0, 'saw its System V memory'\n")
    graded = grade(course, submission(tmp_path, meddle, check), mode, tmp_path / "r.json", exercise=PAIR)
    assert_contained(graded, token())
    assert graded.results["score"] == pytest.approx(10.0), graded.results["output"]


def test_a_checkout_under_tmp_keeps_its_interpreter_between_exercises(course, tmp_path):
    """bubblewrap gives the sandbox a fresh /tmp and binds the interpreter's folders into it when they live under
    /tmp (a clone in /tmp/...). Emptying that /tmp after an exercise once removed them from outside, which
    detached the binds: the next exercise could not import anything the zygote had not (`make demo` in a fresh
    clone under /tmp lost 25 points). The second exercise here imports a package the zygote never does."""
    import sys

    if not bubblewrap_available():
        pytest.skip("bubblewrap does not work here")
    under_tmp = Path(tempfile.mkdtemp(prefix="checkout-", dir="/tmp"))
    try:
        (under_tmp / "venv").symlink_to(sys.prefix, target_is_directory=True)
        python = under_tmp / "venv" / "bin" / Path(sys.executable).name
        folder = submission(tmp_path, iwae_prefix="import yaml\n")  # autoencoder runs first, then iwae
        graded = grade(course, folder, "bubblewrap", tmp_path / "r.json", exercise=PAIR,
                       env={"COURSE_SANDBOX_PYTHON": str(python)})
    finally:
        shutil.rmtree(under_tmp, ignore_errors=True)
    assert graded.results["score"] == pytest.approx(10.0), graded.results["output"]


def _run_in(mode, monkeypatch, exercise, source) -> ExerciseRun:
    """`source` as `exercise`'s file, under the red team's limits, for a Session in isolation level `mode` (set in
    this process's environment)."""
    for key, value in mode_env(mode).items():
        monkeypatch.setenv(key, value)
    checks = load_checks(exercise)
    names = checks.probe_names()
    inputs = probe_inputs(checks, names, 7, reference_path(ROOT, exercise, exercise))
    return ExerciseRun(exercise, exercise, source, checks.probes, names, inputs, Limits(**LIMITS))


@pytest.mark.parametrize("mode", MODES)
def test_a_child_forked_after_the_resets_first_kill_is_killed_not_waited_for(mode, monkeypatch):
    """A limit can be found broken before the zygote has forked the child it was asked for (or while student code
    holds the zygote stopped): the reset's first kill finds no child, then the zygote forks one. That child must be
    killed too, not run unwatched while the reset waits for the zygote to report its end."""
    run = _run_in(mode, monkeypatch, "autoencoder", "while True:\n    pass\n")
    with Session(detect(), [run]) as session:
        session.start()
        session.prepare_run(run)
        progress_read, progress_write = os.pipe()
        output_read, output_write = os.pipe()
        os.kill(session.zygote_pid, signal.SIGSTOP)  # the command waits in the socket until the reset wakes it
        session.fork(run, run.names, output_write, progress_write)
        os.close(progress_write)
        os.close(output_write)
        started = time.monotonic()
        session.reset()
        waited = time.monotonic() - started
        os.close(progress_read)
        os.close(output_read)
        assert session.alive(), "the reset gave up on the zygote (the child ran on until the zygote's answer time)"
        assert waited < 10
        assert [pid for pid in session.started.watch.pids() if pid != session.zygote_pid] == [], "the child lives on"


QUICK_WRITER = """
    import os as _os
    _flag = _os.path.join(_os.getcwd(), "out", ".wrote")  # out/ outlives the clean-up of the box: once only
    if not _os.path.exists(_flag):
        open(_flag, "w").close()
        for _name in ("big-1", "big-2"):  # (each file is also capped at the budget, by RLIMIT_FSIZE)
            with open(_name, "wb") as _big:
                _big.write(b"x" * ({files_mib} * 3 // 4 << 20))
        _os._exit(3)
"""


@pytest.mark.parametrize("mode", MODES)
def test_files_a_quick_child_left_are_charged_to_it_not_to_the_next(mode, monkeypatch):
    """Where the box is not a tmpfs of the file budget (no right to mount: Docker), only the watchdog bounds it. A
    check that writes past the budget and ends before the next look is charged for it by a last look at its end;
    the next child, on an emptied box, owes nothing."""
    monkeypatch.setattr(file_limits, "bounded_box", lambda *args: False)
    reference = (ROOT / "solutions" / "gmm" / "gmm.py").read_text(encoding="utf-8")
    start = reference.index('"""', reference.index("def fit_gmm(")) + 3
    body = reference.index('"""', start) + 4  # after the docstring's closing line
    source = reference[:body] + QUICK_WRITER.format(files_mib=LIMITS["files_mib"]) + reference[body:]
    run = _run_in(mode, monkeypatch, "gmm", source)
    with Session(detect(), [run]) as session:
        outcomes = run_exercise(session, run).outcomes
    assert outcomes["fit"].problem == "files", outcomes["fit"]  # the first probe to call fit_gmm
    assert all(outcomes[name].ok for name in run.names if name != "fit"), {n: o.message for n, o in outcomes.items()}



FORGED_REFUSAL = """import json as _json, os as _os
with open(_os.path.join(_os.getcwd(), "out", "banned.json"), "w") as _file:
    _json.dump({"module": "json"}, _file)
"""


@pytest.mark.parametrize("mode", MODES)
def test_a_forged_refusal_of_a_module_the_sandbox_allows_is_not_believed(mode, monkeypatch):
    """out/banned.json is written by the import hook in the student's own process, so the student can write it too:
    naming a module the sandbox does not refuse would have bought the exercise a second run (or zeroed it)."""
    run = _run_in(mode, monkeypatch, "autoencoder", FORGED_REFUSAL + SOURCES["autoencoder"])
    with Session(detect(), [run]) as session:
        report = run_exercise(session, run)
    assert report.banned is None
    assert all(outcome.ok for outcome in report.outcomes.values()), report.outcomes

@pytest.mark.skipif(not bubblewrap_available(), reason="bubblewrap does not work here")
def test_one_sandbox_serves_exercises_with_the_same_banned_modules():
    course = load_course(ROOT / "course.yml")
    runs = []
    for name in PAIR:
        checks = load_checks(name)
        names = checks.probe_names()
        inputs = probe_inputs(checks, names, 7, reference_path(ROOT, name, name))
        runs.append(ExerciseRun(name, name, SOURCES[name], checks.probes, names, inputs,
                                course.limits_for(course.exercise(name))))
    with Session(detect(), runs) as session:
        reports = [run_exercise(session, run) for run in runs]
        assert session.startups == 1
    assert all(outcome.ok for report in reports for outcome in report.outcomes.values())


def test_the_zygote_preloads_the_probes_and_students_packages_but_never_next_to_a_ban():
    def run(exercise, source, banned=()):
        return ExerciseRun(exercise, exercise, source, None, [], {}, Limits(), banned=tuple(banned))

    plain = Session(Isolation("none", "test"), [run("vae", "import torch\nimport torchvision.io\n")]).preload()
    assert plain == ["autograder.checks.vae.probes", "torch", "torchvision"]
    ban = Session(Isolation("none", "test"), [run("pixelcnn", "import torch, torchvision\n", ("torchvision",))])
    assert ban.preload() == ["autograder.checks.pixelcnn.probes", "torch"]


def test_the_zygote_warms_what_probes_import_lazily_but_never_next_to_a_ban(tmp_path):
    """A probes module's ProbeSet(warm_imports=...) is imported once in the zygote, except a module of a package that
    holds a banned module."""
    import subprocess
    import sys

    (tmp_path / "some_probes.py").write_text(
        "from autograder.sandboxed.probekit import ProbeSet\n"
        "PROBES = ProbeSet(warm_imports=('sklearn.datasets', 'email.mime.text'))\n", encoding="utf-8")
    script = ("import sys\nsys.path[:0] = [{root!r}, {tmp!r}]\nfrom autograder.sandboxed.zygote import preload\n"
              "print(preload(['some_probes'], {banned!r}), 'sklearn' in sys.modules, 'email.mime.text' in sys.modules)")
    for banned, expected in (((), "['sklearn.datasets', 'email.mime.text'] True True"),
                             (("sklearn.mixture",), "['email.mime.text'] False True")):
        code = script.format(root=str(ROOT), tmp=str(tmp_path), banned=banned)
        done = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=120)
        assert done.stdout.strip() == expected, done.stderr[-2000:]


def test_the_grader_and_the_training_probes_import_neither_torch_dynamo_nor_scikit_learn():
    """What each would pay again and again (about 1.2 and 1.0 CPU-s): the reference's placement is not run on the
    meta device (no judge reads it), the course's training loops use genmodels.optim rather than torch.optim, and
    the digits and the two moons are made without scikit-learn. The sandbox's zygote defers torch._dynamo for the
    students' meta-device checks (tests/test_deferred_dynamo.py); only gmm's judge imports scikit-learn, its
    referee by design."""
    import subprocess
    import sys

    script = """
import sys
from autograder.checking import Evidence, load_checks
from autograder.config import load_course
from autograder.grading import _reference_module, probe_inputs, reference_outputs, reference_path, run_in_process
from autograder.sandboxed.probekit import placement_not_judged

for exercise in load_course('course.yml').exercises:
    if exercise.id == 'gmm':
        continue
    checks, names, seed = load_checks(exercise.id), load_checks(exercise.id).probe_names(), 5
    reference = reference_outputs('.', exercise.id, exercise.module_name, 'cpu', seed)
    inputs = probe_inputs(checks, names, seed, reference_path('.', exercise.id, exercise.module_name))
    with placement_not_judged():  # the training probes and the judges, as the sandbox's child and the grader run them
        student = run_in_process(checks, _reference_module('.', exercise.id, exercise.module_name), names, inputs)
    for check in checks.checks:
        ref = reference[check.probe].values if check.probe in reference else {}
        outcome = student[check.probe]
        verdict = check.verdict(Evidence(inputs[check.probe], outcome.values, outcome.types, ref))
        assert verdict.fraction == 1.0, (exercise.id, check.name, verdict.feedback)
print(sorted(m for m in ('torch._dynamo', 'sklearn', 'sympy') if m in sys.modules))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def _pending(exercise_id, source):
    """What `sandbox_plan` reads of an exercise on its way to a sandbox."""
    course = load_course(ROOT / "course.yml")
    exercise = course.exercise(exercise_id)
    return SimpleNamespace(exercise=exercise, limits=course.limits_for(exercise), found=SimpleNamespace(source=source))


def test_exercises_may_run_in_every_sandbox_their_bans_allow():
    from autograder.grading import sandbox_plan

    sources = {e.id: (ROOT / "solutions" / e.id / f"{e.module_name}.py").read_text(encoding="utf-8")
               for e in load_course(ROOT / "course.yml").exercises}
    plan = sandbox_plan([_pending(name, source) for name, source in sources.items()])
    placed = {bans: sorted(item.exercise.id for item in items) for bans, items in plan.items()}
    assert sorted(placed) == [("sklearn.mixture",), ("torchvision",)]  # two sandboxes, not one per ban set
    assert "gmm" in placed[("sklearn.mixture",)] and "gmm" not in placed[("torchvision",)]
    assert {"pixelcnn", "pixelrnn"} <= set(placed[("torchvision",)])
    assert not {"pixelcnn", "pixelrnn"} & set(placed[("sklearn.mixture",)])
    assert set(sum(placed.values(), [])) == set(sources)
    unbanned = {name for name in sources if not load_course(ROOT / "course.yml").exercise(name).banned_imports}
    assert unbanned <= set(placed[("sklearn.mixture",)]) & set(placed[("torchvision",)])  # either may take them
    # A file that names a module a sandbox bans is never placed there; with nothing banned, one sandbox.
    named = sandbox_plan([_pending("pixelrnn", sources["pixelrnn"]),
                          _pending("iwae", "import torchvision\n" + sources["iwae"])])
    assert {bans: [i.exercise.id for i in items] for bans, items in named.items()} == {
        ("torchvision",): ["pixelrnn"], (): ["iwae"]}
    alone = sandbox_plan([_pending("iwae", sources["iwae"]), _pending("autoencoder", sources["autoencoder"])])
    assert list(alone) == [()]


def test_a_free_sandbox_takes_the_costliest_exercise_it_may_run_and_each_is_taken_once():
    from autograder.grading import _Claims, sandbox_plan

    course = load_course(ROOT / "course.yml")
    sources = {e.id: (ROOT / "solutions" / e.id / f"{e.module_name}.py").read_text(encoding="utf-8")
               for e in course.exercises}
    mixture, vision = ("sklearn.mixture",), ("torchvision",)
    plan = sandbox_plan([_pending(name, source) for name, source in sources.items()])
    claims = _Claims(plan)
    expected_order = [item.exercise.id for item in claims.order()]
    limits = [course.limits_for(course.exercise(name)).time_s for name in expected_order]
    assert limits == sorted(limits, reverse=True)
    # The sandbox refusing torchvision is slow to start: the other takes what it may, then it takes the rest.
    first = [claims.take(mixture).exercise.id for _ in range(3)]
    assert first == [name for name in expected_order if name not in ("pixelcnn", "pixelrnn")][:3]
    taken = first[:]
    while (item := claims.take(vision)) is not None:
        assert item.exercise.id != "gmm"
        taken.append(item.exercise.id)
    assert "gmm" not in taken and {"pixelcnn", "pixelrnn"} <= set(taken)
    assert [claims.take(mixture).exercise.id, claims.take(mixture)] == ["gmm", None]
    assert sorted(taken + ["gmm"]) == sorted(sources)


@pytest.mark.parametrize("mode", MODES)
def test_an_exercise_refused_a_module_only_its_host_bans_is_graded_again_under_its_own_bans(mode, course, tmp_path):
    """pixelrnn bans torchvision; autoencoder, which does not, shares its sandbox unless its file names it. One that
    imports it by a computed name is graded again where torchvision is allowed: full marks; pixelrnn's own import of
    it still costs its checks."""
    folder = tmp_path / "sub"
    folder.mkdir()
    computed = "import importlib\nimportlib.import_module('torch' + 'vision')\n"
    (folder / "autoencoder.py").write_text(computed + SOURCES["autoencoder"], encoding="utf-8")
    pixelrnn = (ROOT / "solutions" / "pixelrnn" / "pixelrnn.py").read_text(encoding="utf-8")
    (folder / "pixelrnn.py").write_text(computed + pixelrnn, encoding="utf-8")
    graded = grade(course, folder, mode, tmp_path / "r.json", exercise=("autoencoder", "pixelrnn"))
    assert_contained(graded, token())
    scores = {}
    for test in graded.results["tests"]:
        name = test["name"].split(":")[0]
        scores[name] = scores.get(name, 0.0) + test["score"]
    assert scores["autoencoder"] == pytest.approx(5.0), graded.results["output"]
    assert scores["pixelrnn"] == 0, graded.results["output"]
    assert "torchvision" in json.dumps(graded.results)


def test_what_judges_import_lazily_is_declared_and_importable():
    """CheckSet.warm_imports, imported by the grader while the sandboxes run: each is imported by a judge of that
    exercise, and every lazy import of a judge that costs more than a tenth of a second is declared."""
    import importlib
    import re

    declared = {}
    for exercise in load_course(ROOT / "course.yml").exercises:
        checks = load_checks(exercise.id)
        source = (ROOT / "autograder" / "checks" / exercise.id / "checks.py").read_text(encoding="utf-8")
        lazy = set(re.findall(r"^\s+(?:from|import) (scipy\S*|sklearn\S*)", source, flags=re.M))
        for module in checks.warm_imports:
            importlib.import_module(module)
            assert module.split(".")[0] in source, (exercise.id, module)
        declared[exercise.id] = lazy - {m for m in lazy if any(m.startswith(w) or w.startswith(m) for w in
                                                                checks.warm_imports)}
    assert not any(declared.values()), declared
