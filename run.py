#!/usr/bin/env python3
"""The single entry point: `python3 run.py <command>`. Installs what it needs on first use (bootstrap.py).

Sub-commands live in service/cli/, one module each; `python3 run.py --help` lists them.
"""

from __future__ import annotations

import sys

from bootstrap import ensure_environment


def main(argv: list[str] | None = None) -> int:
    from service.cli import build_parser

    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "accepts_extra_args", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra_args = extra
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    return args.handler(args) or 0


if __name__ == "__main__":
    ensure_environment()
    sys.exit(main())
