"""Simultaneous first connections of one user, spread over two replicas (two in-process services sharing one
MariaDB database): they converge to exactly one monitoring replica, every `hello` says truly whether its
replica monitors the user, no replica loses the lease to itself, and a manual cycle still reports."""

import asyncio
import json
import logging

import aiohttp
import pytest

from actors.io_loop import IoLoop
from tests.replicas.test_two_replicas import lease_row
from tests.web.conftest import Served

CONNECTS = 20
SUMMARY_DEADLINE_S = 15.0


async def hello_of(ws: aiohttp.ClientWebSocketResponse) -> dict:
    frame = await ws.receive_json(timeout=10)
    assert frame["type"] == "hello", frame
    return frame


async def summary_after_run_cycle(ws: aiohttp.ClientWebSocketResponse) -> dict:
    await ws.send_str(json.dumps({"type": "run_cycle"}))
    async with asyncio.timeout(SUMMARY_DEADLINE_S):
        async for message in ws:
            frame = json.loads(message.data)
            if frame["type"] == "cycle_summary":
                return frame
    raise AssertionError("the socket closed before a cycle summary came")


@pytest.mark.mysql
def test_twenty_simultaneous_connects_over_two_replicas_leave_exactly_one_monitoring(fresh_mysql_url, caplog):
    caplog.set_level(logging.INFO)
    replicas = [Served(fresh_mysql_url), Served(fresh_mysql_url)]
    client = IoLoop()
    try:
        user_id, token, _ = replicas[0].user("alice", "PAPER1")
        spread = [replicas[i % 2] for i in range(CONNECTS)]

        async def connect_all_then_run_a_cycle() -> tuple[list[dict], dict]:
            headers = {"Authorization": f"Bearer {token}"}
            async with aiohttp.ClientSession() as session:
                sockets = await asyncio.gather(*(session.ws_connect(f"{r.url}/ws", headers=headers) for r in spread))
                try:
                    hellos = list(await asyncio.gather(*(hello_of(ws) for ws in sockets)))
                    monitoring = [ws for ws, hello in zip(sockets, hellos, strict=True) if hello["monitoring"]]
                    summary = await summary_after_run_cycle(monitoring[0]) if monitoring else {}
                    return hellos, summary
                finally:
                    await asyncio.gather(*(ws.close() for ws in sockets))

        # given one user and two replicas; when 20 clients connect at the same moment, 10 on each
        hellos, summary = client.call(connect_all_then_run_a_cycle())

        # then the replica holding the lease greets every client with monitoring true, the other with false
        by_replica = {id(r): [h["monitoring"] for r2, h in zip(spread, hellos, strict=True) if r2 is r]
                      for r in replicas}
        owner, fencing_token = lease_row(fresh_mysql_url.rsplit("/", 1)[1], user_id)
        [holder] = [r for r in replicas if r.store.owner == owner]
        other = next(r for r in replicas if r is not holder)
        assert by_replica[id(holder)] == [True] * (CONNECTS // 2)
        assert by_replica[id(other)] == [False] * (CONNECTS // 2)
        # and the lease was taken once, never lost (to itself or anyone), with no duplicate-key error
        assert fencing_token == 1
        logged = [record.getMessage() for record in caplog.records]
        assert not [m for m in logged if "1062" in m or "Duplicate entry" in m or " lost to " in m or "crashed" in m]
        # and a manual cycle on the monitoring replica reports its summary
        assert summary and summary["summary"]["user_id"] == user_id
    finally:
        client.stop()
        for replica in replicas:
            replica.io.call(replica._stack.aclose())
            replica.close()


@pytest.mark.mysql
def test_a_run_cycle_sent_to_the_replica_that_does_not_monitor_the_user_is_refused_with_an_error_frame(
        fresh_mysql_url):
    replicas = [Served(fresh_mysql_url), Served(fresh_mysql_url)]
    client = IoLoop()
    try:
        _, token, _ = replicas[0].user("alice", "PAPER1")

        async def run_cycle_on_the_second_replica() -> tuple[bool, bool, dict]:
            headers = {"Authorization": f"Bearer {token}"}
            async with aiohttp.ClientSession() as session:
                first = await session.ws_connect(f"{replicas[0].url}/ws", headers=headers)
                second = await session.ws_connect(f"{replicas[1].url}/ws", headers=headers)
                try:
                    monitored_by_first = (await hello_of(first))["monitoring"]
                    monitored_by_second = (await hello_of(second))["monitoring"]
                    await second.send_str(json.dumps({"type": "run_cycle"}))
                    async with asyncio.timeout(10):
                        async for message in second:
                            frame = json.loads(message.data)
                            if frame["type"] == "error":
                                return monitored_by_first, monitored_by_second, frame
                    raise AssertionError("the socket closed before an answer to run_cycle came")
                finally:
                    await first.close()
                    await second.close()

        # given a user monitored by the first replica, with a client on each
        # when the client of the second replica asks for a cycle
        monitored_by_first, monitored_by_second, answer = client.call(run_cycle_on_the_second_replica())

        # then the second replica says it does not run the user's cycles, instead of dropping the request
        assert (monitored_by_first, monitored_by_second) == (True, False)
        assert answer["message"].startswith("run_cycle refused: another replica monitors you")
    finally:
        client.stop()
        for replica in replicas:
            replica.io.call(replica._stack.aclose())
            replica.close()
