"""`run.py test [PYTEST ARGS]`: run the test suite (README's test command) inside the project venv."""

from __future__ import annotations

import argparse
import os
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("test", help="run the test suite (extra arguments go to pytest)")
    parser.set_defaults(handler=run_tests, accepts_extra_args=True)


def run_tests(args: argparse.Namespace) -> int:
    os.execv(sys.executable, [sys.executable, "-m", "pytest", *args.extra_args])
