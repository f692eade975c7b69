"""Applies the numbered migrations of `sql/<dialect>/` that a database lacks; safe to run twice, and at once.

Owns the `schema_version` ledger: a migration is recorded after its last statement. Concurrent migrators (two
replicas starting through two nodes of a Galera cluster too) are serialised by the migration lock
(`migration_lock`): the holder reads what is applied only once it holds it, and checks it at the start of each
migration's transaction. On SQLite each migration and its record are one transaction. MySQL commits DDL
implicitly (the lock's check commits with the migration's first statement), so a migration there is written to
survive running again where MySQL allows it (CREATE TABLE IF NOT EXISTS with inline indexes), and a migration whose
statements ran is recorded, even by a holder that lost the lock meanwhile: they did run.
"""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.store.migration_lock import MigrationLock
from adapters.store.repository import Database
from adapters.store.sql_loader import load_migrations


async def migrate(database: Database, lock: MigrationLock | None = None) -> list[str]:
    """Apply what is missing, holding the migration lock (`lock`, default one of this process's own); the names
    of the migrations applied now (empty when up to date, as for a migrator that waited for another)."""
    lock = lock or MigrationLock(database)
    applied_now: list[str] = []
    async with lock.held():
        async with database.transaction() as tx:
            await tx.execute("migrations/create_schema_version")
            applied = {row["version"] for row in await tx.fetch_all("migrations/applied")}
        for migration in load_migrations(database.dialect):
            if migration.version in applied:
                continue
            async with database.transaction() as tx:
                await lock.hold(tx)
                for number, statement in enumerate(migration.statements, start=1):
                    await tx.execute_ddl(statement, f"{migration.name} statement {number}")
                await tx.execute("migrations/record", (migration.version, migration.name, datetime.now(UTC)))
            applied_now.append(migration.name)
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
