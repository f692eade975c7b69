"""Writes the database aborts to resolve a conflict are run again whole: a real deadlock and a real lock wait
timeout on MariaDB, and SQLite's write lock held by another process. The effects land exactly once; after the
last attempt the abort is raised with the database's reason; anything else is never run again. And the rule
that prevents the deadlocks: every statement that locks an account row locks it by its primary key only."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator

import aiomysql
import pytest

from adapters.store.factory import connect_store, migrate_url
from adapters.store.mysql import MySqlDatabase
from adapters.store.repository import SqlStore
from adapters.store.rerun import RerunPolicy, rerun_when_aborted
from adapters.store.sql_loader import load_queries
from adapters.store.url import parse_database_url
from domain.errors import DatabaseError, StaleVersion, TransactionAborted
from tests.storage.conftest import an_order, given_user_with_account, mysql_admin
from tests.storage.test_mysql_failures import store_connection_ids

QUICK = RerunPolicy(attempts=3, first_delay_s=0.01, max_delay_s=0.02)


class RerunWarnings(logging.Handler):
    """The store's rerun warnings, with an event set at the first."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []
        self.first = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        self.first.set()


@pytest.fixture
def rerun_warnings():
    handler = RerunWarnings()
    logger = logging.getLogger("adapters.store.rerun")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@pytest.fixture
async def holder(fresh_mysql_url: str) -> AsyncIterator[aiomysql.Connection]:
    """A second client of the test database, inside a transaction of its own."""
    parsed = parse_database_url(fresh_mysql_url)
    connection = await mysql_admin(parsed, parsed.database)
    await connection.autocommit(False)
    try:
        yield connection
    finally:
        connection.close()


async def run(connection: aiomysql.Connection, sql: str, *params: object) -> list[tuple]:
    async with connection.cursor() as cur:
        await cur.execute(sql, params)
        return list(await cur.fetchall())


async def revision(url: str, account_id: int) -> int:
    parsed = parse_database_url(url)
    admin = await mysql_admin(parsed, parsed.database)
    try:
        return (await run(admin, "SELECT orders_revision FROM accounts WHERE id = %s", account_id))[0][0]
    finally:
        admin.close()


@pytest.mark.mysql
async def test_an_order_update_chosen_as_a_deadlock_victim_is_run_again_whole_and_lands_once(
    mysql_store, holder, fresh_mysql_url, rerun_warnings
):
    user_id, account_id = await given_user_with_account(mysql_store, "alice")
    order_id = await mysql_store.insert_order(an_order(user_id, account_id))
    # given another transaction, heavier than the store's (so not the victim), holding the order's row
    async with holder.cursor() as cur:
        await cur.executemany("INSERT INTO mainapp_fairprice (symbol, buy_fair_price, sell_fair_price, "
                              "updated_at) VALUES (%s, 1, 1, NOW())", [(f"BALLAST{n}",) for n in range(200)])
    await run(holder, "SELECT id FROM orders WHERE id = %s FOR UPDATE", order_id)
    # when the store locks the account (its revision), then waits for the order row ...
    update = asyncio.create_task(mysql_store.apply_order_updates(user_id, account_id,
                                                                 [(order_id, 1, {"status": "ENTRY_OPEN"})]))
    await store_connection_ids(fresh_mysql_url, "UPDATE orders")
    # ... and the other transaction asks for the account row: a cycle, and the store's transaction aborted
    await run(holder, "SELECT id FROM accounts WHERE id = %s FOR UPDATE", account_id)
    await asyncio.wait_for(rerun_warnings.first.wait(), 10)
    await holder.commit()

    # then the update ran again whole: the order at its next version, the revision bumped once more
    assert await asyncio.wait_for(update, 10) == {order_id: 2}
    assert [(o.status, o.version) for o in await mysql_store.orders_for_accounts(user_id, [account_id])] == [
        ("ENTRY_OPEN", 2)]
    assert await revision(fresh_mysql_url, account_id) == 2  # the insert's bump and this write's
    [warning] = rerun_warnings.messages
    assert warning.startswith(f"apply_order_updates user_id={user_id} account_id={account_id}: the database "
                              "aborted attempt 1 of 5 (orders/update failed: MySQL error 1213: Deadlock found")


