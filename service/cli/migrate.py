"""`run.py migrate --database URL`: create or upgrade the schema; applies only what is missing."""

from __future__ import annotations

import argparse
import asyncio

from adapters.store.factory import migrate_url
from adapters.store.url import parse_database_url
from service.cli.database_option import add_database_argument, guarded


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("migrate", help="create or upgrade the database schema (safe to repeat)")
    add_database_argument(parser)
    parser.set_defaults(handler=guarded(run_migrate))


def run_migrate(args: argparse.Namespace) -> int:
    where = parse_database_url(args.database).redacted()
    applied = asyncio.run(migrate_url(args.database))
    if applied:
        print(f"{where}: applied {', '.join(applied)}")
    else:
        print(f"{where}: schema is up to date")
    return 0
