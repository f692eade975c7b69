"""Fixtures of the storage suite: every `store` test runs on a fresh SQLite file and a fresh MySQL database.

The MySQL server comes from MONITOR_TEST_MYSQL_URL (default mysql://root@127.0.0.1:3306/); each test gets a
uniquely named database, dropped afterwards. Without a server the MySQL cases skip with the reason, unless
MONITOR_REQUIRE_MYSQL=1 (CI), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import aiomysql
import pymysql
import pytest

from adapters.store.factory import connect_store, migrate_url
from adapters.store.repository import SqlStore
from adapters.store.url import DatabaseUrl, parse_database_url
from domain.records import OrderRow

MYSQL_URL_ENV = "MONITOR_TEST_MYSQL_URL"
DEFAULT_TEST_MYSQL_URL = "mysql://root@127.0.0.1:3306/"
T0 = datetime(2025, 3, 3, 4, 0, tzinfo=UTC)


def mysql_server() -> DatabaseUrl:
    return parse_database_url(os.environ.get(MYSQL_URL_ENV, DEFAULT_TEST_MYSQL_URL))


@cache
def mysql_unreachable_reason() -> str | None:
    server = mysql_server()
    try:
        pymysql.connect(
            host=server.host, port=server.port, user=server.user, password=server.password, connect_timeout=3
        ).close()
    except pymysql.err.MySQLError as exc:
        return f"no MySQL server at {server.redacted()} ({exc.args[0]}); set {MYSQL_URL_ENV}"
    return None


def require_mysql() -> DatabaseUrl:
    reason = mysql_unreachable_reason()
    if reason is not None:
        if os.environ.get("MONITOR_REQUIRE_MYSQL") == "1":
            pytest.fail(f"MONITOR_REQUIRE_MYSQL=1 but {reason}")
        pytest.skip(reason)
    return mysql_server()


async def mysql_admin(server: DatabaseUrl, database: str = "") -> aiomysql.Connection:
    """A raw connection for what the tests do behind the store's back (create, kill, sabotage)."""
    return await aiomysql.connect(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password,
        db=database or None,
        autocommit=True,
    )


@pytest.fixture
def fresh_mysql_url() -> Iterator[str]:
    server = require_mysql()
    name = f"monitor_test_{uuid.uuid4().hex[:16]}"
    admin = pymysql.connect(
        host=server.host, port=server.port, user=server.user, password=server.password, autocommit=True
    )
    try:
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        credentials = f"{server.user}:{server.password}@" if server.password else f"{server.user}@"
        yield f"mysql://{credentials}{server.host}:{server.port}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A fresh, empty database of each dialect."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'monitor.db'}"
    return request.getfixturevalue("fresh_mysql_url")


@contextlib.asynccontextmanager
async def opened_store(url: str, **options: Any) -> AsyncIterator[SqlStore]:
    """A store on the database at `url` (`connect_store`'s options), closed when the block ends."""
    opened = await connect_store(url, timeout_s=10, **options)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlStore]:
    """A migrated store on a fresh database of each dialect."""
    await migrate_url(database_url)
    async with opened_store(database_url) as opened:
        yield opened


@pytest.fixture
async def mysql_store(fresh_mysql_url: str) -> AsyncIterator[SqlStore]:
    """A migrated store on a fresh MySQL database, for behaviour only a server has (killed connections)."""
    await migrate_url(fresh_mysql_url)
    async with opened_store(fresh_mysql_url) as opened:
        yield opened


@pytest.fixture
async def other_process(database_url: str, store: SqlStore) -> AsyncIterator[SqlStore]:
    """Another process's store on `store`'s database: its own pool, nothing kept, leases as replica-b."""
    async with opened_store(database_url, owner="replica-b") as other:
        yield other


async def given_user_with_account(store: SqlStore, name: str, client_id: str = "C1") -> tuple[int, int]:
    user_id, _ = await store.add_user(name)
    account_id = await store.add_account(user_id, "paper", "http://127.0.0.1:9000", client_id)
    return user_id, account_id


def an_order(user_id: int, account_id: int, **overrides) -> OrderRow:
    fields = dict(
        user_id=user_id,
        account_id=account_id,
        strategy="breakout",
        symbol="RELIANCE",
        exchange_segment="NSECM",
        instrument_id=2885,
        side="BUY",
        quantity=10,
        entry_type="STOPLIMIT",
        entry_stop_price=Decimal("2500.05"),
        entry_limit_price=Decimal("2501.00"),
        created_at=T0,
        updated_at=T0,
    )
    fields.update(overrides)
    return OrderRow(**fields)
