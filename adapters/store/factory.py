"""Builds the store from a database URL: MySQL (aiomysql pool) or SQLite (embedded), and runs migrations.

Owns the choice of adapter only; `run.py` and the CLI call `connect_store(url)` on the running loop
(the pool lives there) and `close()` at shutdown. `open_event_log_database` gives the event log its own
MySQL pool beside the store's; with SQLite the event log shares the store's one connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from adapters.store.account_secrets import seal_clear, secrets_state
from adapters.store.migrations import migrate
from adapters.store.mysql import MySqlDatabase
from adapters.store.repository import Database, SqlStore
from adapters.store.secrets import Keyring, keyring_from_env
from adapters.store.sqlite import SqliteDatabase
from adapters.store.url import parse_database_url


async def open_database(url: str, *, timeout_s: float = 30.0, pool_size: int = 10) -> Database:
    parsed = parse_database_url(url)
    if parsed.dialect == "mysql":
        return await MySqlDatabase.connect(parsed, pool_size=pool_size, timeout_s=timeout_s)
    return await SqliteDatabase.open(parsed)


async def connect_store(
    url: str, *, timeout_s: float = 30.0, pool_size: int = 10, owner: str | None = None,
    keyring: Keyring | None = None,
) -> SqlStore:
    """The store for `url`; `timeout_s` bounds every MySQL statement, so no caller hangs on the database.
    `owner` names this process in replica leases (default: host, pid and a random part). `keyring` seals
    and opens the broker secrets (default: the one MONITOR_SECRET_KEY and friends give, if any)."""
    keyring = keyring or keyring_from_env()
    return SqlStore(await open_database(url, timeout_s=timeout_s, pool_size=pool_size), owner=owner,
                    keyring=keyring)


async def migrate_url(url: str) -> list[str]:
    """Apply the missing migrations to the database at `url`; the names applied now. Seals nothing."""
    return (await upgrade_url(url, None)).applied


@dataclass(frozen=True)
class Upgrade:
    """What `upgrade_url` did: the migrations applied now, the secrets it sealed that were in clear, and how
    many are left in clear (because no key was given)."""

    applied: list[str]
    sealed: int
    left_in_clear: int


async def upgrade_url(url: str, keyring: Keyring | None) -> Upgrade:
    """Apply the missing migrations, then, with a keyring, seal the broker secrets still stored in clear
    (written before migration 010) under its current key: the migration `migrate` and `serve` run."""
    database = await open_database(url)
    try:
        applied = await migrate(database)
        sealed = await seal_clear(database, keyring, datetime.now(UTC)) if keyring is not None else 0
        return Upgrade(applied, sealed, (await secrets_state(database)).clear)
    finally:
        await database.close()


async def open_event_log_database(
    url: str, store_database: Database, *, timeout_s: float = 30.0, pool_size: int = 2
) -> Database:
    """The database the event log writes through. MySQL: a pool of its own (`pool_size` connections), so
    cycles holding every store connection never hold up the event log. SQLite: `store_database` itself;
    SQLite has one writer, and a second connection to the file would turn waiting in line into "database is
    locked" failures after the busy timeout (and to `:memory:` it would open another, empty database)."""
    if store_database.dialect == "mysql":
        return await open_database(url, timeout_s=timeout_s, pool_size=pool_size)
    return store_database
