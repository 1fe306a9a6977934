"""`course grade-all` / `course gradebook` end to end on small made classes (gmm only, to stay fast)."""

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from decimal import Decimal

import pytest

from autograder.classroom import madeclass, store
from autograder.classroom.layouts import Entry, Student, Submission
from autograder.classroom.runner import Options, Outcome, run_batch
from conftest import ROOT, solution_source

COURSE_BIN = [sys.executable, "-m", "autograder.cli"]
CLASS = ["alice", "bob", "erin", "ivan", "mallory", "oscar"]


def course_cli(*args, **kwargs):
    return subprocess.run([*COURSE_BIN, *map(str, args)], capture_output=True, text=True, cwd=ROOT, **kwargs)


def grade_all(source, out, *args):
    done = course_cli("grade-all", source, "--output-dir", out, "--exercise", "gmm", "--device", "cpu", *args)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def gradebook(out):
    return list(csv.DictReader(io.StringIO((out / "gradebook.csv").read_text(encoding="utf-8"))))


@pytest.fixture(scope="session")
def single_run(tmp_path_factory, course):
    """The made class (six students) as a Gradescope export, graded once with two jobs.

    Shared by the pytest-xdist workers through a lock in their common temporary folder (filelock
    comes with torch), so the class is graded once per test session, not once per worker.
    """
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp().parent / "classroom-single-run"
    with FileLock(str(base) + ".lock"):
        if not (base / "stdout.txt").is_file():
            source = madeclass.write_class(ROOT, course, base / "export", layout="gradescope", keys=CLASS)
            done = grade_all(source, base / "out", "--jobs", "2")
            (base / "stderr.txt").write_text(done.stderr)
            (base / "stdout.txt").write_text(done.stdout)
    return base / "export", base / "out", subprocess.CompletedProcess(
        [], 0, (base / "stdout.txt").read_text(), (base / "stderr.txt").read_text())


def test_gradebook_identity_late_penalty_and_statuses(single_run):
    _, out, done = single_run
    rows = {row["name"]: row for row in gradebook(out)}
    assert len(rows) == len(CLASS)
    alice, oscar = rows["Alice Archer"], rows["Oscar Ortiz"]
    assert alice["email"] == "alice@students.example.edu" and alice["student_id"].isdigit()
    assert alice["gmm_score"] == alice["total"] == "20" and alice["status"] == "ok"
    # 30 hours late is 2 days at 10% a day: 20% of the raw score is lost
    assert Decimal(oscar["gmm_late_penalty"]) == Decimal(oscar["gmm_raw"]) * Decimal("0.2") > 0
    assert oscar["status"] == "two-files" and "drafts/gmm.ipynb" in oscar["problems"]
    assert rows["Ivan Ivanov"]["status"] == "corrupt-zip" and rows["Ivan Ivanov"]["total"] == "0"
    assert rows["Bob Baker"]["total"] == "0" and rows["Bob Baker"]["status"] == "ok"
    assert "6 submissions (6 students)" in done.stdout and "report.html" in done.stdout
    assert "grading" in done.stderr and "6/6" in done.stderr  # the progress bar


def test_canvas_import_csv(single_run, course):
    _, out, _ = single_run
    rows = list(csv.reader(io.StringIO((out / "canvas_import.csv").read_text(encoding="utf-8"))))
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert rows[0][5] == "GM-101 EM for a Gaussian mixture model (gmm)"
    assert rows[1][0].strip() == "Points Possible" and rows[1][5] == "20"
    by_name = {row[0]: row for row in rows[2:]}
    assert by_name["Alice Archer"][2].isdigit() and by_name["Alice Archer"][5] == "20"


