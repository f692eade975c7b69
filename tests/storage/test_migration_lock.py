"""Concurrent migrators, on SQLite and on a real MariaDB: each migration is applied once, by the migrator holding the
migration lock; a migrator that finds it held waits, then reads what is applied and applies only what is left;
a lock whose holder was killed is taken by the next migrator once it has expired, not before; and a holder that
lost the lock (it was not renewed in time) starts no further migration, on MySQL even when the statement it was
running finished after the take-over (DDL commits by itself, so the check is at each migration's start)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pymysql
import pytest

from adapters.store.factory import open_database
from adapters.store.migration_lock import MigrationLock, MigrationLockBusy, MigrationLockLost
from adapters.store.migrations import migrate, missing_migrations
from adapters.store.repository import RELEASED, Database
from adapters.store.url import parse_database_url
from tests.storage.test_migrations import MIGRATIONS, migrate_up_to

ROOT = Path(__file__).resolve().parents[2]
WAITING = "waiting for the migration lock held by"
BUSY_TIMEOUT_S = 5
"""SQLite's busy timeout (sql/sqlite/session/init.sql): how long a BEGIN IMMEDIATE waits for the write lock."""
HOLD_THE_LOCK = """
import asyncio, sys
from adapters.store.factory import open_database
from adapters.store.migration_lock import MigrationLock

async def hold() -> None:
    lock = MigrationLock(await open_database(sys.argv[1]), ttl_s=float(sys.argv[2]))
    async with lock.held():
        print(lock.owner, lock.fencing_token, flush=True)
        await asyncio.sleep(600)

asyncio.run(hold())
"""


@contextlib.asynccontextmanager
async def databases(url: str, count: int) -> AsyncIterator[list[Database]]:
    """`count` databases on `url`, each with its own connections, as separate migrators have."""
    opened = [await open_database(url) for _ in range(count)]
    try:
        yield opened
    finally:
        for database in opened:
            await database.close()


async def lock_row(database: Database) -> dict:
    async with database.autocommit() as tx:
        return (await tx.fetch_all("migrations/read_lock"))[0]


async def ledger(database: Database) -> list[int]:
    async with database.autocommit() as tx:
        return [row["version"] for row in await tx.fetch_all("migrations/applied")]


