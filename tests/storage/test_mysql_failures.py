"""What a real server does to a cycle: a connection killed mid-transaction, a pooled connection killed
while idle, a statement stuck on a lock. Each ends in DatabaseError promptly (never a hang), the
transaction is rolled back, and the next call works."""

from __future__ import annotations

import asyncio
import time

import pytest

from adapters.store.factory import connect_store, migrate_url
from adapters.store.url import parse_database_url
from domain.errors import DatabaseError
from tests.storage.conftest import an_order, given_user_with_account, mysql_admin

pytestmark = pytest.mark.mysql


async def lock_order_row(url: str, order_id: int):
    """A second connection holding the order's row lock, so the store's UPDATE waits on it."""
    parsed = parse_database_url(url)
    holder = await mysql_admin(parsed, parsed.database)
    await holder.autocommit(False)
    async with holder.cursor() as cur:
        await cur.execute("SELECT id FROM orders WHERE id = %s FOR UPDATE", (order_id,))
    return holder


async def store_connection_ids(url: str, info_prefix: str | None, deadline_s: float = 5.0) -> list[int]:
    """Ids of the store's connections to the test database: those running `info_prefix`, or idle ones."""
    parsed = parse_database_url(url)
    admin = await mysql_admin(parsed)
    try:
        until = time.monotonic() + deadline_s
        while time.monotonic() < until:
            async with admin.cursor() as cur:
                await cur.execute(
                    "SELECT ID, COMMAND, INFO FROM information_schema.PROCESSLIST WHERE DB = %s "
                    "AND ID <> CONNECTION_ID()",
                    (parsed.database,),
                )
                rows = await cur.fetchall()
            if info_prefix is None:
                found = [r[0] for r in rows if r[1] == "Sleep"]
            else:
                found = [r[0] for r in rows if (r[2] or "").lstrip().startswith(info_prefix)]
            if found:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"no store connection found running {info_prefix!r}")
    finally:
        admin.close()


async def kill(url: str, connection_id: int) -> None:
    admin = await mysql_admin(parse_database_url(url))
    try:
        async with admin.cursor() as cur:
            await cur.execute("KILL CONNECTION %s", (connection_id,))
    finally:
        admin.close()


async def test_a_connection_killed_mid_transaction_fails_promptly_and_the_next_call_works(
    mysql_store, fresh_mysql_url
):
    user_id, account_id = await given_user_with_account(mysql_store, "alice")
    first = await mysql_store.insert_order(an_order(user_id, account_id))
    second = await mysql_store.insert_order(an_order(user_id, account_id))
    holder = await lock_order_row(fresh_mysql_url, second)
    sync = asyncio.create_task(
        mysql_store.apply_order_updates(
            user_id,
            account_id,
            [
                (first, 1, {"status": "RUNNING"}),
                (second, 1, {"status": "RUNNING"}),
            ],
        )
    )
    [victim] = await store_connection_ids(fresh_mysql_url, "UPDATE orders")

    await kill(fresh_mysql_url, victim)
    started = time.monotonic()
    with pytest.raises(DatabaseError):
        await asyncio.wait_for(sync, timeout=5)
    assert time.monotonic() - started < 3
    await holder.rollback()
    holder.close()

    assert [(o.status, o.version) for o in await mysql_store.orders_for_accounts(user_id, [account_id])] == [
        ("PENDING", 1),
        ("PENDING", 1),
    ]
    assert await mysql_store.apply_order_updates(
        user_id, account_id, [(first, 1, {"status": "RUNNING"})]
    ) == {first: 2}


async def test_a_pooled_connection_killed_while_idle_is_replaced_without_an_error(
    mysql_store, fresh_mysql_url
):
    user_id, _ = await given_user_with_account(mysql_store, "alice")
    for idle in await store_connection_ids(fresh_mysql_url, None):
        await kill(fresh_mysql_url, idle)

    context = await asyncio.wait_for(mysql_store.load_cycle_context(user_id), timeout=5)

    assert len(context.account_ids) == 1


async def test_a_pooled_connection_killed_while_idle_is_replaced_before_a_write_too(mysql_store, fresh_mysql_url):
    user_id, _ = await given_user_with_account(mysql_store, "alice")
    for idle in await store_connection_ids(fresh_mysql_url, None):
        await kill(fresh_mysql_url, idle)

    await asyncio.wait_for(mysql_store.set_paused(user_id, True, "by hand"), timeout=5)

    assert (await mysql_store.load_cycle_context(user_id)).paused


