"""`run.py migrate --database URL`: create or upgrade the schema; applies only what is missing. With
MONITOR_SECRET_KEY (or its file) set, it also seals the broker secrets left in clear from before migration 010;
without one it says how many are left and how to seal them."""

from __future__ import annotations

import argparse
import asyncio
import sys

from adapters.store.factory import upgrade_url
from adapters.store.secrets import KEY_ENV, keyring_from_env
from adapters.store.url import parse_database_url
from service.cli.database_option import add_database_argument, guarded


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("migrate", help="create or upgrade the database schema (safe to repeat)")
    add_database_argument(parser)
    parser.set_defaults(handler=guarded(run_migrate))


def run_migrate(args: argparse.Namespace) -> int:
    where = parse_database_url(args.database).redacted()
    keyring = keyring_from_env()
    upgrade = asyncio.run(upgrade_url(args.database, keyring))
    if upgrade.applied:
        print(f"{where}: applied {', '.join(upgrade.applied)}")
    else:
        print(f"{where}: schema is up to date")
    if upgrade.sealed and keyring is not None:
        print(f"{where}: sealed {upgrade.sealed} broker secret(s) stored in clear under key {keyring.current_id}")
    if upgrade.left_in_clear:
        print(f"{where}: {upgrade.left_in_clear} broker secret(s) are stored in clear; run migrate again with "
              f"{KEY_ENV} set to seal them (serve refuses to start until they are)", file=sys.stderr)
    return 0
