"""`migrate` creates every table on an empty database, is a no-op the second time, and the SQL files
follow the loader's conventions in both dialects."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import msgspec
import pymysql
import pytest

from adapters.store.factory import migrate_url, open_database
from adapters.store.migrations import migrate, missing_migrations, schema_version
from adapters.store.repository import SqlStore
from adapters.store.secrets import Keyring
from adapters.store.sql_loader import load_migrations, load_queries
from adapters.store.url import parse_database_url
from domain.errors import DatabaseError
from domain.records import FairPrice
from tests.storage.conftest import an_order, given_user_with_account
from tests.storage.test_orders import every_column_set

ROOT = Path(__file__).resolve().parents[2]
KEY = bytes(range(32))
MIGRATIONS = ["001_schema", "002_monitor_leases", "003_leg_timing", "004_orders_revision", "005_leg_rejections",
              "006_exit_fills", "007_idempotency_keys", "008_unmarked_unrealized", "009_account_fetch_state",
              "010_sealed_secrets", "011_event_hash_chain", "012_kite_broker", "013_account_fetch_kind",
              "014_desk_fair_prices"]
TABLES = {
    "schema_version",
    "schema_migration_lock",
    "users",
    "accounts",
    "entry_regenerate_permission",
    "orders",
    "orders_archive",
    "broker_order_book",
    "broker_position",
    "mainapp_fairprice",
    "bo_live_history",
    "entry_regenerate",
    "monitor_events",
    "monitor_leases",
    "api_idempotency_keys",
    "admin_tokens",
}


def tables_of(url: str) -> set[str]:
    parsed = parse_database_url(url)
    if parsed.dialect == "sqlite":
        with sqlite3.connect(parsed.database) as conn:
            return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} - {
                "sqlite_sequence"
            }
    conn = pymysql.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.user,
        password=parsed.password,
        database=parsed.database,
    )
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW TABLES")
            return {r[0] for r in cur.fetchall()}
    finally:
        conn.close()


async def test_migrate_creates_every_table_and_a_second_run_applies_nothing(database_url):
    assert await migrate_url(database_url) == MIGRATIONS
    assert tables_of(database_url) == TABLES

    assert await migrate_url(database_url) == []
    database = await open_database(database_url)
    try:
        assert await schema_version(database) == int(MIGRATIONS[-1][:3])
    finally:
        await database.close()


async def test_missing_migrations_names_what_migrate_would_apply_and_creates_nothing(database_url):
    database = await open_database(database_url)
    try:
        assert await missing_migrations(database) == MIGRATIONS
        assert tables_of(database_url) == set()
        async with database.transaction() as tx:
            await tx.execute("migrations/create_schema_version")
            for migration in load_migrations(database.dialect)[:6]:
                for number, statement in enumerate(migration.statements, start=1):
                    await tx.execute_ddl(statement, f"{migration.name} statement {number}")
                await tx.execute("migrations/record", (migration.version, migration.name, datetime.now(UTC)))
        assert await missing_migrations(database) == MIGRATIONS[6:]

        await migrate(database)
        assert await missing_migrations(database) == []
    finally:
        await database.close()


async def migrate_up_to(database, last: int) -> None:
    """Apply the migrations numbered up to `last` only, as a database that has not seen the later ones."""
    async with database.transaction() as tx:
        await tx.execute("migrations/create_schema_version")
        for migration in load_migrations(database.dialect)[:last]:
            for number, statement in enumerate(migration.statements, start=1):
                await tx.execute_ddl(statement, f"{migration.name} statement {number}")
            await tx.execute("migrations/record", (migration.version, migration.name, datetime.now(UTC)))


async def test_an_order_written_before_migration_006_reads_with_no_exit_fills_on_record_and_its_pnl(database_url):
    database = await open_database(database_url)
    store = SqlStore(database)
    try:
        await migrate_up_to(database, 5)
        user_id, account_id = await given_user_with_account(store, "alice")
        async with database.transaction() as tx:
            await tx.execute_ddl(
                "INSERT INTO orders (user_id, account_id, strategy, symbol, exchange_segment, instrument_id, side, "
                "quantity, entry_type, filled_qty, status, realized_pnl, created_at, updated_at) VALUES "
                f"({user_id}, {account_id}, 's', 'SBIN', 'NSECM', 3045, 'BUY', 10, 'LIMIT', 10, 'RUNNING', "
                "'-20.0000', '2026-11-25 06:30:00.000000', '2026-11-25 06:30:00.000000')", "an order of 005")

        assert await migrate(database) == MIGRATIONS[5:]

        [order] = await store.orders_for_accounts(user_id, [account_id])
        assert (order.exit_fills, order.realized_pnl) == ((), Decimal("-20.0000"))
    finally:
        await store.close()


async def test_orders_written_before_migration_008_keep_every_value_and_then_may_be_unmarked(database_url):
    database = await open_database(database_url)
    try:
        await migrate_up_to(database, 7)
        before = SqlStore(database)
        user_id, account_id = await given_user_with_account(before, "alice")
        running = await before.insert_order(every_column_set(user_id, account_id))
        rejected = await before.insert_order(an_order(user_id, account_id, entry_orderstatus="Rejected"))
        await before.archive_rejected(user_id, account_id, [(rejected, "RMS: margin")])
        [regeneration] = await before.create_regenerations(user_id, (account_id,), ("breakout",), 3)
        order, archived = await before.order(user_id, running), await before.archived_orders(user_id, account_id)

        assert await migrate(database) == MIGRATIONS[7:]

        store = SqlStore(database)
        assert await store.order(user_id, running) == order
        assert await store.archived_orders(user_id, account_id) == archived
        assert await store.pending_regenerations(user_id, account_id) == [regeneration]
        assert await store.insert_order(an_order(user_id, account_id)) > rejected, "an archived id is never reused"
        await store.apply_order_updates(user_id, account_id, [(running, order.version, {"unrealized_pnl": None})])
        assert (await store.order(user_id, running)).unrealized_pnl is None
        await store.archive_rejected(user_id, account_id, [(running, "rejected")])
        assert {a.order.id: a.order.unrealized_pnl for a in await store.archived_orders(user_id, account_id)} == {
            running: None, rejected: archived[0].order.unrealized_pnl}
    finally:
        await database.close()


async def test_accounts_written_before_migration_012_keep_every_value_and_then_a_kite_account_is_accepted(
        database_url):
    database = await open_database(database_url)
    try:
        await migrate_up_to(database, 11)
        before = SqlStore(database, keyring=Keyring(current=KEY))
        user_id, paper = await given_user_with_account(before, "alice")
        xts = await before.add_account(user_id, "xts", "https://xts.example", "X1", app_key="k", secret_key="s")
        await before.set_account_token(user_id, xts, "session-token")
        await before.set_session_needed(user_id, paper)
        running = await before.insert_order(every_column_set(user_id, xts))
        accounts = await before.broker_accounts(user_id, (paper, xts))
        order = await before.order(user_id, running)
        gone = await before.add_account(user_id, "paper", "http://127.0.0.1:9000", "GONE")
        async with database.transaction() as tx:
            await tx.execute_ddl(f"DELETE FROM accounts WHERE id = {gone}", "the newest account deleted")

        assert await migrate(database) == MIGRATIONS[11:]

        store = SqlStore(database, keyring=Keyring(current=KEY))
        assert await store.broker_accounts(user_id, (paper, xts)) == accounts
        assert [(s.account_id, s.broker, s.client_id, s.session_needed) for s in await store.account_statuses(user_id)
                ] == [(paper, "paper", "C1", True), (xts, "xts", "X1", False)]
        assert await store.order(user_id, running) == order
        kite = await store.add_account(user_id, "kite", "https://api.kite.trade", "ZX1234", app_key="k", secret_key="s")
        assert kite > gone, "an account id is never given again"
        assert [a.broker for a in await store.broker_accounts(user_id, (kite,))] == ["kite"]
        with pytest.raises(DatabaseError):
            await store.add_account(user_id, "angel", "https://angel.example", "A1")
        with pytest.raises(DatabaseError):
            await store.insert_order(every_column_set(user_id, kite + 1))
    finally:
        await database.close()


async def test_fair_prices_written_before_migration_014_keep_their_values_as_the_desks(database_url):
    database = await open_database(database_url)
    try:
        await migrate_up_to(database, 13)
        before = SqlStore(database)
        written = [FairPrice(symbol=symbol, buy_fair_price=Decimal(buy), sell_fair_price=Decimal(sell),
                             updated_at=datetime(2026, 11, 25, 4, 0, tzinfo=UTC))
                   for symbol, buy, sell in (("SBIN", "800.1", "799.9"), ("TCS", "3500.05", "3499.95"))]
        async with database.transaction() as tx:  # the statement of the time, which knew no source
            for price in written:
                await tx.execute_ddl(
                    "INSERT INTO mainapp_fairprice (symbol, buy_fair_price, sell_fair_price, updated_at) VALUES "
                    f"('{price.symbol}', '{price.buy_fair_price}', '{price.sell_fair_price}', "
                    "'2026-11-25 04:00:00.000000')", "a fair price of 013")

        assert await migrate(database) == MIGRATIONS[13:]

        store = SqlStore(database)
        assert await store.fair_prices(["SBIN", "TCS"]) == {price.symbol: price for price in written}
        assert {price.source for price in await store.list_fair_prices()} == {"desk"}
        await store.upsert_feed_prices([msgspec.structs.replace(written[0], buy_fair_price=Decimal("805"))])
        assert (await store.fair_prices(["SBIN"]))["SBIN"] == written[0]
        token = await store.add_admin_token("desk")
        assert await store.admin_for_token(token) == "desk"
        assert await before.user_for_token(token) is None
    finally:
        await database.close()


async def test_an_account_table_emptied_before_migration_012_keeps_its_id_counter(database_url):
    database = await open_database(database_url)
    try:
        await migrate_up_to(database, 11)
        store = SqlStore(database)
        user_id, _ = await store.add_user("alice")
        gone = await store.add_account(user_id, "paper", "http://127.0.0.1:9000", "GONE")
        async with database.transaction() as tx:
            await tx.execute_ddl("DELETE FROM accounts", "every account deleted")
        await migrate(database)
        assert await store.add_account(user_id, "kite", "https://api.kite.trade", "K1") > gone
    finally:
        await database.close()


def test_run_py_migrate_on_an_empty_database_twice(database_url):
    command = [sys.executable, str(ROOT / "run.py"), "migrate", "--database", database_url]
    env = {**os.environ, "MONITOR_NO_BOOTSTRAP": "1"}

    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)

    assert first.returncode == 0, first.stderr
    assert f"applied {', '.join(MIGRATIONS)}" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "schema is up to date" in second.stdout
    assert tables_of(database_url) == TABLES


def test_migrate_never_prints_the_database_password():
    command = [
        sys.executable,
        str(ROOT / "run.py"),
        "migrate",
        "--database",
        "mysql://monitor:hunter2-secret@127.0.0.1:1/monitor",
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "MONITOR_NO_BOOTSTRAP": "1"},
    )

    assert result.returncode == 1
    assert "cannot connect" in result.stderr
    assert "hunter2-secret" not in result.stdout + result.stderr


def test_both_dialects_name_the_same_queries():
    def names(dialect: str) -> set[str]:
        return {name for name in load_queries(dialect) if not name.startswith("session/")}

    assert names("mysql") == names("sqlite")
    assert [m.name for m in load_migrations("mysql")] == [m.name for m in load_migrations("sqlite")]


@pytest.mark.parametrize("dialect", ["common", "mysql", "sqlite"])
def test_every_sql_file_opens_with_a_comment_and_uses_its_dialects_placeholders(dialect):
    folder = ROOT / "sql" / dialect
    files = sorted(folder.rglob("*.sql"))
    assert files
    for file in files:
        text = file.read_text()
        assert text.startswith("-- "), file
        body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
        assert "TRUNCATE" not in body.upper(), file
        if dialect == "mysql":
            assert "?" not in body, file
            assert "%" not in body.replace("%s", ""), file
        else:
            assert "%s" not in body, file
