"""The migration lock: one row that every migrator writes, so that two `migrate` runs never apply migrations at
once, on one server, on SQLite, or through different nodes of a Galera cluster.

Owns the `schema_migration_lock` table (created if missing before the lock is taken) and its one row, a lease:
an owner, a fencing token one more at each take, and an expiry. Taking it writes the row (two takes through two
nodes conflict, 1213, and the loser reads again); GET_LOCK and SELECT ... FOR UPDATE would lock on one
node only. The lock is taken, renewed and released by short committed transactions, never held by an open one,
because MySQL's DDL commits the transaction it runs in. The holder renews it in the background while it migrates
and checks it (`hold`) in each migration's own transaction, so a holder that stalled past the expiry and lost the
lock stops before its next migration. A migrator that finds the lock held waits for it (up to `wait_s`, then
fails naming the holder); a holder that died leaves the lock to expire `ttl_s` after its last renewal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from adapters.store.lease_owner import process_owner
from adapters.store.port import Transaction
from adapters.store.repository import RELEASED, Database
from domain.errors import DatabaseError, TransactionAborted

log = logging.getLogger(__name__)

LOCK_TTL_S = 30.0
"""How long a take or a renewal holds the lock: how long a migrator killed while holding it keeps the next one
waiting, and how long a holder may stall (renewals included) before another may take the lock over."""
WAIT_S = 300.0
"""How long a migrator waits for a lock another one holds before it gives up."""
POLL_S = 0.5
"""How often a waiting migrator tries the lock again."""


class MigrationLockBusy(DatabaseError):
    """Another migrator held the migration lock for as long as this one waits: nothing was applied."""


class MigrationLockLost(DatabaseError):
    """The migration lock was taken over (this migrator did not renew it in time): it starts no further migration."""


@dataclass(frozen=True)
class LockHolder:
    owner: str
    fencing_token: int
    expires_at: datetime


class MigrationLock:
    """The lock of one migrator: `async with lock.held():` takes it (waiting up to `wait_s`), keeps it renewed
    every third of `ttl_s`, and releases it; `hold(tx)` in a migration's transaction checks it is still held."""

    def __init__(self, database: Database, *, owner: str | None = None, ttl_s: float = LOCK_TTL_S,
                 wait_s: float = WAIT_S, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.database = database
        self.owner = owner or process_owner()
        self.ttl_s = ttl_s
        self.wait_s = wait_s
        self._now = now
        self.fencing_token: int | None = None
        """The token of this migrator's take while it holds the lock; None before and after."""

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[MigrationLock]:
        await self.take()
        keeper = asyncio.create_task(self._keep_renewed())
        try:
            yield self
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            await self.release()

    async def take(self) -> None:
        """Take the lock, waiting while another migrator holds it; MigrationLockBusy after `wait_s`."""
        deadline = time.monotonic() + self.wait_s
        waited_for: LockHolder | None = None
        table_created = False
        while True:
            try:
                if not table_created:
                    async with self.database.transaction() as tx:
                        await tx.execute("migrations/create_lock")
                    table_created = True
                holder = await self._take_if_free()
            except TransactionAborted:
                # a take through another node crossed this one, or SQLite's write lock stayed taken past its busy
                # timeout (another migrator's migration running): try again
                holder = waited_for
            else:
                if holder is None:
                    return
                if waited_for is None or holder.fencing_token != waited_for.fencing_token:
                    log.warning("waiting for the migration lock held by %s (take %d) until %s", holder.owner,
                                holder.fencing_token, holder.expires_at.isoformat())
                waited_for = holder
            if time.monotonic() >= deadline:
                by = f" by {waited_for.owner} until {waited_for.expires_at.isoformat()}" if waited_for else ""
                raise MigrationLockBusy(f"another migration is running (the migration lock is held{by}); waited "
                                        f"{self.wait_s:g} s: try again when it has finished")
            await asyncio.sleep(POLL_S)

    async def _take_if_free(self) -> LockHolder | None:
        """One try in one transaction: None when this migrator took the lock, else who holds it."""
        now = self._now()
        async with self.database.transaction() as tx:
            await tx.execute("migrations/ensure_lock", (RELEASED,))
            row = (await tx.fetch_all("migrations/read_lock"))[0]
            holder = LockHolder(row["owner"], row["fencing_token"], row["expires_at"])
            if holder.expires_at > now or await tx.execute(
                    "migrations/take_lock", (self.owner, self._expiry(), holder.fencing_token)) != 1:
                return holder
        self.fencing_token = holder.fencing_token + 1
        return None

    async def hold(self, tx: Transaction) -> None:
        """Renew the lock in `tx`; MigrationLockLost (rolling `tx` back) if another migrator took it over."""
        if await tx.execute("migrations/renew_lock", (self._expiry(), self.owner, self.fencing_token)) == 1:
            return
        rows = await tx.fetch_all("migrations/read_lock")
        now_held_by = f"{rows[0]['owner']} (take {rows[0]['fencing_token']})" if rows else "nobody"
        raise MigrationLockLost(f"this migrator lost the migration lock (take {self.fencing_token}) to "
                                f"{now_held_by}: it was not renewed within {self.ttl_s:g} s; no further "
                                "migration is started")

    async def release(self) -> None:
        """Give the lock up if still held; a release that fails is logged, and the lock expires by itself."""
        token, self.fencing_token = self.fencing_token, None
        try:
            async with self.database.transaction() as tx:
                await tx.execute("migrations/release_lock", (RELEASED, self.owner, token))
        except DatabaseError as failed:
            log.warning("the migration lock was not released (%s); it expires by itself within %g s",
                        failed.message, self.ttl_s)

    async def _keep_renewed(self) -> None:
        """Renew every third of the lock's length while migrations run (a statement may outlast the lock)."""
        while True:
            await asyncio.sleep(self.ttl_s / 3)
            try:
                async with self.database.transaction() as tx:
                    await self.hold(tx)
            except MigrationLockLost as lost:
                log.warning("%s", lost.message)
                return
            except DatabaseError as failed:
                log.warning("the migration lock was not renewed (%s); trying again in %g s", failed.message,
                            self.ttl_s / 3)

    def _expiry(self) -> datetime:
        return self._now() + timedelta(seconds=self.ttl_s)
