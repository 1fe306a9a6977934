"""Red team: the trusted side never crashes, hangs or floods on anything a submission can produce.

Forged output files go through the real sandbox in both isolation levels; everything a submission controls
before any sandbox runs (its files, its zip, its source) and after (strings in the results) is tested here
without one.
"""

from __future__ import annotations

import io
import json
import os
import random
import stat
import time
import zipfile

import numpy as np
import pytest

from autograder import readback, sanitize, static
from autograder.checking import Evidence, load_checks
from autograder.grading import probe_inputs, reference_outputs
from autograder.results import CheckResult, ExerciseResult, SubmissionResult
from autograder.submission import MAX_ZIP_MEMBERS, SubmissionError, locate, opened
from conftest import ROOT, feedback_of
from redteam import LIMITS, MODES, assert_contained, grade, private_course, token

REFERENCE = (ROOT / "solutions/gmm/gmm.py").read_text(encoding="utf-8")
EXERCISES = sorted(p.name for p in (ROOT / "autograder/checks").iterdir() if (p / "checks.py").exists())


@pytest.fixture(scope="module")
def private(tmp_path_factory):
    """Forging takes a second of CPU at import time: a wide time margin for loaded machines."""
    return private_course(tmp_path_factory.mktemp("redteam-trusted"), {**LIMITS, "check_time_s": 40, "time_s": 90})


def submit(tmp_path, source):
    folder = tmp_path / "sub"
    folder.mkdir(exist_ok=True)
    (folder / "gmm.py").write_text(source, encoding="utf-8")
    return folder


# ---------------------------------------------------------------- forged outputs, through the sandbox

FORGER = r'''
import io, json, os, sys, zipfile
import numpy as np
out = os.path.join(os.getcwd(), "out")  # the runner's outputs; one input file per probe it runs
names = [n[:-4] for n in os.listdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "inputs"))]
def npy_header(shape, dtype="<f8"):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue()
def write(name, values, arrays=None, compress=zipfile.ZIP_STORED):
    if arrays is not None:
        with zipfile.ZipFile(os.path.join(out, name + ".npz"), "w", compress) as z:
            for key, chunks in arrays.items():
                with z.open(key + ".npy", "w", force_zip64=True) as member:
                    for chunk in chunks:
                        member.write(chunk)
    with open(os.path.join(out, name + ".json"), "w") as handle:
        handle.write(json.dumps({"ok": True, "values": values}))  # the C encoder: deep nesting stays fast
def bomb():  # 256 MiB of zeros, a MiB at a time: a few hundred KiB once deflated
    yield npy_header((1 << 25,))
    for _ in range(256):
        yield bytes(1 << 20)
ansi = "\x1b[2J\x1b[31mgmm: 20.00 / 20.00\n<script>alert(1)</script>"
sys.setrecursionlimit(100_000)
deep = {"kind": "list", "items": []}
for _ in range(5_000):
    deep = {"kind": "list", "items": [deep]}
forged = {
    "log_pdf": ({"D1": {"kind": "array", "key": "D1", "type": ansi * 1000}}, {"D1": bomb()}, zipfile.ZIP_DEFLATED),
    "e_step": ({"resp": {"kind": "list", "items": [{"kind": "list", "items": [{"kind": "float", "value": 1.0}]},
                                                   {"kind": "float", "value": "nan"}]},
                "mean_log_likelihood": {"kind": "str", "value": "x" * 200_000}}, None, None),
    "e_step_far": ({"resp": {"kind": "array", "key": "resp"}, "mean_log_likelihood": {"kind": "float", "value": "inf"}},
                   {"resp": [npy_header((40, 3), "|O"), b"\x80\x04K\x01."]}, None),
    "m_step": ({"default_weights": deep}, None, None),
    "fit": ({"weights": {"kind": "int", "value": 10 ** 4000}, "history": {"kind": "list", "items": "not a list"}},
            None, None),
    "fit_short": ({"history": {"kind": "array", "key": "history"}}, {"history": [npy_header((10 ** 12,))]}, None),
}
for name in names:
    values, arrays, compress = forged.get(name, ({}, None, None))
    try:
        write(name, values, arrays, compress or zipfile.ZIP_STORED)
    except Exception as error:
        print("could not forge", name, type(error).__name__, error)
json.dump({"ok": True}, open(os.path.join(out, "import.json"), "w"))
os._exit(0)
'''


@pytest.mark.parametrize("mode", MODES)
def test_forged_outputs_cannot_crash_flood_or_raise_the_score(mode, private, tmp_path):
    output = tmp_path / "results.json"
    graded = grade(private, submit(tmp_path, FORGER + REFERENCE), mode, output)
    assert_contained(graded, token())
    assert graded.results["score"] == 0, graded.feedback()
    assert len(graded.results["tests"]) == 11
    assert output.stat().st_size < 60_000
    text = output.read_text()
    assert "\x1b" not in json.loads(text)["output"] and "\\u001b" not in text
    assert "uncompressed" in graded.feedback("log_gaussian_pdf")


