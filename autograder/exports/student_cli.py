"""The `course` command of the student bundle: `course check EXERCISE [PATH]`, nothing else.

The bundle ships the few engine modules this needs (cli, config, paths, public), never the
hidden checks, so the other commands of the instructor's `course` do not exist here.
"""

from __future__ import annotations

import argparse
import sys

from autograder import cli

MODULES = ("autograder/__init__.py", "autograder/cli.py", "autograder/config.py", "autograder/paths.py",
           "autograder/public.py", "autograder/exports/__init__.py", "autograder/exports/student_cli.py")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description="Public checks of the course's exercises.")
    parser.set_defaults(course=None)  # the course is the bundle this command was installed from
    add = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cli.add_check_command(add)
    return parser


def main(argv=None) -> int:
    return cli.main(argv, build_parser())


if __name__ == "__main__":
    sys.exit(main())
