"""Applies the numbered migrations of `sql/<dialect>/` that a database lacks; safe to run twice.

Owns the `schema_version` ledger: a migration is recorded after its last statement. On SQLite the whole
run is one transaction. MySQL commits DDL implicitly, so each migration there is written to be re-runnable
(CREATE TABLE IF NOT EXISTS with inline indexes) and concurrent migrators are serialised by GET_LOCK.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from adapters.store.repository import Database
from adapters.store.sql_loader import load_migrations
from domain.errors import DatabaseError


async def migrate(database: Database) -> list[str]:
    """Apply what is missing; the names of the migrations applied now (empty when up to date)."""
    applied_now: list[str] = []
    async with database.transaction() as tx:
        locked = await tx.fetch_all("migrations/lock")
        if not locked or locked[0]["locked"] != 1:
            raise DatabaseError("another migration is running; try again when it has finished")
        try:
            await tx.execute("migrations/create_schema_version")
            applied = {row["version"] for row in await tx.fetch_all("migrations/applied")}
            for migration in load_migrations(database.dialect):
                if migration.version in applied:
                    continue
                for number, statement in enumerate(migration.statements, start=1):
                    await tx.execute_ddl(statement, f"{migration.name} statement {number}")
                await tx.execute("migrations/record", (migration.version, migration.name, datetime.now(UTC)))
                applied_now.append(migration.name)
        except BaseException:
            with contextlib.suppress(DatabaseError):
                await tx.fetch_all("migrations/unlock")
            raise
        await tx.fetch_all("migrations/unlock")
    return applied_now


async def missing_migrations(database: Database) -> list[str]:
    """The names of the migrations the database lacks (every one for an empty database); changes nothing."""
    async with database.transaction() as tx:
        has_ledger = bool(await tx.fetch_all("migrations/ledger_exists"))
        applied = {row["version"] for row in await tx.fetch_all("migrations/applied")} if has_ledger else set()
    return [migration.name for migration in load_migrations(database.dialect) if migration.version not in applied]


async def schema_version(database: Database) -> int:
    """The highest migration applied (0 for an empty database)."""
    async with database.transaction() as tx:
        await tx.execute("migrations/create_schema_version")
        versions = [row["version"] for row in await tx.fetch_all("migrations/applied")]
    return max(versions, default=0)