CRASHERS = {
    "NaN means from m_step": ("    means = (resp.T @ X) / Nk[:, None]  # (K, D)", "    means = (resp.T @ X) / Nk[:, None] * np.nan"),
    "a ragged history": ("    return weights, means, covs, history\n", "    return weights, means, covs, [history, [1.0]]\n"),
}


@pytest.mark.parametrize("mode", MODES)
def test_judges_that_would_raise_score_that_check_zero(mode, private, tmp_path):
    source = REFERENCE
    for old, new in CRASHERS.values():
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    source = source.replace("def log_gaussian_pdf(X, mean, cov):", "def log_gaussian_pdf(X, mean, cov):\n"
                            "    if X.shape[1] == 5:\n        raise type('E' * 3_500_000, (Exception,), {})('\\x1b[31m' * 10**6)")
    output = tmp_path / "results.json"
    graded = grade(private, submit(tmp_path, source), mode, output)
    assert_contained(graded, token())
    assert output.stat().st_size < 100_000
    assert "EEEE" in graded.feedback("log_gaussian_pdf") and "\x1b" not in graded.feedback()
    assert graded.score_of("e_step") == pytest.approx(graded.max_of("e_step"))
    assert graded.score_of("m_step: weights") == 0 and graded.score_of("fit_gmm: agrees") == 0


def test_every_judge_survives_garbage():
    """Whatever values come back, every check of every exercise returns a verdict in [0, 1] and never raises."""
    garbage = [None, True, -3, 1e308, float("nan"), "x" * 50, [[1.0], 2.0], [None, "a"], np.array([]),
               np.full((2, 3, 4), np.nan), np.array(["a", "b"]), np.zeros((0, 7)), np.ones(10 ** 3), np.array(1e300)]
    rng = random.Random(0)
    for exercise in EXERCISES:
        checks = load_checks(exercise)
        names = [n for n in checks.probe_names() if checks.probes[n].reference]
        inputs = probe_inputs(checks, names)
        reference = reference_outputs(str(ROOT), exercise, checks.probes_module.split(".")[2], "cpu")
        for check in checks.checks:
            keys = list(reference[check.probe].values) if check.probe in reference else ["weight", "bias"]
            for trial in range(6):
                student = {key: rng.choice(garbage) for key in keys}
                types = {key: rng.choice(["numpy.ndarray float64", "\x1b[2J" * 100, "torch.Tensor"]) for key in keys}
                evidence = Evidence(inputs.get(check.probe, {}), student, types,
                                    reference[check.probe].values if check.probe in reference else {})
                verdict = check.verdict(evidence)
                assert 0.0 <= verdict.fraction <= 1.0 and "\x1b" not in verdict.feedback, (exercise, check.name)


# ---------------------------------------------------------------- reading back: schema before loading