@pytest.fixture
async def impatient_store(fresh_mysql_url: str) -> AsyncIterator[SqlStore]:
    """A migrated store with one pooled connection whose InnoDB lock waits give up after 1 s (error 1205),
    running an aborted write again as QUICK says."""
    await migrate_url(fresh_mysql_url)
    database = await MySqlDatabase.connect(parse_database_url(fresh_mysql_url), pool_size=1, timeout_s=10)
    async with database.autocommit() as tx:
        await tx.execute_ddl("SET SESSION innodb_lock_wait_timeout = 1", "short lock waits")
    store = SqlStore(database, rerun_policy=QUICK)
    try:
        yield store
    finally:
        await store.close()


@pytest.mark.mysql
async def test_a_write_whose_lock_wait_timed_out_is_rolled_back_whole_and_run_again_once_the_lock_is_free(
    impatient_store, holder, fresh_mysql_url, rerun_warnings
):
    user_id, account_id = await given_user_with_account(impatient_store, "alice")
    order_id = await impatient_store.insert_order(an_order(user_id, account_id))
    # given another transaction holding the order's row
    await run(holder, "SELECT id FROM orders WHERE id = %s FOR UPDATE", order_id)
    # when the store bumps the account's revision, then waits for the order past the lock wait timeout
    update = asyncio.create_task(impatient_store.apply_order_updates(user_id, account_id,
                                                                     [(order_id, 1, {"status": "ENTRY_OPEN"})]))
    await asyncio.wait_for(rerun_warnings.first.wait(), 10)
    await holder.rollback()

    # then the bump of the timed-out attempt was rolled back with it, and the write landed once
    assert await asyncio.wait_for(update, 10) == {order_id: 2}
    assert await revision(fresh_mysql_url, account_id) == 2  # the insert's bump and this write's
    assert [(o.status, o.version) for o in await impatient_store.orders_for_accounts(user_id, [account_id])] == [
        ("ENTRY_OPEN", 2)]
    assert "(orders/update failed: MySQL error 1205: Lock wait timeout exceeded" in rerun_warnings.messages[0]


@pytest.mark.mysql
async def test_a_write_still_aborted_at_the_last_attempt_fails_with_the_databases_reason_and_writes_nothing(
    impatient_store, holder, fresh_mysql_url, rerun_warnings
):
    user_id, account_id = await given_user_with_account(impatient_store, "alice")
    await run(holder, "SELECT id FROM accounts WHERE id = %s FOR UPDATE", account_id)

    with pytest.raises(TransactionAborted) as failure:
        await asyncio.wait_for(impatient_store.insert_order(an_order(user_id, account_id)), 20)

    assert failure.value.message == ("accounts/lock_owned failed: MySQL error 1205: Lock wait timeout exceeded; "
                                     "try restarting transaction (aborted 3 times; given up)")
    assert [re.sub(r"in [0-9.]+ s$", "in N s", m) for m in rerun_warnings.messages] == [
        f"insert_order user_id={user_id} account_id={account_id}: the database aborted attempt {n} of 3 "
        "(accounts/lock_owned failed: MySQL error 1205: Lock wait timeout exceeded; try restarting "
        "transaction); running it again in N s" for n in (1, 2)]
    await holder.rollback()
    assert await impatient_store.orders_for_accounts(user_id, [account_id]) == []
    assert await revision(fresh_mysql_url, account_id) == 0


class Writes:
    """A store-like owner of one write that fails as scripted, counting its attempts."""

    rerun_policy = RerunPolicy(attempts=3, first_delay_s=0.0, max_delay_s=0.0)

    def __init__(self, *failures: DatabaseError) -> None:
        self.failures = list(failures)
        self.attempts = 0

    @rerun_when_aborted
    async def write(self, user_id: int, account_id: int) -> str:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        return "written"


async def test_a_write_aborted_before_its_last_attempt_is_run_again_until_it_lands(rerun_warnings):
    writes = Writes(TransactionAborted("x failed: deadlock"), TransactionAborted("x failed: deadlock"))
    assert await writes.write(7, account_id=9) == "written"
    assert writes.attempts == 3 and len(rerun_warnings.messages) == 2
    assert rerun_warnings.messages[1].startswith("write user_id=7 account_id=9: the database aborted attempt 2 of 3 "
                                                 "(x failed: deadlock); running it again in 0.000 s")


