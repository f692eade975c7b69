"""The store on a real 3-node MariaDB Galera cluster: what a multi-primary cluster does differently, met at the
cause. Every table has a primary key (Galera certifies and applies rows by it); a certification failure at
COMMIT is reported as 1213 and the whole write runs again; two replicas racing for a lease through different
nodes end with one holder whose fencing token refuses the loser's writes; reads on a Galera node wait for
what the cluster committed before them, and nothing of it is sent to a server that is not a node."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import pymysql
import pytest

from adapters.store.factory import migrate_url
from adapters.store.repository import SqlStore
from adapters.store.rerun import RerunPolicy, rerun_when_aborted
from domain.errors import LeaseLost, TransactionAborted
from tests.cluster.galera import GaleraCluster
from tests.storage.conftest import an_order, given_user_with_account, opened_store

pytestmark = pytest.mark.mysql

TABLES_WITHOUT_A_PRIMARY_KEY = """
    SELECT t.table_name FROM information_schema.tables t
    WHERE t.table_schema = %s AND t.table_type = 'BASE TABLE' AND NOT EXISTS (
        SELECT 1 FROM information_schema.table_constraints c
        WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name AND c.constraint_type = 'PRIMARY KEY')
    ORDER BY t.table_name"""
RACES = 12


def query(galera: GaleraCluster, node: int, database: str, sql: str, *args) -> list[tuple]:
    with contextlib.closing(galera.nodes[node].connect(database)) as connection, connection.cursor() as cursor:
        cursor.execute(sql, args)
        return list(cursor.fetchall())


def test_every_table_of_the_migrated_schema_has_a_primary_key(galera: GaleraCluster, galera_database: str):
    # given the schema migrated through the first node
    asyncio.run(migrate_url(galera.nodes[0].url(galera_database)))

    # then, read on the third, every table has a primary key
    tables = query(galera, 2, galera_database, "SELECT COUNT(*) FROM information_schema.tables "
                                               "WHERE table_schema = %s", galera_database)[0][0]
    assert tables > 10, "the migrations reached the third node"
    assert query(galera, 2, galera_database, TABLES_WITHOUT_A_PRIMARY_KEY, galera_database) == []

    # and the check sees a table that has none
    query(galera, 0, galera_database, "CREATE TABLE keyless (v INT) ENGINE=InnoDB")
    assert query(galera, 2, galera_database, TABLES_WITHOUT_A_PRIMARY_KEY, galera_database) == [("keyless",)]


class _Counter:
    """A write run again whole after an abort, as the store's are, that can be made to lose a race at COMMIT."""

    rerun_policy = RerunPolicy(attempts=3, first_delay_s=0.01, max_delay_s=0.02)

    def __init__(self, store: SqlStore, loser: pymysql.Connection) -> None:
        self.store, self.loser, self.attempts, self.aborts = store, loser, 0, []

    @rerun_when_aborted
    async def bump(self, user_id: int) -> None:
        self.attempts += 1
        try:
            async with self.store.transaction() as tx:
                await tx.execute("users/set_paused", (True, "counted", user_id))
                if self.attempts == 1:  # another node commits the same row before this COMMIT
                    with self.loser.cursor() as cursor:
                        cursor.execute("UPDATE users SET pause_reason = 'other node' WHERE id = %s", (user_id,))
                    await asyncio.sleep(0.5)  # its write set reaches this node and aborts this transaction
        except TransactionAborted as aborted:
            self.aborts.append(aborted.message)
            raise


async def test_a_certification_failure_at_commit_is_run_again_whole(galera: GaleraCluster, galera_database: str):
    await migrate_url(galera.nodes[0].url(galera_database))
    async with opened_store(galera.nodes[0].url(galera_database)) as store:
        user_id, _ = await given_user_with_account(store, "alice")
        with contextlib.closing(galera.nodes[1].connect(galera_database)) as other_node:
            counter = _Counter(store, other_node)

            # when a write on the first node loses its row to a commit on the second before its own COMMIT
            await counter.bump(user_id)

        # then the first attempt failed with 1213 at COMMIT, the second ran whole, and its write stands
        assert counter.attempts == 2
        assert len(counter.aborts) == 1 and counter.aborts[0].startswith("COMMIT failed: MySQL error 1213"), \
            counter.aborts
        assert query(galera, 2, galera_database, "SELECT paused, pause_reason FROM users WHERE id = %s",
                     user_id) == [(1, "counted")]


