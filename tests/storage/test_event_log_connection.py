"""The runtime's event log writes through its own connections: on MariaDB a pool apart from the store's, so
cycles holding every store connection never hold up the event log, closed with the runtime; on SQLite the
store's one connection, shared."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

import pymysql
import pytest

from actors.user_monitor.window import TradingWindow
from adapters.store.url import parse_database_url
from messages.events import CycleStarted
from service.config import CycleConfig
from service.runtime import Runtime
from tests.doubles import RecordingNotifier
from tests.storage.conftest import T0


@contextlib.contextmanager
def running(database_url: str) -> Iterator[Runtime]:
    runtime = Runtime(database_url=database_url, notifier=RecordingNotifier(),
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


def wait_for_no_connections_to(database_url: str, within_s: float = 5.0) -> int:
    """Connections left after `within_s` (a closed connection leaves the server's list a moment later)."""
    deadline = time.monotonic() + within_s
    while (left := connections_to(database_url)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


async def hold_every_store_connection_and_log(runtime: Runtime, pool_size: int) -> None:
    async with contextlib.AsyncExitStack() as held:
        for _ in range(pool_size):
            await held.enter_async_context(runtime.store.database.transaction())
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(held.enter_async_context(runtime.store.database.transaction()), 0.5)
        runtime.event_log.append(CycleStarted(user_id=1, cycle_id="c-held", at=T0))
        await runtime.event_log.flush(timeout=5)


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
    assert wait_for_no_connections_to(fresh_mysql_url) == 0


def test_with_sqlite_the_event_log_shares_the_store_connection(tmp_path):
    with running(f"sqlite:///{tmp_path / 'monitor.db'}") as runtime:
        assert runtime.event_log_database is runtime.store.database
        runtime.event_log.append(CycleStarted(user_id=1, cycle_id="c-1", at=T0))
        runtime.io.call(runtime.event_log.flush(timeout=5))
        [logged] = runtime.io.call(runtime.event_log.read_cycle(1, "c-1"))
        assert logged.event.cycle_id == "c-1"
