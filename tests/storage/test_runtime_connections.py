"""The runtime's database connections: on MariaDB the store's pool and the event log's own pool, of the
configured sizes, so cycles holding every store connection never hold up the event log, both closed with
the runtime; on SQLite the event log shares the store's one connection."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

import pymysql
import pytest

from actors.user_monitor.config import CycleConfig
from actors.user_monitor.window import TradingWindow
from adapters.store.repository import Database
from adapters.store.url import parse_database_url
from messages.events import CycleStarted
from service.config import DatabaseConfig
from service.runtime import Runtime
from tests.doubles import RecordingNotifier
from tests.storage.conftest import T0


@contextlib.contextmanager
def running(database_url: str, database: DatabaseConfig | None = None) -> Iterator[Runtime]:
    runtime = Runtime(database_url=database_url, notifier=RecordingNotifier(), database=database,
                      cycle=CycleConfig(interval_s=86_400, window=TradingWindow(enabled=False)))
    try:
        yield runtime
    finally:
        runtime.close()


def connections_to(database_url: str) -> int:
    """Server connections whose current database is the URL's, seen from an admin connection."""
    url = parse_database_url(database_url)
    admin = pymysql.connect(host=url.host, port=url.port, user=url.user, password=url.password)
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = %s", (url.database,))
            (count,) = cursor.fetchone()
            return count
    finally:
        admin.close()


def settled_connections_to(database_url: str, expected: int, within_s: float = 5.0) -> int:
    """Connections once they reach `expected` or after `within_s` (the server lists a closed connection a
    moment longer)."""
    deadline = time.monotonic() + within_s
    while (count := connections_to(database_url)) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return count


async def hold_every_connection(held: contextlib.AsyncExitStack, database: Database, pool_size: int) -> None:
    """Open `pool_size` transactions on `database` and show that one more gets no connection."""
    for _ in range(pool_size):
        await held.enter_async_context(database.transaction())
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(held.enter_async_context(database.transaction()), 0.5)


async def hold_every_store_connection_and_log(runtime: Runtime, pool_size: int) -> None:
    async with contextlib.AsyncExitStack() as held:
        await hold_every_connection(held, runtime.store.database, pool_size)
        runtime.event_log.append(CycleStarted(user_id=1, cycle_id="c-held", at=T0))
        await runtime.event_log.flush(timeout=5)


async def hold_both_pools(runtime: Runtime, database_url: str, store_pool: int, event_log_pool: int) -> int:
    """Server connections while every connection of both pools is held."""
    async with contextlib.AsyncExitStack() as held:
        await hold_every_connection(held, runtime.store.database, store_pool)
        await hold_every_connection(held, runtime.event_log_database, event_log_pool)
        return await asyncio.to_thread(settled_connections_to, database_url, store_pool + event_log_pool)


@pytest.mark.mysql
def test_the_event_log_commits_while_cycles_hold_every_store_connection(fresh_mysql_url: str):
    with running(fresh_mysql_url) as runtime:
        runtime.io.call(hold_every_store_connection_and_log(runtime, pool_size=10))
        [logged] = runtime.io.call(runtime.event_log.read_cycle(1, "c-held"))
        assert logged.event.cycle_id == "c-held"


@pytest.mark.mysql
def test_the_event_log_pool_closes_with_the_runtime(fresh_mysql_url: str):
    with running(fresh_mysql_url) as runtime:
        runtime.event_log.append(CycleStarted(user_id=1, cycle_id="c-1", at=T0))
        runtime.io.call(runtime.event_log.flush(timeout=5))
        assert runtime.event_log_database is not runtime.store.database
        assert connections_to(fresh_mysql_url) >= 2
    assert settled_connections_to(fresh_mysql_url, 0) == 0


@pytest.mark.mysql
def test_the_pools_have_the_configured_sizes(fresh_mysql_url: str):
    sizes = DatabaseConfig(pool_size=3, event_log_pool_size=1)
    with running(fresh_mysql_url, sizes) as runtime:
        assert runtime.io.call(hold_both_pools(runtime, fresh_mysql_url, 3, 1)) == 4
        runtime.io.call(hold_every_store_connection_and_log(runtime, pool_size=3))


def test_with_sqlite_the_event_log_shares_the_store_connection(tmp_path):
    with running(f"sqlite:///{tmp_path / 'monitor.db'}") as runtime:
        assert runtime.event_log_database is runtime.store.database
        runtime.event_log.append(CycleStarted(user_id=1, cycle_id="c-1", at=T0))
        runtime.io.call(runtime.event_log.flush(timeout=5))
        [logged] = runtime.io.call(runtime.event_log.read_cycle(1, "c-1"))
        assert logged.event.cycle_id == "c-1"