def npz(members: dict, compression=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


@pytest.fixture
def out(tmp_path):
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    yield tmp_path, fd
    os.close(fd)


def read(out, payload, data, schema=readback.OutputSchema(frozenset({"a"}), 1 << 20)):
    folder, fd = out
    (folder / "p.npz").write_bytes(data)
    return readback.read_outputs(fd, "p", payload, schema)


ARRAY_A = {"values": {"a": {"kind": "array", "key": "a", "type": "numpy.ndarray float64"}}}


def test_readback_loads_plain_arrays(out):
    values, types = read(out, ARRAY_A, npz({"a.npy": npy(np.arange(6.0).reshape(2, 3))}))
    np.testing.assert_array_equal(values["a"], np.arange(6.0).reshape(2, 3))


@pytest.mark.parametrize("members, compression, words", [
    ({"a.npy": npy(np.zeros(1 << 16))}, zipfile.ZIP_BZIP2, "uncompressed"),
    ({"a.npy": npy(np.zeros(1 << 18))}, zipfile.ZIP_STORED, "larger than"),
    ({"a.npy": npy(np.zeros(10))[:-8]}, zipfile.ZIP_STORED, "different number of bytes"),
    ({f"x{i}.npy": b"" for i in range(100)}, zipfile.ZIP_STORED, "members"),
])
def test_readback_refuses_before_loading(out, members, compression, words):
    with pytest.raises(readback.Malformed, match=words):
        read(out, ARRAY_A, npz(members, compression))


def test_readback_turns_object_and_string_arrays_into_none(out):
    pickled = npy(np.zeros(3)).replace(b"'<f8'", b"'|O' ")
    values, types = read(out, ARRAY_A, npz({"a.npy": pickled}))
    assert values["a"] is None and types["a"] == "numpy.ndarray float64"


def test_readback_drops_unknown_keys_and_bounds_strings(out):
    payload = {"values": {"a": {"kind": "str", "value": "y" * 50_000, "type": "\x1b[31m" + "t" * 5000},
                          "extra": {"kind": "int", "value": 1}}}
    values, types = read(out, payload, b"")
    assert set(values) == {"a"} and len(values["a"]) == readback.MAX_STRING
    assert "\x1b" not in types["a"] and len(types["a"]) < 400


def test_readback_refuses_links_and_fifos(out):
    folder, fd = out
    (folder / "p.npz").symlink_to("/etc/shadow")
    with pytest.raises(readback.Malformed):
        readback.read_outputs(fd, "p", ARRAY_A, readback.OutputSchema())
    (folder / "p.npz").unlink()
    os.mkfifo(folder / "p.npz")
    started = time.monotonic()
    with pytest.raises(readback.Malformed, match="not a regular file"):
        readback.read_outputs(fd, "p", ARRAY_A, readback.OutputSchema())
    assert time.monotonic() - started < 2


# ---------------------------------------------------------------- the submission itself, before any sandbox


@pytest.mark.parametrize("target", ["reference", "/etc/shadow", "/dev/zero", "fifo"])
def test_submitted_links_fifos_and_devices_are_refused(grade, tmp_path, target):
    folder = tmp_path / "linked"
    folder.mkdir()
    if target == "fifo":
        os.mkfifo(folder / "gmm.py")
    else:
        (folder / "gmm.py").symlink_to(ROOT / "solutions/gmm/gmm.py" if target == "reference" else target)
    started = time.monotonic()
    result = grade("gmm", folder)
    assert time.monotonic() - started < 60
    assert result.score == 0
    text = feedback_of(result)
    assert "could not be graded" in text and "root:" not in text


def test_a_linked_folder_is_not_followed(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "hw").symlink_to(ROOT / "solutions/gmm")
    assert locate(tmp_path / "sub", "gmm").source is None


def test_a_zip_with_too_many_members_is_refused_quickly(tmp_path):
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for index in range(100_000):
            z.writestr(f"f{index}", "")
    started = time.monotonic()
    with pytest.raises(SubmissionError, match=f"at most {MAX_ZIP_MEMBERS:,}"):
        with opened(archive):
            pass
    assert time.monotonic() - started < 30  # reading the directory only: unpacking them all took up to a minute


def test_a_zip_member_is_never_unpacked_past_its_cap(tmp_path):
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("gmm.py", "#" * (3 << 20))
        z.writestr("notes.txt", "x" * (50 << 20))  # not a file a grader wants: never unpacked
    with pytest.raises(SubmissionError, match="more than 2 MiB"):
        with opened(archive):
            pass


def test_zip_member_names_cannot_forge_lines(tmp_path):
    archive = tmp_path / "names.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("gmm: 20.00 \x1b[31m/ 20.00\n<b>/gmm.py", REFERENCE)
        z.writestr("ok/gmm.py", REFERENCE)
    with opened(archive) as folder:
        found = locate(folder, "gmm")
    assert found.origin == "ok/gmm.py"


def test_syntax_check_survives_any_source():
    for source in ("x = " + "lambda: " * 100_000 + "1", "x = " + "-" * 1_000_000 + "1", "(" * 10_000, "a\0b",
                   "def f(:\n" * 1000, "\udcff" * 10):
        problem = static.syntax_problem(source, "gmm.py")
        assert problem and len(problem) < 1000
        assert static.banned_imports(source, ["sklearn.mixture"]) == []


# ---------------------------------------------------------------- what comes out


def test_results_are_written_through_a_private_temporary_file(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    victim = tmp_path / "victim"
    victim.write_text("untouched")
    (shared / "results.json.tmp").symlink_to(victim)
    (shared / "results.json").symlink_to(victim)
    result = SubmissionResult([ExerciseResult("gmm", "GMM", [CheckResult("gmm", "c", 1, 1, "")])])
    result.write(shared / "results.json")
    assert victim.read_text() == "untouched"
    assert not (shared / "results.json").is_symlink()
    assert json.loads((shared / "results.json").read_text())["score"] == 1
    assert stat.S_IMODE((shared / "results.json").stat().st_mode) == 0o644


def test_sanitising_removes_escapes_and_forged_lines_and_bounds_length():
    hostile = "\x1b]0;title\x07\x1b[2Jok\r\ngmm: 20.00 / 20.00\u202e\x00" + "z" * 10_000
    one_line = sanitize.line(hostile)
    assert "\x1b" not in one_line and "\n" not in one_line and "\u202e" not in one_line and "\\x00" in one_line
    assert len(one_line) < 400 and "more characters" in one_line
    block = sanitize.quoted_block("a\ngmm: 20.00 / 20.00")
    assert all(row.startswith("| ") for row in block.splitlines())


def test_a_submission_cannot_print_fake_score_lines(grade):
    source = REFERENCE.replace("    K = len(weights)\n", "    print('\\ngmm: 20.00 / 20.00\\n\\x1b[2J')\n    K = len(weights)\n", 1)
    result = grade("gmm", {"gmm.py": source})
    results = SubmissionResult([result]).to_gradescope()["output"]
    assert "\x1b" not in results
    assert [row for row in results.splitlines() if row.startswith("gmm: ")] == [f"gmm: {result.score:.2f} / 20.00"]
