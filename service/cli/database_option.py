"""The `--database URL` option shared by the storage commands, and running one store call to completion.

Default: $MONITOR_DATABASE_URL, else sqlite:///monitor.db. Failures print a one-line message that never
contains a password (DatabaseUrl.redacted), and exit with status 1; so does a database without the schema
(a SQLite file that does not exist, which is not created, or one that lacks migrations), naming the command
that creates it, `python3 run.py migrate`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from adapters.store.factory import connect_store
from adapters.store.migrations import missing_migrations
from adapters.store.repository import SqlStore
from adapters.store.sql_loader import load_migrations
from adapters.store.url import DATABASE_URL_ENV, DEFAULT_DATABASE_URL, DatabaseUrlError, parse_database_url
from domain.errors import AdapterError

T = TypeVar("T")

MIGRATE_FIRST = f"run `python3 run.py migrate` first (with the same --database or ${DATABASE_URL_ENV})"


class SchemaMissing(Exception):
    """The database has not been migrated (fully) by this version; the message says what to run."""


def add_database_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        default=os.environ.get(DATABASE_URL_ENV, DEFAULT_DATABASE_URL),
        metavar="URL",
        help=f"mysql://user:pass@host:port/db or sqlite:///file.db (default: ${DATABASE_URL_ENV}, "
        f"else {DEFAULT_DATABASE_URL})",
    )


def add_action(actions: argparse._SubParsersAction, name: str, help_text: str,
               handler: Callable[[argparse.Namespace], int], *arguments: str) -> argparse.ArgumentParser:
    """The sub-command `name`: its positional `arguments`, `--database`, and `handler` run `guarded`."""
    command = actions.add_parser(name, help=help_text)
    for argument in arguments:
        command.add_argument(argument)
    add_database_argument(command)
    command.set_defaults(handler=guarded(handler))
    return command


def fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def run_with_store(url: str, work: Callable[[SqlStore], Awaitable[T]]) -> T:
    """Open the store at `url`, check it has the whole schema, run `work` on it, close it; AdapterError, URL
    errors and SchemaMissing propagate."""
    where = parse_database_url(url)
    if where.dialect == "sqlite" and where.database != ":memory:" and not Path(where.database).exists():
        raise SchemaMissing(f"{where.redacted()}: no such file; {MIGRATE_FIRST}")

    async def main() -> T:
        store = await connect_store(url)
        try:
            missing = await missing_migrations(store.database)
            if missing:
                raise SchemaMissing(_lacking(where.redacted(), missing, store.database.dialect))
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(main())


def run_for_user(url: str, name: str, work: Callable[[SqlStore, int], Awaitable[object]]) -> bool:
    """Run `work(store, user_id)` for the user called `name`; False when there is no such user."""

    async def for_user(store: SqlStore) -> bool:
        user_id = await store.user_id(name)
        if user_id is None:
            return False
        await work(store, user_id)
        return True

    return run_with_store(url, for_user)


def guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn an expected failure (bad URL, database error) into a message and exit status 1."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except (AdapterError, DatabaseUrlError, SchemaMissing) as exc:
            return fail(str(exc))

    return run


def _lacking(where: str, missing: list[str], dialect: str) -> str:
    if len(missing) == len(load_migrations(dialect)):
        return f"{where} has no schema yet (no migration applied): {MIGRATE_FIRST}"
    return f"{where} lacks the migrations {', '.join(missing)}: {MIGRATE_FIRST}"
