"""The `course` command line.

    course validate                      check course.yml against its schema
    course grade SUBMISSION [...]        grade a submission, write Gradescope results
    course check EXERCISE [PATH]         public checks only, for students
    course audit EXERCISE [--limit N]    mutation-test the hidden checks against the reference
    course grade-all SUBMISSIONS -o OUT  grade a class: results, feedback pages, gradebook, report
    course gradebook OUT [OUT2 ...]      gradebook and report from grade-all output folders (shards)
    course stubs [--check]               regenerate exercise stubs from solutions
    course build [--output DIR] [--pdf] [--solutions]  build the lecture site
    course lecture-counts [--update FILE]  slides, words and problems per lecture
    course release OUT                   the student bundle, leak-checked
    course export gradescope|otter|nbgrader OUT   the course for Gradescope / otter-grader / nbgrader
    course demo                          validate, grade the reference and a flawed sample
    course sandbox-python PREFIX         build an interpreter the fallback sandbox's users can run

Exit status: 0 when the command did its job (whatever a submission scored);
2 for a bad command line or unreadable input; 1 when a check the command runs fails.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path

from autograder.config import ConfigError, load_course
from autograder.paths import course_root


class UsageError(Exception):
    """A bad command line or input: reported in one line, exit 2."""


def _course(args):
    root = Path(args.course).resolve() if args.course else course_root()
    return root, load_course(root / "course.yml")


def cmd_validate(args) -> int:
    root, course = _course(args)
    from autograder.checking import load_checks

    problems = []
    for exercise in course.exercises:
        try:
            load_checks(exercise.id).probe_names()
            names = {check.name for check in load_checks(exercise.id).checks}
            problems += [f"exercise {exercise.id!r}: check_visibility names no check of it: {name!r}"
                         for name in exercise.check_visibility if name not in names]
        except ModuleNotFoundError:
            problems.append(f"exercise {exercise.id!r} has no hidden checks (autograder/checks/{exercise.id}/checks.py)")
        if not (root / "solutions" / exercise.id / exercise.student_file).is_file():
            problems.append(f"exercise {exercise.id!r} has no reference solutions/{exercise.id}/{exercise.student_file}")
    for lecture in course.lectures:
        if not (root / lecture.folder).is_dir():
            problems.append(f"lecture {lecture.id!r}: folder {lecture.folder} does not exist")
    if problems:
        raise UsageError(f"{root / 'course.yml'}: " + "; ".join(problems))
    print(f"{root / 'course.yml'}: OK — {course.title} ({course.term}), "
          f"{len(course.lectures)} lectures, {len(course.exercises)} exercises, "
          f"{sum(e.points for e in course.exercises):g} points")
    return 0


def _device(name: str) -> str:
    if name == "auto":
        if not os.path.exists("/dev/nvidiactl"):  # no NVIDIA driver: skip importing torch (~1.4 s)
            return "cpu"
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise UsageError("--device cuda was asked for, but no CUDA device is available")
    return name


def _timestamp(text: str):
    import datetime as dt

    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date and time: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a UTC offset, e.g. {text}+01:00")
    return value


def _check_exercises(course, exercise_ids) -> None:
    for exercise_id in exercise_ids or []:
        try:
            course.exercise(exercise_id)
        except KeyError as exc:
            raise UsageError(exc.args[0]) from None


def cmd_grade(args) -> int:
    from autograder import report
    from autograder.grading import grade_submission
    from autograder.isolation import IsolationRefused
    from autograder.submission import SubmissionError

    root, course = _course(args)
    _check_exercises(course, args.exercise)
    submission = Path(args.submission)
    if not submission.exists():
        raise UsageError(f"no such submission: {submission}")
    device = _device(args.device)

    def progress(exercise):
        if not args.quiet:
            print(f"grading {exercise.id} ...", file=sys.stderr, flush=True)

    try:
        result = grade_submission(course, root, submission, args.exercise, device, progress, args.submitted_at,
                                  no_isolation=args.no_isolation)
    except (SubmissionError, IsolationRefused) as exc:
        raise UsageError(str(exc)) from None
    result.write(args.output)
    if not args.quiet:
        print(report.render(result))
        print(f"results written to {args.output}")
    return 0


def cmd_grade_all(args) -> int:
    from autograder.classroom.commands import ClassError, grade_all
    from autograder.classroom.runner import parse_shard

    root, course = _course(args)
    _check_exercises(course, args.exercise)
    try:
        shard = parse_shard(args.shard) if args.shard else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    source = Path(args.submissions)
    if not source.exists():
        raise UsageError(f"no such folder or file: {source}")
    try:
        return grade_all(root, course, source, Path(args.output_dir), jobs=args.jobs or _default_jobs(),
                         exercise_ids=args.exercise, layout=args.layout, shard=shard, regrade=args.regrade,
                         device=_device(args.device), quiet=args.quiet)
    except ClassError as exc:
        raise UsageError(str(exc)) from None


def _default_jobs() -> int:
    from autograder.classroom.commands import default_jobs

    return default_jobs()


def cmd_gradebook(args) -> int:
    from autograder.classroom.commands import ClassError, build

    root, course = _course(args)
    outs = [Path(out) for out in args.outputs]
    for out in outs:
        if not out.is_dir():
            raise UsageError(f"no such output folder: {out}")
    try:
        build(root, course, outs, Path(args.output_dir) if args.output_dir else outs[0], jobs=_default_jobs())
    except ClassError as exc:
        raise UsageError(str(exc)) from None
    return 0


def _named_exercise(course, exercise_id: str):
    """The exercise `exercise_id` of `course`, or a UsageError that lists the ids there are."""
    try:
        return course.exercise(exercise_id)
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None


def cmd_check(args) -> int:
    from autograder.public import NothingToCheck, file_to_check, run_public_checks

    root, course = _course(args)
    exercise = _named_exercise(course, args.exercise)
    try:
        path, why = file_to_check(root, exercise, args.path, Path.cwd())
    except NothingToCheck as exc:
        raise UsageError(str(exc)) from None
    return run_public_checks(root, exercise, path, why)


def cmd_audit(args) -> int:
    from tqdm import tqdm

    from autograder.audit.report import run_audit, write_json

    root, course = _course(args)
    exercise = _named_exercise(course, args.exercise)

    def progress(items, what):
        return tqdm(items, desc=f"{exercise.id}: {what}", unit="mutant", file=sys.stderr, disable=args.quiet)

    report = run_audit(root, exercise, limit=args.limit, seed=args.seed, with_training=args.with_training,
                       timeout_s=args.timeout, progress=progress)
    print(report.render())
    if args.json:
        write_json(report, Path(args.json))
    return 0 if report.passed else 1


def cmd_stubs(args) -> int:
    from autograder.stubgen import generate

    root, _ = _course(args)
    stale = generate(root, check_only=args.check)
    for path in stale:
        print(f"{'out of date' if args.check else 'wrote'}: {path.relative_to(root)}")
    if args.check and stale:
        print("run `course stubs` to regenerate them from solutions/", file=sys.stderr)
        return 1
    if not stale:
        print("all stubs match their solutions")
    return 0


def cmd_build(args) -> int:
    from autograder.site.build import build_site

    root, course = _course(args)
    return build_site(root, course, Path(args.output), pdf=args.pdf, solutions=args.solutions)


def cmd_lecture_counts(args) -> int:
    from autograder.site.counts import counts_table, with_counts

    root, course = _course(args)
    table = counts_table(root, course)
    if not args.update:
        print(table)
        return 0
    document = Path(args.update)
    try:
        updated = with_counts(document.read_text(encoding="utf-8"), table)
    except (OSError, ValueError) as error:
        raise UsageError(f"{document}: {error}") from None
    document.write_text(updated, encoding="utf-8")
    print(f"updated the lecture counts in {document}")
    return 0


def cmd_release(args) -> int:
    from autograder.exports.leakcheck import LeakError
    from autograder.exports.release import ReleaseError, build_release

    root, course = _course(args)
    try:
        release = build_release(root, course, Path(args.out), site=not args.no_site, force=args.force)
    except ReleaseError as exc:
        raise UsageError(str(exc)) from None
    except LeakError as exc:
        print(f"course release: {exc}", file=sys.stderr)
        return 1
    print(f"released {release.files} files to {release.path}; leak check passed "
          f"({release.secrets_checked} answer regions and hidden checks looked for)")
    return 0


def _exercises(course, names):
    _check_exercises(course, names)
    return [course.exercise(name) for name in names] if names else list(course.exercises)


def cmd_export(args) -> int:
    root, course = _course(args)
    exercises = _exercises(course, args.exercise)
    out = Path(args.out)
    if args.target == "otter":
        from autograder.exports.otter import export_otter
        from autograder.exports.requirements import declared

        masters = export_otter(root, course, out, exercises, declared(root))
        print(f"wrote {len(masters)} otter master notebook(s) to {out}; next: see {out / 'README.md'}")
    elif args.target == "gradescope":
        from autograder.exports.gradescope import export_gradescope

        try:
            zips = export_gradescope(root, course, out, exercises, per_exercise=args.per_exercise,
                                     due_dates=args.due_dates, cuda=args.cuda)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        print(f"wrote {len(zips)} Gradescope autograder zip(s): {', '.join(str(z) for z in zips)}")
    elif args.target == "nbgrader":
        from autograder.exports.nbgrader import export_nbgrader

        export_nbgrader(root, course, out, exercises)
        print(f"wrote the nbgrader course directory {out} ({len(exercises)} assignment(s)); next: see {out / 'README.md'}")
    return 0


def cmd_demo(args) -> int:
    from autograder import demo

    root, course = _course(args)
    return demo.run(root, course, args)


def cmd_sandbox_python(args) -> int:
    from autograder.sandbox_python import prepare

    _, course = _course(args)
    banned = sorted({module for exercise in course.exercises for module in exercise.banned_imports})
    python = prepare(Path(args.prefix), banned)
    print(f"built {python}; grade with COURSE_SANDBOX_PYTHON={python}")
    return 0


def add_check_command(commands) -> None:
    """`course check`: also the whole command line of the student bundle (autograder.exports.student_cli)."""
    p = commands.add_parser("check", help="run an exercise's public checks on your file")
    p.add_argument("exercise", help="exercise id, e.g. gmm")
    p.add_argument("path", nargs="?", help="your .py or .ipynb file, or its folder (default: the exercise's file in "
                                           "the current folder)")
    p.set_defaults(func=cmd_check)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description="genmodels-course: lectures, exercises and an autograder.")
    parser.add_argument("--course", help="folder holding course.yml (default: found from the current folder)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("validate", help="check course.yml against its schema")
    p.set_defaults(func=cmd_validate)

    p = commands.add_parser("grade", help="grade a submission and write Gradescope results")
    p.add_argument("submission", help="a folder or .zip holding <exercise>.py or <exercise>.ipynb files")
    p.add_argument("--exercise", action="append", metavar="NAME", help="grade only this exercise (repeatable)")
    p.add_argument("--output", default="results.json", help="results file (default: results.json)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="where training smoke tests run")
    p.add_argument("--submitted-at", type=_timestamp, metavar="ISO",
                   help="when it was submitted (e.g. 2026-12-05T10:00:00+01:00): applies each exercise's late policy")
    p.add_argument("--quiet", action="store_true", help="print nothing; just write the results file")
    p.add_argument("--no-isolation", action="store_true",
                   help="run student code as your own user, without a sandbox: only for your own code (the results say so)")
    p.set_defaults(func=cmd_grade)

    p = commands.add_parser("grade-all", help="grade a whole class: per-student results and feedback, gradebook, report")
    p.add_argument("submissions", help="a folder (or .zip) of submissions: one folder/.zip per student, a Gradescope "
                                       "export, a Canvas download or nbgrader's submitted/ folder")
    p.add_argument("--output-dir", "-o", required=True, metavar="OUT", help="where results, pages and the gradebook go")
    p.add_argument("--jobs", "-j", type=int, metavar="N", help="submissions graded at once (default: the number of cores)")
    p.add_argument("--exercise", action="append", metavar="NAME", help="grade only this exercise (repeatable)")
    p.add_argument("--layout", choices=("plain", "gradescope", "canvas", "nbgrader"), help="the layout, when detection is ambiguous")
    p.add_argument("--shard", metavar="I/N", help="grade only shard I of N (1-based), e.g. one task of a cluster job array")
    p.add_argument("--regrade", action="store_true", help="grade again even when nothing changed since the last run")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="where training smoke tests run")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=cmd_grade_all)

    p = commands.add_parser("gradebook", help="build the gradebook and report from grade-all output folders (e.g. shards)")
    p.add_argument("outputs", nargs="+", metavar="OUT", help="grade-all output folders")
    p.add_argument("--output-dir", "-o", metavar="DIR", help="where to write them (default: the first OUT)")
    p.set_defaults(func=cmd_gradebook)

    add_check_command(commands)

    p = commands.add_parser("audit", help="mutation-test an exercise's hidden checks against its reference")
    p.add_argument("exercise", help="exercise id, e.g. gmm")
    p.add_argument("--limit", type=int, metavar="N", help="grade a random N of the mutants (default: all)")
    p.add_argument("--seed", type=int, default=0, help="which random N (default: 0)")
    p.add_argument("--with-training", action="store_true", help="also run the training smoke tests (slow)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to grade one mutant (default: 120)")
    p.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_audit)

    p = commands.add_parser("stubs", help="regenerate exercise stubs from solutions/")
    p.add_argument("--check", action="store_true", help="only report stubs that are out of date (exit 1 if any)")
    p.set_defaults(func=cmd_stubs)

    p = commands.add_parser("build", help="build the lecture site (offline HTML)")
    p.add_argument("--output", default="site", help="output folder (default: site)")
    p.add_argument("--pdf", action="store_true", help="also export each lecture's slides to PDF")
    p.add_argument("--solutions", action="store_true",
                   help="instructor edition: add each lecture's worked solutions (never publish this build)")
    p.set_defaults(func=cmd_build)

    p = commands.add_parser("lecture-counts", help="slides, words and problems per lecture (a Markdown table)")
    p.add_argument("--update", metavar="FILE", help="write the table between the lecture-counts markers of FILE "
                   "(docs/lectures.md) instead of printing it")
    p.set_defaults(func=cmd_lecture_counts)

    p = commands.add_parser("release", help="build the student bundle (no solutions, no hidden checks), leak-checked")
    p.add_argument("out", help="output folder, or a .zip file")
    p.add_argument("--no-site", action="store_true", help="leave out the lecture site (faster)")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    p.set_defaults(func=cmd_release)

    p = commands.add_parser("export", help="export the course to Gradescope, otter-grader or nbgrader")
    targets = p.add_subparsers(dest="target", required=True, metavar="TARGET")
    for target, description in (("gradescope", "a Gradescope autograder zip that grades with this course's grader"),
                                ("otter", "one otter-assign master notebook per exercise (otter-grader 7)"),
                                ("nbgrader", "an nbgrader course directory (nbgrader 0.9)")):
        t = targets.add_parser(target, help=description)
        t.add_argument("out", help="output .zip (gradescope) or folder")
        t.add_argument("--exercise", action="append", metavar="NAME", help="export only this exercise (repeatable)")
        t.set_defaults(func=cmd_export)
        if target == "gradescope":
            t.add_argument("--per-exercise", action="store_true", help="one zip (assignment) per exercise in folder OUT")
            t.add_argument("--due-dates", choices=("course", "gradescope"), default="course",
                           help="late policy against course.yml's due dates (default) or the Gradescope assignment's")
            t.add_argument("--cuda", action="store_true", help="install torch with CUDA (default: a CPU build)")

    p = commands.add_parser("demo", help="validate the course, grade the reference and a flawed sample")
    p.add_argument("--no-site", action="store_true", help="skip building the lecture site")
    p.set_defaults(func=cmd_demo)

    p = commands.add_parser("sandbox-python", help="build an interpreter the fallback sandbox's users can run (root)")
    p.add_argument("prefix", help="a new folder under a world-readable path, e.g. /opt/course-python")
    p.set_defaults(func=cmd_sandbox_python)
    return parser


def main(argv=None, parser=None) -> int:
    parser = parser or build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (UsageError, ConfigError) as exc:
        message = str(exc)
        print(f"course {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def console() -> int:
    """`.venv/bin/course`: `main`, then an exit that does not walk every object PyTorch made.

    The interpreter's last collections cost ~0.6 s once PyTorch is imported; frozen objects are left to the
    operating system. Nothing is lost: files are closed and atexit handlers run as before.
    """
    code = main()
    gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(console())