async def _race(holder: SqlStore, taker: SqlStore, user_id: int, account_id: int) -> tuple[object, bool, set[int]]:
    """The holder writes an order under its (expired) lease while the taker takes the lease over; what the
    holder's write gave, whether the taker holds the lease, and the order ids the taker read right after."""
    async def write() -> object:
        try:
            return await holder.insert_order(an_order(user_id, account_id))
        except LeaseLost as lost:
            return lost

    async def take() -> tuple[bool, set[int]]:
        lease = await taker.acquire_lease(user_id, 30.0)
        return lease.held, {o.id for o in await taker.orders_for_accounts(user_id, [account_id])}

    written, (held, seen) = await asyncio.gather(write(), take())
    return written, held, seen


async def test_two_replicas_racing_for_a_lease_through_different_nodes_end_with_one_holder_that_fences_the_other(
        galera: GaleraCluster, galera_database: str):
    await migrate_url(galera.nodes[0].url(galera_database))
    late = datetime.now(UTC) + timedelta(minutes=5)
    async with opened_store(galera.nodes[0].url(galera_database), owner="replica-a") as a, \
            opened_store(galera.nodes[1].url(galera_database), owner="replica-b") as b:
        b._now = lambda: late  # to the taker, replica A's lease has expired: A is frozen past its lease
        for race in range(RACES):
            user_id, account_id = await given_user_with_account(a, f"trader{race}", f"C{race}")
            assert (await a.acquire_lease(user_id, 60.0)).held

            # when A writes through node 1 at the moment B takes the user over through node 2
            written, held, seen = await _race(a, b, user_id, account_id)

            # then B holds the lease, with the next token, on every node
            assert held, f"race {race}: the taker did not get the lease"
            for node in range(3):
                assert query(galera, node, galera_database, "SELECT owner, fencing_token FROM monitor_leases "
                             "WHERE user_id = %s", user_id) == [("replica-b", 2)], f"race {race}, node {node}"
            # and A's write either came before the take-over (B read it right after taking over) or was refused
            assert isinstance(written, LeaseLost) or written in seen, \
                f"race {race}: A's order {written} landed after B took the user over; B read {seen}"
            # and A's next write is refused by the fencing token
            with pytest.raises(LeaseLost):
                await a.insert_order(an_order(user_id, account_id))


async def test_two_replicas_taking_a_new_users_lease_at_once_through_different_nodes_leave_one_holder(
        galera: GaleraCluster, galera_database: str):
    await migrate_url(galera.nodes[0].url(galera_database))
    async with opened_store(galera.nodes[0].url(galera_database), owner="replica-a") as a, \
            opened_store(galera.nodes[1].url(galera_database), owner="replica-b") as b:
        for race in range(RACES):
            user_id, _ = await given_user_with_account(a, f"newcomer{race}", f"N{race}")

            # when the user's first clients reach both replicas at once, each on its own node
            leases = await asyncio.gather(a.acquire_lease(user_id, 30.0), b.acquire_lease(user_id, 30.0))

            # then one holds the lease with the first token and the other is told who does
            [holder] = [lease for lease in leases if lease.held]
            [other] = [lease for lease in leases if not lease.held]
            assert (holder.fencing_token, other.owner, other.fencing_token) == (1, holder.owner, 1), race
            assert query(galera, 2, galera_database, "SELECT owner, fencing_token FROM monitor_leases "
                         "WHERE user_id = %s", user_id) == [(holder.owner, 1)]


async def test_reads_on_a_galera_node_are_causal_and_nothing_of_it_reaches_another_server(
        galera: GaleraCluster, galera_database: str, fresh_mysql_url: str):
    await migrate_url(galera.nodes[0].url(galera_database))
    async with opened_store(galera.nodes[0].url(galera_database)) as writer, \
            opened_store(galera.nodes[2].url(galera_database)) as reader:
        # given stores on two nodes: their connections wait for the cluster before each read
        assert writer.database.galera and reader.database.galera
        assert await sync_wait(reader) == 1

        # when users are added through the first node, each is found at once by its token through the third
        for n in range(20):
            user_id, token = await writer.add_user(f"causal{n}")
            assert await reader.user_for_token(token) == user_id, f"user {n} not seen on the third node"

    # and a MariaDB that is not a cluster node is sent nothing of it
    await migrate_url(fresh_mysql_url)
    async with opened_store(fresh_mysql_url) as single:
        assert not single.database.galera
        assert await sync_wait(single) == 0


async def sync_wait(store: SqlStore) -> int:
    """`wsrep_sync_wait` of a pooled connection of the store, as the store set it up."""
    async with store.database.autocommit() as tx:
        cursor = await tx.connection.cursor()
        await cursor.execute("SELECT @@SESSION.wsrep_sync_wait")
        (value,) = await cursor.fetchone()
        await cursor.close()
    return int(value)