async def logged_soon(caplog: pytest.LogCaptureFixture, text: str, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while text not in caplog.text:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_two_migrators_at_once_apply_each_migration_once(database_url: str):
    async with databases(database_url, 2) as (first, second):
        # when two migrators start on an empty database at the same moment
        results = await asyncio.gather(migrate(first), migrate(second))

        # then one applied every migration and the other none, each recorded once, and the lock is free
        assert sorted(results) == [[], MIGRATIONS]
        assert await ledger(first) == [int(name[:3]) for name in MIGRATIONS]
        row = await lock_row(first)
        assert row["owner"] and (row["fencing_token"], row["expires_at"]) == (2, RELEASED)


async def test_a_migrator_finding_the_lock_held_waits_then_applies_only_what_is_left(
        database_url: str, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING, "adapters.store.migration_lock")
    async with databases(database_url, 2) as (holders, waiters):
        # given a migrator holding the lock
        holder = MigrationLock(holders, owner="migrator-a")
        await holder.take()

        # when another starts, it waits, applying nothing
        waiter = asyncio.create_task(migrate(waiters))
        assert await logged_soon(caplog, f"{WAITING} migrator-a (take 1)"), caplog.text
        assert await missing_migrations(holders) == MIGRATIONS and not waiter.done()

        # and the holder applies the first eleven and lets the lock go
        await migrate_up_to(holders, 11)
        await holder.release()

        # then the waiter takes it, reads what is applied, and applies the rest only
        assert await asyncio.wait_for(waiter, 60) == MIGRATIONS[11:]
        assert await ledger(holders) == [int(name[:3]) for name in MIGRATIONS]
        assert (await lock_row(holders))["fencing_token"] == 2


async def test_a_holder_that_lost_the_lock_cannot_renew_or_release_it(database_url: str):
    async with databases(database_url, 2) as (first, second):
        # given a holder whose lock expired (it was not renewed: its process stalled) and was taken over
        stalled = MigrationLock(first, owner="stalled", now=lambda: datetime.now(UTC) - timedelta(hours=1))
        await stalled.take()
        successor = MigrationLock(second, owner="successor")
        await successor.take()

        # then the stalled holder's check fails, naming who holds it now, and its release leaves it held
        with pytest.raises(MigrationLockLost, match=r"lost the migration lock \(take 1\) to successor \(take 2\)"):
            async with first.transaction() as tx:
                await stalled.hold(tx)
        await stalled.release()
        row = await lock_row(first)
        assert (row["owner"], row["fencing_token"]) == ("successor", 2)
        assert row["expires_at"] > datetime.now(UTC)

        # while the successor's own check renews it
        async with second.transaction() as tx:
            await successor.hold(tx)


async def test_a_holder_keeps_the_lock_renewed_for_as_long_as_it_holds_it(database_url: str):
    async with databases(database_url, 2) as (first, second):
        # given a lock that lasts 3 s, held for more than twice as long (a migration statement that long)
        holder = MigrationLock(first, owner="slow", ttl_s=3)
        async with holder.held():
            taken = (await lock_row(first))["expires_at"]
            await asyncio.sleep(7)

            # then its renewals moved the expiry on, and another migrator finds it held
            assert (await lock_row(first))["expires_at"] > taken + timedelta(seconds=3)
            with pytest.raises(MigrationLockBusy, match="held by slow"):
                await MigrationLock(second, wait_s=0).take()
        # and, released, it is free
        assert (await lock_row(first))["expires_at"] == RELEASED


async def test_a_lock_held_by_a_killed_migrator_is_taken_by_the_next_once_expired(
        database_url: str, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING, "adapters.store.migration_lock")
    # given a migrator process holding the lock (3 s, renewed every second), killed with no goodbye
    holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK, database_url, "3"], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        owner, token = holder.stdout.readline().split()
    finally:
        holder.kill()
        holder.wait(30)
    async with databases(database_url, 1) as (database,):
        expired_at = (await lock_row(database))["expires_at"]
        assert expired_at > datetime.now(UTC), "the killed holder's lock was still running"

        # when the next migrator comes
        successor = MigrationLock(database)
        await successor.take()

        # then it waited for the killed one's lock to expire, and took it with the next token
        assert datetime.now(UTC) >= expired_at
        assert f"{WAITING} {owner} (take {token})" in caplog.text
        assert successor.fencing_token == int(token) + 1
        await successor.release()
        assert await migrate(database) == MIGRATIONS


@pytest.mark.mysql
async def test_a_holder_that_lost_the_lock_during_a_statement_records_it_and_starts_no_further_migration(
        fresh_mysql_url: str):
    async with databases(fresh_mysql_url, 2) as (first, second):
        await migrate_up_to(first, 12)
        # given a holder whose lock runs out at once (as if stalled: its clock is an hour behind), whose next
        # migration (013, ALTER TABLE accounts) waits for a transaction reading accounts
        stalled = MigrationLock(first, owner="stalled", now=lambda: datetime.now(UTC) - timedelta(hours=1))
        with reader_of_accounts(fresh_mysql_url) as reader:
            migrating = asyncio.create_task(migrate(first, stalled))
            await waiting_for_metadata_lock(fresh_mysql_url, "ALTER TABLE accounts")

            # when another migrator takes the lock over while that statement waits, and the statement then runs
            successor = MigrationLock(second, owner="successor")
            await successor.take()
            reader.commit()

            # then the stalled holder records 013, whose statement ran, and stops before 014
            with pytest.raises(MigrationLockLost, match="to successor"):
                await asyncio.wait_for(migrating, 60)
        assert await missing_migrations(first) == MIGRATIONS[13:]
        assert columns(fresh_mysql_url, "mainapp_fairprice") == ["buy_fair_price", "sell_fair_price", "symbol",
                                                                 "updated_at"]

        # and the successor's migration applies 014 only
        await successor.release()
        assert await migrate(second) == MIGRATIONS[13:]