def test_each_submission_is_graded_as_course_grade_would(single_run, tmp_path):
    source, out, _ = single_run
    alice = next(r for r in store.read_records([out]) if r["students"][0]["name"] == "Alice Archer")
    folder = source / alice["origin"]
    done = course_cli("grade", folder, "--exercise", "gmm", "--device", "cpu", "--quiet", "--output", tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    single = json.loads((tmp_path / "r.json").read_text())
    batch = json.loads((store.student_dir(out, alice["key"]) / "results.json").read_text())
    single.pop("execution_time"), batch.pop("execution_time")
    assert batch == single


def test_every_results_file_adds_up_and_every_student_has_a_page(single_run):
    _, out, _ = single_run
    for folder in (out / "students").iterdir():
        results = json.loads((folder / "results.json").read_text(), parse_float=Decimal, parse_int=Decimal)
        assert sum(t["max_score"] for t in results["tests"]) == 20
        assert (folder / "feedback.html").is_file()


def test_hostile_strings_are_shown_as_text(single_run):
    _, out, _ = single_run
    record = next(r for r in store.read_records([out]) if r["students"][0]["name"].startswith("Mallory"))
    page = (out / "students" / record["key"] / "feedback.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in page
    assert "\x1b" not in page and "\\x1b[31m" in page
    assert "Mallory &lt;b&gt;Mal&lt;/b&gt;" in page
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in report and "\x1b" not in report


def test_report_has_its_figures(single_run):
    _, out, _ = single_run
    report = (out / "report.html").read_text(encoding="utf-8")
    figures = [part.split('"')[0] for part in report.split('src="')[1:]]
    assert {"report/score_histograms.png", "report/pass_rates_gmm.png", "report/grading_time.png"} <= set(figures)
    assert all((out / f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for f in figures)
    assert "Alice Archer" in report and "corrupt-zip" in report and "Similarity" in report


def test_a_second_run_keeps_everything(single_run):
    source, out, _ = single_run
    before = {r["key"]: r["graded_at"] for r in store.read_records([out])}
    done = grade_all(source, out, "--jobs", "2")
    assert f"{len(CLASS)} unchanged since the last run" in done.stderr
    assert {r["key"]: r["graded_at"] for r in store.read_records([out])} == before


def test_two_shards_in_two_processes_merge_to_the_single_run(single_run, tmp_path):
    source, out, _ = single_run
    shards = [subprocess.Popen([*COURSE_BIN, "grade-all", str(source), "--output-dir", str(tmp_path / f"shard{i}"),
                                "--exercise", "gmm", "--device", "cpu", "--jobs", "1", "--shard", f"{i}/2"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in (1, 2)]
    for shard in shards:
        _, stderr = shard.communicate(timeout=600)
        assert shard.returncode == 0, stderr[-3000:]
    counts = [len(list((tmp_path / f"shard{i}" / "students").iterdir())) for i in (1, 2)]
    assert sum(counts) == len(CLASS) and min(counts) > 0
    assert not (tmp_path / "shard1" / "gradebook.csv").exists()  # a shard leaves the gradebook to `course gradebook`
    done = course_cli("gradebook", tmp_path / "shard1", tmp_path / "shard2", "--output-dir", tmp_path / "merged")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "merged" / "gradebook.csv").read_text() == (out / "gradebook.csv").read_text()
    assert (tmp_path / "merged" / "report.html").is_file()


def test_resume_after_sigkill_grades_only_what_is_missing(tmp_path, course):
    keys = ["alice", "carol", "dave", "erin", "frank"]
    source = madeclass.write_class(ROOT, course, tmp_path / "class", keys=keys)
    out = tmp_path / "out"
    command = [*COURSE_BIN, "grade-all", str(source), "--output-dir", str(out), "--exercise", "gmm", "--device", "cpu",
               "--jobs", "1"]
    run = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while not list(out.glob("students/*/record.json")) and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    survived = {r["key"]: r["graded_at"] for r in store.read_records([out])}
    assert 1 <= len(survived) < len(keys), "the kill came too late to test resuming"
    assert not (out / "gradebook.csv").exists()

    done = grade_all(source, out, "--jobs", "2")
    assert f"{len(survived)} unchanged since the last run" in done.stderr
    after = {r["key"]: r["graded_at"] for r in store.read_records([out])}
    assert set(after) == set(keys) and all(after[k] == t for k, t in survived.items())
    assert not list(out.rglob(store.TEMP_PREFIX + "*"))
    fresh = grade_all(source, tmp_path / "fresh", "--jobs", "2")
    assert fresh.returncode == 0
    assert (out / "gradebook.csv").read_text() == (tmp_path / "fresh" / "gradebook.csv").read_text()


def test_changed_content_changed_checks_and_regrade(tmp_path, course):
    folder = tmp_path / "alice"
    folder.mkdir()
    (folder / "gmm.py").write_text(solution_source("gmm"))
    (tmp_path / "ivan.zip").write_bytes(b"not a zip")
    submissions = [Submission("alice", (Student("alice"),), (Entry("", folder),), "plain", "alice"),
                   Submission("ivan", (Student("ivan"),), (Entry("", tmp_path / "ivan.zip"),), "plain", "ivan.zip")]

    def states(**changes):
        options = Options(ROOT, tmp_path / "out", ("gmm",), course_hash="checks-v1")
        options = Options(**{**options.__dict__, **changes})
        return {o.key: o.state for o in run_batch(submissions, options, jobs=1, quiet=True)}

    assert states() == {"alice": "graded", "ivan": "graded"}
    assert states() == {"alice": "kept", "ivan": "kept"}
    (folder / "gmm.py").write_text(solution_source("gmm") + "\n# one more line\n")
    assert states() == {"alice": "graded", "ivan": "kept"}
    assert states(course_hash="checks-v2") == {"alice": "graded", "ivan": "graded"}
    assert states(course_hash="checks-v2", regrade=True) == {"alice": "graded", "ivan": "graded"}


def test_bad_inputs_each_get_a_status_and_the_batch_goes_on(tmp_path):
    reference = solution_source("gmm").encode()
    files = {
        "good/gmm.py": reference,
        "nested/homework/gmm.py": reference,
        "nested/README.md": b"my homework",
        "notebook/gmm.ipynb": b"{ not json",
        "latin1/gmm.py": "# Größe\n".encode("latin-1") + reference,
        "misnamed/gmm_final.py": reference,
        "both/gmm.py": reference,
        "both/gmm.ipynb": b"{}",
    }
    for name, data in files.items():
        (tmp_path / "class" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "class" / name).write_bytes(data)
    (tmp_path / "class" / "empty").mkdir()
    (tmp_path / "class" / "corrupt.zip").write_bytes(b"PK\x03\x04 broken")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("gmm.py", reference)
        archive.writestr("data.bin", b"\0" * (80 << 20))
    (tmp_path / "class" / "bomb.zip").write_bytes(bomb.getvalue())
    (tmp_path / "class" / "linked").mkdir()
    (tmp_path / "class" / "linked" / "gmm.py").symlink_to(ROOT / "solutions" / "gmm" / "gmm.py")

    grade_all(tmp_path / "class", tmp_path / "out", "--jobs", "2")
    status = {row["student_id"]: row["status"] for row in gradebook(tmp_path / "out")}
    assert status == {"good": "ok", "nested": "subfolder", "notebook": "bad-notebook", "latin1": "not-utf8",
                      "misnamed": "missing-file", "both": "two-files", "empty": "empty", "corrupt": "corrupt-zip",
                      "bomb": "zip-bomb", "linked": "missing-file; symlink"}
    total = {row["student_id"]: row["total"] for row in gradebook(tmp_path / "out")}
    assert total["good"] == total["nested"] == total["both"] == "20"
    assert total["linked"] == "0"  # a link to the reference earns nothing
    assert all((tmp_path / "out" / "students" / key / "results.json").is_file() for key in status)


def _compute_threads() -> dict:
    """In a worker: the thread count of every compute library it has loaded, after numpy and torch are imported."""
    import numpy  # noqa: F401 - loads OpenBLAS
    import torch
    from threadpoolctl import threadpool_info

    return {"torch": torch.get_num_threads(), **{info["internal_api"]: info["num_threads"] for info in threadpool_info()}}


def test_each_grading_worker_computes_on_one_thread():
    """With --jobs N, N workers share N cores: a BLAS or PyTorch pool per worker asking for every core oversubscribes
    them (and OpenBLAS's waiting threads spin), which made --jobs 2 slower than --jobs 1."""
    import concurrent.futures
    import multiprocessing

    from autograder.grading import one_compute_thread

    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context,
                                                initializer=one_compute_thread) as pool:
        threads = pool.submit(_compute_threads).result(timeout=120)
    assert threads["torch"] == 1 and set(threads.values()) == {1}, threads


def test_grading_one_submission_computes_on_one_thread_beside_its_sandboxes():
    """`course grade` too (and grade-all --jobs 1): the reference and the judges ran a second OpenMP and OpenBLAS
    thread that spun while the sandboxes had the cores, about 1 CPU-s per submission on two."""
    import subprocess

    script = f"""
import sys, tempfile, shutil
from pathlib import Path
sys.path.insert(0, {str(ROOT)!r})
import torch  # already loaded before grading: its pool is set too
torch.set_num_threads(2)  # what a machine with more than one core starts with
from autograder.config import load_course
from autograder.grading import grade_submission, reference_path
from threadpoolctl import threadpool_info

def _compute_threads():
    return {{"torch": torch.get_num_threads(), **{{i["internal_api"]: i["num_threads"] for i in threadpool_info()}}}}

course = load_course(Path({str(ROOT)!r}) / 'course.yml')
gmm = course.exercise('gmm')
folder = Path(tempfile.mkdtemp())
shutil.copy(reference_path({str(ROOT)!r}, 'gmm', gmm.module_name), folder / gmm.student_file)
before = _compute_threads()
result = grade_submission(course, Path({str(ROOT)!r}), folder, ['gmm'], no_isolation=True)
print(result.score == result.max_score, before['torch'] > 1, *set(_compute_threads().values()))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["True", "True", "1"]


def _fake_grade(submission: Submission, options: Options) -> Outcome:
    """Stands in for grading in `_share_out`'s tests: says which process graded; the worker that gets 'doomed' dies.

    This process waits (up to a minute) until a worker has graded one, so both graders surely take part."""
    import multiprocessing

    in_worker = multiprocessing.parent_process() is not None
    flag = options.out / "a-worker-graded-one"
    if in_worker and submission.key == "doomed":
        os._exit(1)  # as when the out-of-memory killer takes a worker
    if in_worker:
        flag.touch()
    else:
        deadline = time.monotonic() + 60
        while not flag.exists() and not (options.out / "no-waiting").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    return Outcome(submission.key, "graded", "ok", "worker" if in_worker else "here")


def _shared_out(tmp_path, keys, no_waiting=False) -> dict:
    from autograder.classroom.runner import _share_out, grading_workers

    if no_waiting:
        (tmp_path / "no-waiting").touch()
    submissions = [Submission(key, (Student(key),), (), "plain", key) for key in keys]
    outcomes = []
    with grading_workers(2) as workers:
        _share_out(submissions, Options(ROOT, tmp_path, ("gmm",)), 2, outcomes.append, workers, grade=_fake_grade)
    return {o.key: (o.state, o.message) for o in outcomes}


def test_grade_all_with_two_jobs_grades_in_this_process_and_in_one_worker(tmp_path):
    """--jobs 2 is this process and one spawned worker, each taking the next submission when it is done."""
    graded = _shared_out(tmp_path, [f"s{i:02d}" for i in range(8)])
    assert sorted(graded) == [f"s{i:02d}" for i in range(8)]
    assert {state for state, _ in graded.values()} == {"graded"}
    assert {who for _, who in graded.values()} == {"here", "worker"}


def test_a_worker_that_dies_costs_its_submission_only_and_this_process_grades_the_rest(tmp_path):
    """The first submission goes to this process, the second ('doomed') to the worker, which dies."""
    graded = _shared_out(tmp_path, ["first", "doomed"] + [f"s{i}" for i in range(5)], no_waiting=True)
    assert graded.pop("doomed")[0] == "failed"
    assert graded == {key: ("graded", "here") for key in ["first"] + [f"s{i}" for i in range(5)]}


def test_the_report_ranks_each_exercises_similarity_in_other_processes_with_the_same_result(single_run, tmp_path,
                                                                                          course):
    """With several exercises and --jobs 2, similarity is ranked in spawned processes while the figures are drawn:
    the page is the one a single process writes."""
    import concurrent.futures
    from pathlib import Path

    from autograder.classroom.report import write_report
    from autograder.classroom.runner import grading_workers

    _, out, _ = single_run
    records = store.read_records([out])
    for record in records:  # a second exercise: each gmm file with its lines reversed, as "flows"
        record["exercises"].append({**next(e for e in record["exercises"] if e["id"] == "gmm"), "id": "flows"})
        gmm, folder = Path(record["folder"]) / "sources" / "gmm.py", tmp_path / "students" / record["key"]
        (folder / "sources").mkdir(parents=True)
        if gmm.is_file():
            (folder / "sources" / "gmm.py").write_text(gmm.read_text())
            (folder / "sources" / "flows.py").write_text("\n".join(reversed(gmm.read_text().splitlines())))
        record["folder"] = str(folder)
    pages = [write_report(ROOT, course, records, tmp_path / f"jobs{jobs}", jobs=jobs).read_text() for jobs in (1, 2)]
    assert pages[0].count("sources compared") == 2 and "<h3>flows" in pages[0]
    assert pages[0] == pages[1]
    with grading_workers(2) as workers:  # grade-all's own workers, then the same with their pool broken
        assert write_report(ROOT, course, records, tmp_path / "workers", workers=workers).read_text() == pages[0]
        with pytest.raises(concurrent.futures.process.BrokenProcessPool):
            workers.submit(os._exit, 1).result()
        assert write_report(ROOT, course, records, tmp_path / "broken", workers=workers).read_text() == pages[0]
