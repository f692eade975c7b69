"""The lease keeper and the send guard on a real service over one MariaDB database: a renewal the database
answered late counts the lease from when it was sent, never from its answer; a user whose renewals fail is no
longer monitored (nor sent for) once the lease counted here has run out, and is taken back when the database
answers again; a batch sent where no replica holds the user takes the lease for its placement and gives it up
after, and a client who connects after that takes the next lease with no take-over cycle, unless another replica
held the user in between."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator

import aiohttp
import pymysql
import pytest

from actors.io_loop import IoLoop
from actors.user_monitor.config import CycleConfig
from actors.user_monitor.window import TradingWindow
from service.config import BrokerConfig, LeaseConfig
from service.server import Service
from tests.replicas.test_replica_rule import close_all, hello_then_hold, post_batch
from tests.storage.conftest import mysql_server
from tests.web.conftest import served_at

INTERVAL_S, CALL_TIMEOUT_S, MARGIN_S = 9.0, 1.0, 0.25
"""A lease of one interval (9 s), renewed every 3 s."""
HELD_BACK_S = 1.5


def admin(database: str) -> pymysql.Connection:
    server = mysql_server()
    return pymysql.connect(host=server.host, port=server.port, user=server.user, password=server.password,
                           database=database, autocommit=True)


@contextlib.contextmanager
def service_on(database_url: str) -> Iterator[Service]:
    service = Service(database_url=database_url, host="127.0.0.1", port=0,
                      cycle=CycleConfig(interval_s=INTERVAL_S, window=TradingWindow(enabled=False)),
                      broker=BrokerConfig(call_timeout_s=CALL_TIMEOUT_S, pacing=False),
                      leases=LeaseConfig(clock_drift_margin_s=MARGIN_S))
    try:
        yield service
    finally:
        service.close(drain_deadline_s=10)


def wait_until(predicate: Callable[[], bool], timeout: float, every_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(every_s)
    return True


def renewal_waiting_on_a_lock(connection: pymysql.Connection, database: str) -> bool:
    """Whether the lease renewal's first statement waits for a row lock in `database`. (Asked many times a
    second, these information_schema reads starve the renewal they look for: ask every 0.25 s.)"""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p "
                       "ON p.ID = t.trx_mysql_thread_id WHERE t.trx_state = 'LOCK WAIT' AND p.DB = %s "
                       "AND p.INFO LIKE 'INSERT INTO monitor_leases%%'", (database,))
        return cursor.fetchone()[0] > 0


@pytest.mark.mysql
def test_a_renewal_answered_late_counts_the_lease_from_when_it_was_sent(fresh_mysql_url):
    database = fresh_mysql_url.rsplit("/", 1)[1]
    client, connected = IoLoop(), []
    try:
        with service_on(fresh_mysql_url) as service, contextlib.closing(admin(database)) as locker, \
                contextlib.closing(admin(database)) as watcher:
            guard = service.leases.guard
            assert guard.lease_s == INTERVAL_S
            user_id, token = service.runtime.io.call(service.runtime.store.add_user("alice"))
            assert client.call(hello_then_hold(service.url, token, connected))["monitoring"] is True
            before = guard.valid_until(user_id)
            assert before is not None

            # given the lease row locked by another transaction, so the next renewal waits for it
            with locker.cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute("SELECT * FROM monitor_leases WHERE user_id = %s FOR UPDATE", (user_id,))
            assert wait_until(lambda: renewal_waiting_on_a_lock(watcher, database), timeout=INTERVAL_S, every_s=0.25)
            waiting_since = time.monotonic()  # the renewal was sent before this

            # when the lock is held HELD_BACK_S longer, so the renewal's answer comes that much later
            time.sleep(HELD_BACK_S)
            locker.rollback()
            assert wait_until(lambda: guard.valid_until(user_id) != before, timeout=INTERVAL_S)

            # then the lease counts from before the renewal was sent, not from its answer
            after = guard.valid_until(user_id)
            assert after is not None and before < after <= waiting_since + INTERVAL_S - MARGIN_S
            assert service.leases.monitors(user_id)
    finally:
        client.call(close_all(connected))
        client.stop()


@pytest.mark.mysql
def test_a_user_whose_renewals_fail_is_let_go_when_the_lease_runs_out_here_and_taken_back_after(
        fresh_mysql_url, caplog):
    caplog.set_level(logging.WARNING)
    database = fresh_mysql_url.rsplit("/", 1)[1]
    client, connected = IoLoop(), []
    try:
        with service_on(fresh_mysql_url) as service, contextlib.closing(admin(database)) as dba:
            keeper, guard = service.leases, service.leases.guard
            user_id, token = service.runtime.io.call(service.runtime.store.add_user("alice"))
            assert client.call(hello_then_hold(service.url, token, connected))["monitoring"] is True

            # given every renewal failing from now on (the lease table gone)
            with dba.cursor() as cursor:
                cursor.execute("RENAME TABLE monitor_leases TO monitor_leases_away")
            valid_until = guard.valid_until(user_id)
            assert valid_until is not None

            # when the lease counted here runs out: the user is no longer monitored, nor sent for, and not before
            assert wait_until(lambda: not keeper.monitors(user_id), timeout=INTERVAL_S + 5)
            assert time.monotonic() >= valid_until
            assert guard.valid_until(user_id) is None and not guard.lets_out(user_id)
            logged = caplog.text
            assert f"lease of user {user_id} not renewed" in logged
            assert f"lease of user {user_id} ran out" in logged and "unrenewed: no longer monitoring" in logged

            # then once renewals work again, the keeper takes the user back (its client is still here)
            with dba.cursor() as cursor:
                cursor.execute("RENAME TABLE monitor_leases_away TO monitor_leases")
            assert wait_until(lambda: keeper.monitors(user_id), timeout=INTERVAL_S)
            assert guard.lets_out(user_id)
    finally:
        client.call(close_all(connected))
        client.stop()


@pytest.mark.mysql
def test_a_batch_where_no_replica_holds_the_user_takes_the_lease_for_its_placement_and_gives_it_up(
        fresh_mysql_url):
    database = fresh_mysql_url.rsplit("/", 1)[1]
    with served_at(fresh_mysql_url) as served, contextlib.closing(admin(database)) as dba:
        user_id, token, [account] = served.user("alice", "PAPER1")
        served.sim("price", symbol="SBIN", ltp="800.00")
        client = IoLoop()
        try:
            status, _, body = client.call(post_batch(served.url, token, account))
        finally:
            client.stop()

        assert status == 200 and body["results"][0]["outcome"] == "placed", body
        assert served.placements_at_the_broker() == {body["results"][0]["tag"]: 1}

        def lease() -> tuple:
            with dba.cursor() as cursor:
                cursor.execute("SELECT owner, fencing_token, expires_at FROM monitor_leases WHERE user_id = %s",
                               (user_id,))
                return cursor.fetchone()
        assert wait_until(lambda: lease()[2].year == 1970, timeout=10), "released once the placement ended"
        owner, fencing_token, _ = lease()
        assert owner == served.store.owner and fencing_token == 1
        assert served.service.leases.guard.valid_until(user_id) is None
        assert not served.service.leases.monitors(user_id)


async def connect_triggers(url: str, token: str, connected: list, listen_s: float = 2.0) -> list[str]:
    """Connect a client of the user and return the triggers of the cycles that start within `listen_s`."""
    session = aiohttp.ClientSession()
    ws = await session.ws_connect(f"{url}/ws", headers={"Authorization": f"Bearer {token}"})
    connected.append((session, ws))
    triggers = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(listen_s):
            while True:
                frame = await ws.receive_json()
                if frame["type"] == "cycle_started":
                    triggers.append(frame["trigger"])
    return triggers


@pytest.mark.parametrize("held_between", [False, True], ids=["only-this-placement", "another-replica-between"])
def test_a_client_after_a_placement_of_its_own_takes_no_take_over_cycle_but_one_after_another_replica_does(
        fresh_mysql_url, held_between):
    database = fresh_mysql_url.rsplit("/", 1)[1]
    with served_at(fresh_mysql_url) as served, contextlib.closing(admin(database)) as dba:
        user_id, token, [account] = served.user("alice", "PAPER1")
        served.sim("price", symbol="SBIN", ltp="800.00")
        client, connected = IoLoop(), []
        try:
            status, _, body = client.call(post_batch(served.url, token, account))
            assert status == 200 and body["results"][0]["outcome"] == "placed", body
            with dba.cursor() as cursor:
                assert wait_until(lambda: cursor.execute(
                    "SELECT 1 FROM monitor_leases WHERE user_id = %s AND expires_at < '2000-01-01'", (user_id,)) == 1,
                    timeout=10), "the placement's lease given up"
                if held_between:  # another replica held the user and gave it up since
                    cursor.execute("UPDATE monitor_leases SET owner = 'replica-b', fencing_token = fencing_token + 1 "
                                   "WHERE user_id = %s", (user_id,))

            triggers = client.call(connect_triggers(served.url, token, connected))

            assert ("connect" in triggers) is held_between, triggers
            with dba.cursor() as cursor:
                cursor.execute("SELECT fencing_token FROM monitor_leases WHERE user_id = %s", (user_id,))
                assert cursor.fetchone()[0] == (3 if held_between else 2)
        finally:
            client.call(close_all(connected))
            client.stop()