async def test_a_statement_stuck_on_a_lock_fails_at_the_deadline_instead_of_hanging(
    fresh_mysql_url, mysql_store
):
    user_id, account_id = await given_user_with_account(mysql_store, "alice")
    order_id = await mysql_store.insert_order(an_order(user_id, account_id))
    holder = await lock_order_row(fresh_mysql_url, order_id)
    impatient = await connect_store(fresh_mysql_url, timeout_s=0.5)
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseError, match="did not answer within"):
            await asyncio.wait_for(
                impatient.apply_order_updates(user_id, account_id, [(order_id, 1, {"status": "RUNNING"})]), 5
            )
        assert time.monotonic() - started < 3
        await holder.rollback()
        assert await impatient.apply_order_updates(user_id, account_id, [(order_id, 1, {"ltp": None})]) == {
            order_id: 2
        }
    finally:
        holder.close()
        await impatient.close()


async def test_transactions_and_reads_cancelled_at_any_await_give_their_connections_back(fresh_mysql_url):
    """A step cancelled at its deadline may be anywhere: waiting for a connection, in BEGIN, mid-statement,
    in COMMIT. Walk the cancellation across every await of a transaction and of a read, then every
    connection of the pool must still be there: as many holders as connections at once, and a clean close."""
    await migrate_url(fresh_mysql_url)
    store = await connect_store(fresh_mysql_url, timeout_s=2, pool_size=2)
    user_id, _ = await given_user_with_account(store, "alice")

    async def write() -> None:
        async with store.transaction() as tx:
            await tx.fetch_all("users/cycle_contexts", (user_id, user_id), counts=(1, 1))
            await tx.execute("users/set_paused", (False, None, user_id))

    async def read() -> None:
        async with store.database.autocommit() as tx:
            await tx.fetch_all("users/cycle_contexts", (user_id, user_id), counts=(1, 1))

    try:
        for work in (write, read):
            for turns in range(40):
                task = asyncio.create_task(work())
                for _ in range(turns):
                    await asyncio.sleep(0)
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

        held, release = asyncio.Event(), asyncio.Event()
        holding = 0

        async def hold() -> None:
            nonlocal holding
            async with store.database.autocommit() as tx:
                await tx.fetch_all("health/ping")
                holding += 1
                if holding == 2:
                    held.set()
                await release.wait()

        holders = [asyncio.create_task(hold()) for _ in range(2)]
        await asyncio.wait_for(held.wait(), 5)
        release.set()
        await asyncio.gather(*holders)
    finally:
        await asyncio.wait_for(store.close(), 5)


async def test_a_transaction_left_idle_is_ended_by_the_server_so_a_silent_replica_cannot_keep_a_lease_row_locked(
    mysql_store, fresh_mysql_url
):
    """A replica cut off from the database mid-transaction sends nothing more, and the server cannot tell. On
    MariaDB the server rolls such a transaction back after 2 s idle (session/init) and so frees the lease row
    its fence locked: another replica takes the expired lease then, not when the path comes back, and the
    stalled transaction's next statement fails. (tests/replicas/test_partition.py meets it across a real
    network boundary.)"""
    admin = await mysql_admin(parse_database_url(fresh_mysql_url))
    try:
        async with admin.cursor() as cur:
            await cur.execute("SELECT VERSION()")
            (version,) = await cur.fetchone()
    finally:
        admin.close()
    if "MariaDB" not in version:
        pytest.skip(f"MySQL ({version}) has no idle_transaction_timeout")
    user_id, _ = await given_user_with_account(mysql_store, "alice")
    assert (await mysql_store.acquire_lease(user_id, ttl_s=0.2)).held
    await asyncio.sleep(0.3)  # the lease has expired: only the lock stands in the other replica's way
    other = await connect_store(fresh_mysql_url, timeout_s=10, owner="replica-b")
    try:
        with pytest.raises(DatabaseError, match=r"Lost connection|gone away"):  # not the other side's lock wait
            async with mysql_store.transaction() as tx:
                await tx.fetch_all("leases/check", (user_id,))  # a fenced write's lock on the lease row
                started = time.monotonic()
                taken = await other.acquire_lease(user_id, ttl_s=30)  # waits on that lock: this one is idle
                waited = time.monotonic() - started
                await tx.fetch_all("leases/check", (user_id,))
    finally:
        await other.close()
    assert taken.held and taken.fencing_token == 2
    assert 1.5 < waited < 5, waited