def test_two_migrate_processes_waiting_for_a_held_lock_apply_everything_once(database_url: str):
    with asyncio.Runner() as runner:
        # given the lock held, two `run.py migrate` processes start and both wait for it
        database = runner.run(open_database(database_url))
        lock = MigrationLock(database, owner="operator")
        runner.run(lock.take())
        command = [sys.executable, str(ROOT / "run.py"), "migrate", "--database", database_url]
        env = {**os.environ, "MONITOR_NO_BOOTSTRAP": "1"}
        migrators = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True) for _ in range(2)]
        try:
            for migrator in migrators:
                assert WAITING + " operator (take 1)" in line_from(migrator.stderr, WAITING, 60)

            # when it is released
            runner.run(lock.release())
            outcomes = [migrator.communicate(timeout=120) for migrator in migrators]
        finally:
            runner.run(database.close())
            for migrator in migrators:
                if migrator.poll() is None:
                    migrator.kill()
                    migrator.wait(30)

    # then one applied every migration, the other waited for it and found the schema up to date
    assert [migrator.returncode for migrator in migrators] == [0, 0], outcomes
    where = parse_database_url(database_url).redacted()
    assert sorted(out for out, _ in outcomes) == sorted([f"{where}: applied {', '.join(MIGRATIONS)}\n",
                                                         f"{where}: schema is up to date\n"])


def line_from(stream, text: str, timeout_s: float) -> str:
    """The first line of a child's pipe containing `text` (lines before it are skipped); "" at its end or after
    `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        line = stream.readline()
        if not line or text in line:
            return line
    return ""


@contextlib.contextmanager
def reader_of_accounts(url: str) -> Iterator[pymysql.Connection]:
    """A connection inside a transaction that read `accounts`: DDL on the table waits for its metadata lock."""
    parsed = parse_database_url(url)
    connection = pymysql.connect(host=parsed.host, port=parsed.port, user=parsed.user, password=parsed.password,
                                 database=parsed.database)
    try:
        with connection.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT COUNT(*) FROM accounts")
        yield connection
    finally:
        with contextlib.suppress(pymysql.err.MySQLError):
            connection.rollback()
        connection.close()


async def waiting_for_metadata_lock(url: str, statement: str, timeout_s: float = 30.0) -> None:
    parsed = parse_database_url(url)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.closing(pymysql.connect(host=parsed.host, port=parsed.port, user=parsed.user,
                                                password=parsed.password)) as connection, connection.cursor() as c:
            c.execute("SELECT COUNT(*) FROM information_schema.processlist WHERE db = %s AND state LIKE "
                      "'Waiting for table metadata lock' AND info LIKE %s", (parsed.database, statement + "%"))
            if c.fetchone()[0]:
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no `{statement}` waited for a metadata lock within {timeout_s:g} s")


def columns(url: str, table: str) -> list[str]:
    parsed = parse_database_url(url)
    with contextlib.closing(pymysql.connect(host=parsed.host, port=parsed.port, user=parsed.user,
                                            password=parsed.password)) as connection, connection.cursor() as c:
        c.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                  "ORDER BY column_name", (parsed.database, table))
        return [row[0] for row in c.fetchall()]


async def test_a_migrator_waits_on_sqlite_while_another_process_holds_the_write_lock_past_the_busy_timeout(tmp_path):
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    async with databases(url, 1) as (database,):
        # given another process's transaction holding the file's write lock for longer than the 5 s busy timeout
        holder = sqlite3.connect(tmp_path / "monitor.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        migrating = asyncio.create_task(migrate(database))
        await asyncio.sleep(BUSY_TIMEOUT_S + 2)
        assert not migrating.done(), migrating

        # when it lets go, the migrator, which met "database is locked" meanwhile, carries on and applies everything
        holder.execute("COMMIT")
        holder.close()
        assert await asyncio.wait_for(migrating, 60) == MIGRATIONS
