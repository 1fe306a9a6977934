"""The full `course audit` of every exercise (or those named): a Markdown table for docs/audit.md.

    .venv/bin/python bench/audit.py                      # every exercise in course.yml
    .venv/bin/python bench/audit.py gmm vae --json out/  # some, with each report as JSON too
    .venv/bin/python bench/audit.py dcgan --limit 40     # a random 40 of the mutants (--seed picks which)

Every mutant of each reference is graded (minutes per exercise on a 2-core CPU); `make test` runs only a
small sample (tests/test_audit.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.audit.report import run_audit, write_json  # noqa: E402
from autograder.config import load_course  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exercises", nargs="*", help="exercise ids (default: all)")
    parser.add_argument("--with-training", action="store_true", help="also run the training smoke tests")
    parser.add_argument("--json", metavar="FOLDER", help="write <exercise>.json reports here")
    parser.add_argument("--limit", type=int, help="grade a random sample of this many mutants per exercise")
    parser.add_argument("--seed", type=int, default=0, help="which sample --limit takes")
    args = parser.parse_args()
    course = load_course(ROOT / "course.yml")
    exercises = [course.exercise(i) for i in args.exercises] if args.exercises else list(course.exercises)
    rows = []
    for exercise in exercises:
        started = time.perf_counter()
        report = run_audit(ROOT, exercise, limit=args.limit, seed=args.seed, with_training=args.with_training)
        minutes = (time.perf_counter() - started) / 60
        print(report.render(), file=sys.stderr, flush=True)
        if args.json:
            Path(args.json).mkdir(parents=True, exist_ok=True)
            write_json(report, Path(args.json) / f"{exercise.id}.json")
        alternatives = f"{sum(not g.killed for g in report.alternatives.values())}/{len(report.alternatives)}"
        rows.append(f"| `{exercise.id}` | {len(report.graded)} | {len(report.equivalent)} | {len(report.killed)} | "
                    f"{len(report.survivors)} | {report.kill_rate:.1%} | {report.specific_share:.1%} | "
                    f"{alternatives} | {minutes:.1f} |")
    print("| exercise | mutants | equivalent | killed | survivors | kill rate | specific feedback | "
          "alternatives full marks | minutes |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