async def test_a_write_aborted_at_every_attempt_raises_the_abort_after_the_last(rerun_warnings):
    writes = Writes(*[TransactionAborted("x failed: deadlock")] * 3)
    with pytest.raises(TransactionAborted, match=r"^x failed: deadlock \(aborted 3 times; given up\)$"):
        await writes.write(7, 9)
    assert writes.attempts == 3 and len(rerun_warnings.messages) == 2


@pytest.mark.parametrize("failure", [DatabaseError("x: the database did not answer within 30 s"),
                                     StaleVersion("order 1 changed since version 7 was read")])
async def test_a_failure_other_than_an_abort_is_never_run_again(failure, rerun_warnings):
    writes = Writes(failure)
    with pytest.raises(type(failure)) as raised:
        await writes.write(7, 9)
    assert raised.value is failure and writes.attempts == 1 and rerun_warnings.messages == []


async def test_a_write_finding_the_sqlite_write_lock_held_by_another_process_runs_again_once_it_is_free(
    tmp_path, rerun_warnings
):
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    await migrate_url(url)
    store = await connect_store(url)
    try:
        store.rerun_policy = QUICK
        user_id, _ = await given_user_with_account(store, "alice")
        await store.database.call("short busy timeout", lambda c: c.execute("PRAGMA busy_timeout = 50"))
        other_process = sqlite3.connect(tmp_path / "monitor.db", isolation_level=None)
        other_process.execute("BEGIN IMMEDIATE")

        pause = asyncio.create_task(store.set_paused(user_id, True, "kill switch"))
        await asyncio.wait_for(rerun_warnings.first.wait(), 10)
        other_process.execute("ROLLBACK")
        await asyncio.wait_for(pause, 10)

        assert other_process.execute("SELECT paused FROM users WHERE id = ?", (user_id,)).fetchone() == (1,)
        assert "SQLite OperationalError: database is locked" in rerun_warnings.messages[0]
        other_process.close()
    finally:
        await store.close()


def test_the_wait_before_each_new_attempt_is_a_random_part_of_a_doubling_bound():
    policy = RerunPolicy(attempts=6, first_delay_s=0.1, max_delay_s=0.5)
    assert [policy.delay_s(n, lambda: 1.0) for n in (1, 2, 3, 4, 5)] == [0.1, 0.2, 0.4, 0.5, 0.5]
    assert [policy.delay_s(n, lambda: 0.0) for n in (1, 5)] == [0.0, 0.0]
    assert policy.delay_s(2, lambda: 0.25) == 0.05


def test_a_rerun_policy_makes_at_least_one_attempt_and_orders_its_delays():
    assert RerunPolicy(attempts=1, first_delay_s=0.0, max_delay_s=0.0).attempts == 1
    assert RerunPolicy(first_delay_s=0.5, max_delay_s=0.5).max_delay_s == 0.5
    for bad in ({"attempts": 0}, {"first_delay_s": -0.01}, {"first_delay_s": 0.6, "max_delay_s": 0.5}):
        with pytest.raises(ValueError):
            RerunPolicy(**bad)


@pytest.mark.mysql
async def test_every_statement_that_locks_an_account_row_locks_it_by_the_primary_key_only(mysql_store):
    user_id, account_id = await given_user_with_account(mysql_store, "alice")
    await mysql_store.insert_order(an_order(user_id, account_id))
    statements = {name: query.sql(*(1,) * len(query.groups)) for name, query in load_queries("mysql").items()}
    locking = {name: sql for name, sql in statements.items()
               if re.search(r"\bUPDATE accounts\b|\bFROM accounts\b.*\bFOR UPDATE\b", sql, re.DOTALL)}
    assert {"accounts/bump_orders_revision", "accounts/lock_owned", "accounts/set_token"} <= set(locking)

    keys = {}
    async with mysql_store.database.autocommit() as tx:
        for name, sql in locking.items():
            plan = await tx.connection.cursor(aiomysql.DictCursor)
            await plan.execute("EXPLAIN " + sql, [1] * sql.count("%s"))
            keys[name] = {row["key"] for row in await plan.fetchall() if row["table"] == "accounts"}
            await plan.close()

    assert {name: key for name, key in keys.items() if key != {"PRIMARY"}} == {}, (
        "lock an account row by its primary key only (FORCE INDEX (PRIMARY)): ix_accounts_user_active first "
        "and the primary key second crosses a transaction that locked the primary key first (deadlock 1213)")
