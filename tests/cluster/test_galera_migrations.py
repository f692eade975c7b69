"""Migrators on a real 3-node MariaDB Galera cluster, each through its own node: the migration lock is a row they
write, so it holds across nodes (GET_LOCK would lock on one node only). Two migrators starting at the same moment
through two nodes apply each migration once; two takes of the lock through two nodes leave one holder."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from adapters.store.factory import open_database
from adapters.store.migration_lock import MigrationLock, MigrationLockBusy
from adapters.store.migrations import migrate
from tests.cluster.galera import GaleraCluster
from tests.storage.test_migrations import MIGRATIONS

pytestmark = pytest.mark.mysql
RACES = 12


def query(galera: GaleraCluster, node: int, database: str, sql: str) -> list[tuple]:
    """Rows read on `node` once it has applied what the cluster committed before the read."""
    with contextlib.closing(galera.nodes[node].connect(database)) as connection, connection.cursor() as cursor:
        cursor.execute("SET SESSION wsrep_sync_wait = 1")
        cursor.execute(sql)
        return list(cursor.fetchall())


@contextlib.asynccontextmanager
async def through_nodes(galera: GaleraCluster, database: str, *nodes: int):
    opened = [await open_database(galera.nodes[node].url(database)) for node in nodes]
    try:
        yield opened
    finally:
        for each in opened:
            await each.close()


async def test_two_migrators_through_two_nodes_at_once_apply_each_migration_once(
        galera: GaleraCluster, galera_database: str):
    async with through_nodes(galera, galera_database, 0, 1) as (first, second):
        # when two replicas start on an empty database at the same moment, each migrating through its own node
        results = await asyncio.gather(migrate(first), migrate(second))

    # then one applied every migration, the other waited for it and found nothing to apply
    assert sorted(results) == [[], MIGRATIONS]
    # and the third node has each migration recorded once, and the lock free after its second take
    assert query(galera, 2, galera_database, "SELECT name FROM schema_version ORDER BY version") == [
        (name,) for name in MIGRATIONS]
    assert query(galera, 2, galera_database, "SELECT fencing_token FROM schema_migration_lock") == [(2,)]


async def test_two_takes_of_the_migration_lock_through_two_nodes_at_once_leave_one_holder(
        galera: GaleraCluster, galera_database: str):
    async with through_nodes(galera, galera_database, 0, 1) as (first, second):
        for race in range(RACES):
            locks = [MigrationLock(first, owner=f"node1-{race}", wait_s=0),
                     MigrationLock(second, owner=f"node2-{race}", wait_s=0)]

            # when both try to take the free lock at once
            outcomes = await asyncio.gather(*(lock.take() for lock in locks), return_exceptions=True)

            # then one holds it, with the next token, on every node; the other was refused as busy
            [holder] = [lock for lock, outcome in zip(locks, outcomes, strict=True) if outcome is None]
            assert [type(outcome) for outcome in outcomes].count(MigrationLockBusy) == 1, outcomes
            assert holder.fencing_token == race + 1
            for node in range(3):
                assert query(galera, node, galera_database, "SELECT owner, fencing_token FROM schema_migration_lock"
                             ) == [(holder.owner, race + 1)], f"race {race}, node {node}"
            await holder.release()
