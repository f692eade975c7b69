"""The replica rule on one MariaDB database: a batch sent to a replica that does not hold the user's lease
is refused (503, Retry-After, a JSON reason) with nothing written and nothing sent; a `serve` killed with
SIGKILL and restarted on the same host takes its user back at once, without waiting for its dead
predecessor's lease to expire, and places a batch sent to it."""

import asyncio
import json
import os
import signal
import time

import aiohttp
import pytest

from actors.io_loop import IoLoop
from tests.replicas.conftest import AliceAtThePaperBroker
from tests.replicas.test_two_replicas import Replica, lease_row
from tests.web.conftest import served_at
from tests.web.test_service_over_sockets import ORDER

BATCH = "/api/algo-place-batch-orders"
LONG_INTERVAL_S = 120
"""Leases last one interval: long enough that a dead process's lease cannot simply expire during a test."""


async def post_batch(url: str, token: str, account_id: int) -> tuple[int, dict, dict]:
    async with aiohttp.ClientSession() as session, session.post(
            url + BATCH, json={"orders": [{**ORDER, "account_id": account_id}]},
            headers={"Authorization": f"Bearer {token}"}) as response:
        return response.status, dict(response.headers), await response.json()


async def broker_orders(paper_url: str) -> list[dict]:
    async with aiohttp.ClientSession() as session, session.get(f"{paper_url}/_sim/orders") as response:
        return await response.json()


async def hello_then_hold(url: str, token: str, connected: list) -> dict:
    """Connect a client, return its `hello` (a take-over's `cycle_started` may come first); the socket stays
    open (in `connected`) until closed there."""
    session = aiohttp.ClientSession()
    ws = await session.ws_connect(f"{url}/ws", headers={"Authorization": f"Bearer {token}"})
    connected.append((session, ws))
    async with asyncio.timeout(10):
        while (frame := await ws.receive_json())["type"] != "hello":
            assert frame["type"] == "cycle_started", frame
    return frame


async def close_all(connected: list) -> None:
    for session, ws in connected:
        await ws.close()
        await session.close()


@pytest.mark.mysql
def test_a_batch_sent_to_a_replica_without_the_users_lease_is_refused_with_503_and_nothing_is_written(
        fresh_mysql_url):
    with served_at(fresh_mysql_url) as holder, served_at(fresh_mysql_url) as other:
        client, connected = IoLoop(), []
        try:
            # given alice's client on the first replica, which therefore holds her lease
            _, token, [account] = holder.user("alice", "PAPER1")
            assert client.call(hello_then_hold(holder.url, token, connected))["monitoring"] is True

            # when her batch reaches the other replica
            status, headers, body = client.call(post_batch(other.url, token, account))

            # then it is refused clearly, and nothing is written or sent
            assert status == 503
            assert int(headers["Retry-After"]) >= 1 and body["reason"] == "lease_held_elsewhere"
            assert body["retry_after_s"] == int(headers["Retry-After"]) and "nothing was written" in body["error"]
            assert holder.request("GET", "/api/orders", token)[1]["orders"] == []
            assert client.call(broker_orders(holder.paper.url)) == []
            # and the replica holding the lease places the same batch
            status, _, body = client.call(post_batch(holder.url, token, account))
            assert status == 200 and body["results"][0]["outcome"] == "placed"
        finally:
            client.call(close_all(connected))
            client.stop()


@pytest.mark.mysql
def test_a_serve_killed_and_restarted_takes_its_user_back_at_once_and_places_a_batch(
        fresh_mysql_url, tmp_path, alice: AliceAtThePaperBroker):
    client, connected = IoLoop(), []
    replicas: list[Replica] = []
    try:
        config = tmp_path / "monitor.toml"
        config.write_text(f"[server]\nport = 0\n[cycle]\ninterval_s = {LONG_INTERVAL_S}\n"
                          "[cycle.window]\nenabled = false\n")
        database = fresh_mysql_url.rsplit("/", 1)[1]

        # given a serve monitoring alice (it holds her lease for a whole interval)...
        first = Replica(config, fresh_mysql_url)
        replicas.append(first)
        assert client.call(hello_then_hold(first.url, alice.token, connected))["monitoring"] is True
        assert f":{first.process.pid}:" in lease_row(database, alice.user_id)[0]
        # ...killed without a goodbye, its lease left unexpired
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
        client.call(close_all(connected))
        connected.clear()

        # when it is started again on the same host and alice reconnects
        restarted_at = time.monotonic()
        second = Replica(config, fresh_mysql_url)
        replicas.append(second)
        hello = client.call(hello_then_hold(second.url, alice.token, connected))

        # then it monitors her at once, with the next fencing token
        assert hello["monitoring"] is True and time.monotonic() - restarted_at < LONG_INTERVAL_S / 4
        owner, fencing_token = lease_row(database, alice.user_id)
        assert f":{second.process.pid}:" in owner and fencing_token == 2
        # and a batch sent to it is placed at the broker
        status, _, body = client.call(post_batch(second.url, alice.token, alice.account_id))
        assert status == 200, body
        [result] = body["results"]
        assert result["outcome"] == "placed", result
        assert [o for o in alice.io.call(broker_orders(alice.paper_url)) if json.dumps(o).count(result["tag"])]
    finally:
        client.call(close_all(connected))
        client.stop()
        for replica in replicas:
            replica.stop()
