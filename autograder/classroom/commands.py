"""`course grade-all` and `course gradebook`: read the layout, run the batch, write the class outputs."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path

from autograder.classroom import gradebook, layouts, store
from autograder.classroom.runner import Options, course_fingerprint, grading_workers, in_shard, run_batch
from autograder.classroom.similarity import load_copydetect
from autograder.classroom.staging import unpack_zip

MAX_CLASS_BYTES = 8 * 1024**3  # a whole class archive, unpacked
MAX_CLASS_MEMBERS = 200_000


class ClassError(Exception):
    """SUBMISSIONS or OUT cannot be used as given (one line for the user)."""


@contextmanager
def opened_class(path: Path):
    """The class folder: `path` itself, or a downloaded class .zip unpacked into a temporary folder."""
    path = Path(path)
    if path.is_dir():
        yield path
        return
    if not path.is_file() or not zipfile.is_zipfile(path):
        raise ClassError(f"{path} is neither a folder nor a .zip of submissions")
    folder = Path(tempfile.mkdtemp(prefix="course-class-"))
    try:
        fatal = [message for code, message in unpack_zip(path, folder, MAX_CLASS_MEMBERS, MAX_CLASS_BYTES, 10_000)
                 if code in ("corrupt-zip", "zip-bomb")]
        if fatal:
            raise ClassError(fatal[0])
        items = list(folder.iterdir())
        yield items[0] if len(items) == 1 and items[0].is_dir() else folder  # a single wrapping folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def expected_files(course) -> list[str]:
    return [name for e in course.exercises for name in (e.student_file, e.module_name + ".ipynb")]


def grade_all(root: Path, course, source: Path, out: Path, *, jobs: int, exercise_ids, layout=None, shard=None,
              regrade=False, device="cpu", quiet=False) -> int:
    """Grade a class into `out`; build the gradebook and report unless this is one shard of several."""
    exercise_ids = tuple(exercise_ids or [e.id for e in course.exercises])
    out = Path(out).resolve()
    with opened_class(source) as folder, grading_workers(jobs) as workers:
        try:
            layout = layout or layouts.detect(folder)
            submissions = layouts.read(folder, layout, expected_files(course), course.timezone)
        except layouts.LayoutError as exc:
            raise ClassError(str(exc)) from None
        mine = [s for s in submissions if in_shard(s.key, shard)]
        options = Options(Path(root), out, exercise_ids, device, regrade,
                          course_fingerprint(Path(root), course, exercise_ids, device))
        out.mkdir(parents=True, exist_ok=True)
        where = f", shard {shard[0]}/{shard[1]}" if shard else ""
        if not quiet:
            print(f"{len(submissions)} submissions ({layout} layout) in {source}{where}: grading {len(mine)} "
                  f"with {jobs} job{'s' if jobs != 1 else ''}, exercises {', '.join(exercise_ids)}", file=sys.stderr)
        report_follows = not (shard and shard[1] > 1)
        outcomes = run_batch(mine, options, jobs, quiet, workers, then=load_copydetect if report_follows else None)
        kept = sum(o.state == "kept" for o in outcomes)
        failed = [o for o in outcomes if o.state == "failed"]
        if not quiet and kept:
            print(f"{kept} unchanged since the last run (kept; --regrade grades them again)", file=sys.stderr)
        if not report_follows:
            if not quiet:
                print(f"shard {shard[0]}/{shard[1]} done: results in {out}/students/; when every shard is done, "
                      f"run `course gradebook {out} ...` to build the gradebook and report")
            return 1 if failed else 0
        build(root, course, [out], out, quiet=quiet, only={s.key for s in submissions}, jobs=jobs, workers=workers)
    return 1 if failed else 0


def build(root: Path, course, outs, target: Path, quiet=False, only=None, jobs: int = 1, workers=None) -> list[dict]:
    """gradebook.csv, canvas_import.csv and report.html in `target`, from the records in `outs` (the report's
    similarity ranked in `workers` or up to `jobs` processes: `write_report`).

    `only`: keys to include (grade-all passes the class it just read, so students removed from the
    download since an earlier run are left out); None takes every record.
    """
    from autograder.classroom.report import write_report

    records = store.read_records(outs)
    if only is not None:
        records = [r for r in records if r["key"] in only]
    if not records:
        raise ClassError(f"no graded submissions in {', '.join(map(str, outs))}")
    target = Path(target)
    store.atomic_write(target / "gradebook.csv", gradebook.gradebook_csv(course, records))
    store.atomic_write(target / "canvas_import.csv", gradebook.canvas_csv(course, records))
    report = write_report(root, course, records, target, jobs, workers)
    if not quiet:
        print(gradebook.summary(course, records))
        print(f"gradebook: {target / 'gradebook.csv'} (Canvas import: {target / 'canvas_import.csv'})")
        print(f"report:    {report}")
        print(f"feedback:  {target / store.STUDENTS}/<student>/feedback.html")
    return records


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
