"""Clients on any replica: two `serve` processes over one MariaDB database, linked through NATS (`[fanout]`),
with a WebSocket client of alice on each. The replica holding her lease runs her cycles; the other one's
client gets the same frames, each once, and its `run_cycle`, `pause`, `resume` and batches are carried out
by the holder, whose answers come back. When the holder is killed, the other takes her over and its client
goes on getting her frames, now its own, once each.
"""

from __future__ import annotations

import json
import os
import signal
import time
import tomllib
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import nats
import nats.aio.client
import pytest
from nats.aio.msg import Msg

from actors.io_loop import IoLoop
from tests import paper_sim
from tests.replicas.conftest import AliceAtThePaperBroker
from tests.replicas.fanout_rig import (
    Client,
    LinkedReplica,
    OwnNats,
    database_row,
    fanout_config,
    require_nats,
    wait_until,
)
from tests.web.test_service_over_sockets import ORDER

BATCH = "/api/algo-place-batch-orders"
INTERVAL_S = 2.0
LONG_INTERVAL_S = 120.0
"""Only manual cycles run within a test (and the lease cannot simply expire)."""


@dataclass
class Linked:
    """Alice's client on the replica holding her lease and on the other one."""

    holder: LinkedReplica
    other: LinkedReplica
    at_holder: Client
    at_other: Client
    io: IoLoop
    subject_prefix: str


@pytest.fixture
def linked(request: pytest.FixtureRequest, fresh_mysql_url: str, tmp_path: Path,
           alice: AliceAtThePaperBroker) -> Iterator[Linked]:
    nats = require_nats()
    interval_s = getattr(request, "param", INTERVAL_S)
    config = fanout_config(tmp_path / "monitor.toml", nats, interval_s)
    io = IoLoop("clients")
    replicas: list[LinkedReplica] = []
    clients: list[Client] = []
    try:
        replicas += [LinkedReplica(config, fresh_mysql_url, "first"), LinkedReplica(config, fresh_mysql_url, "second")]
        assert wait_until(lambda: all(r.fanout_up(io) for r in replicas), 15), [r.log() for r in replicas]
        clients.append(Client(io, replicas[0], alice.token))
        assert clients[0].hello()["monitoring"] is True
        clients.append(Client(io, replicas[1], alice.token))
        clients[1].hello()
        prefix = tomllib.loads(config.read_text())["fanout"]["subject_prefix"]
        yield Linked(replicas[0], replicas[1], clients[0], clients[1], io, prefix)
    finally:
        for client in clients:
            client.close()
        for replica in replicas:
            replica.stop()
        io.stop()


def lease_owner(database_url: str, user_id: int) -> str:
    row = database_row(database_url, "SELECT owner FROM monitor_leases WHERE user_id = %s", user_id)
    assert row is not None
    return row[0]


def cycles(client: Client, since: float = 0.0) -> Counter[str]:
    """How many `cycle_summary` frames of each cycle the client got."""
    return Counter(frame["summary"]["cycle_id"] for frame in client.of("cycle_summary", since))


async def post_batch(url: str, token: str, account_id: int, key: str | None = None) -> tuple[int, dict, dict]:
    headers = {"Authorization": f"Bearer {token}", **({"Idempotency-Key": key} if key else {})}
    async with aiohttp.ClientSession() as session, session.post(
            url + BATCH, json={"orders": [{**ORDER, "account_id": account_id}]}, headers=headers) as response:
        return response.status, dict(response.headers), await response.json()


@pytest.mark.mysql
def test_a_client_on_the_replica_without_the_lease_is_greeted_with_the_holders_state_and_gets_every_cycle_once(
        linked: Linked, fresh_mysql_url, alice: AliceAtThePaperBroker):
    # given alice's lease held by the first replica
    assert f":{linked.holder.process.pid}:" in lease_owner(fresh_mysql_url, alice.user_id)

    # then the other replica's client is greeted as monitored, from over there
    hello = linked.at_other.hello()
    assert hello["monitoring"] is True and hello["relayed"] is True and hello["interval_s"] == INTERVAL_S
    assert linked.at_holder.hello()["relayed"] is False
    # and both clients get the same cycles, each exactly once, with everything the holder sends after one
    assert wait_until(lambda: len(cycles(linked.at_other)) >= 3, 8 * INTERVAL_S), linked.at_other.frames
    at_holder, at_other = cycles(linked.at_holder), cycles(linked.at_other)
    greeted_at = next(at for at, frame in linked.at_other.frames if frame["type"] == "hello")
    since_greeted = [f["summary"]["cycle_id"] for f in linked.at_holder.of("cycle_summary", greeted_at)]
    assert set(at_other) <= set(at_holder) and set(since_greeted[:-1]) <= set(at_other)
    assert set(at_holder.values()) == {1} and set(at_other.values()) == {1}, "no cycle is sent twice"
    for kind in ("cycle_started", "accounts", "orders", "pnl"):
        assert len(linked.at_other.of(kind)) >= 3, kind
    # while the replica without the lease ran none of them
    assert "took over" not in linked.other.log()


@pytest.mark.mysql
@pytest.mark.parametrize("linked", [LONG_INTERVAL_S], indirect=True)
def test_run_cycle_sent_to_the_replica_without_the_lease_is_run_by_the_holder(
        linked: Linked, fresh_mysql_url, alice: AliceAtThePaperBroker):
    sent_at = time.monotonic()

    # when the client of the replica without the lease asks for a cycle
    linked.at_other.send({"type": "run_cycle"})

    # then the holder runs one, labelled manual, and both clients see it once
    assert wait_until(lambda: cycles(linked.at_other, sent_at) and cycles(linked.at_holder, sent_at), 20)
    [started] = linked.at_other.of("cycle_started", sent_at)
    assert started["trigger"] == "manual"
    assert cycles(linked.at_other, sent_at) == cycles(linked.at_holder, sent_at)
    assert not linked.at_other.of("error", sent_at)
    # and the holder's limit of one manual cycle per 10 s answers a second one at once, nothing started
    linked.at_other.send({"type": "run_cycle"})
    assert wait_until(lambda: linked.at_other.of("error", sent_at), 10)
    assert "one manual cycle per 10 s" in linked.at_other.of("error", sent_at)[0]["message"]
    assert len(linked.at_holder.of("cycle_started", sent_at)) == 1
    # and the cycle is in the event log
    row = database_row(fresh_mysql_url, "SELECT COUNT(*) FROM monitor_events WHERE user_id = %s AND cycle_id = %s",
                       alice.user_id, started["cycle_id"])
    assert row is not None and row[0] > 0


@pytest.mark.mysql
@pytest.mark.parametrize("linked", [LONG_INTERVAL_S], indirect=True)
def test_pause_and_resume_sent_to_the_replica_without_the_lease_are_turned_by_the_holder(
        linked: Linked, fresh_mysql_url, alice: AliceAtThePaperBroker):
    sent_at = time.monotonic()

    # when the client of the replica without the lease pauses
    linked.at_other.send({"type": "pause", "reason": "lunch"})

    # then every client is told, the switch is stored, and the holder starts a cycle at once (the pause's)
    assert wait_until(lambda: linked.at_holder.of("paused", sent_at) and linked.at_other.of("paused", sent_at), 10)
    assert [f["reason"] for f in linked.at_other.of("paused", sent_at)] == ["lunch"]
    assert [f["reason"] for f in linked.at_holder.of("paused", sent_at)] == ["lunch"]
    assert database_row(fresh_mysql_url, "SELECT paused, pause_reason FROM users WHERE id = %s",
                        alice.user_id) == (1, "lunch")
    assert wait_until(lambda: linked.at_holder.of("cycle_started", sent_at), 10)
    assert [f["trigger"] for f in linked.at_holder.of("cycle_started", sent_at)] == ["manual"]
    assert "stored here" not in linked.other.log(), "the holder answered: no fallback to storing it here"

    # when it resumes
    resumed_at = time.monotonic()
    linked.at_other.send({"type": "resume"})
    assert wait_until(lambda: linked.at_other.of("paused", resumed_at), 10)
    assert linked.at_other.of("paused", resumed_at)[0]["paused"] is False
    assert database_row(fresh_mysql_url, "SELECT paused FROM users WHERE id = %s", alice.user_id) == (0,)
    assert not linked.at_other.of("error", sent_at)


@pytest.mark.mysql
@pytest.mark.parametrize("linked", [LONG_INTERVAL_S], indirect=True)
def test_a_batch_posted_to_the_replica_without_the_lease_is_placed_once_by_the_holder(
        linked: Linked, fresh_mysql_url, alice: AliceAtThePaperBroker):
    key = f"fanout-{uuid.uuid4().hex}"

    # when a batch reaches the replica that does not hold alice's lease
    status, headers, body = linked.io.call(post_batch(linked.other.url, alice.token, alice.account_id, key))

    # then it is the holder's answer: placed at the broker, exactly once
    assert status == 200, body
    [result] = body["results"]
    assert result["outcome"] == "placed", result
    journal = alice.io.call(_journal(alice.paper_url))
    assert paper_sim.placements(journal)[result["tag"]] == 1
    # and the same batch sent again with its key gets that answer back, nothing placed again
    status, headers, again = linked.io.call(post_batch(linked.other.url, alice.token, alice.account_id, key))
    assert status == 200 and again == body and headers.get("Idempotent-Replayed") == "true"
    journal = alice.io.call(_journal(alice.paper_url))
    assert sum(paper_sim.placements(journal).values()) == 1
    assert database_row(fresh_mysql_url, "SELECT COUNT(*) FROM orders WHERE entry_tag = %s", result["tag"]) == (1,)


@pytest.mark.mysql
@pytest.mark.parametrize("linked", [LONG_INTERVAL_S], indirect=True)
def test_orders_a_frozen_holder_does_not_answer_are_told_as_maybe_done_and_a_pause_is_stored_anyway(
        linked: Linked, fresh_mysql_url, alice: AliceAtThePaperBroker):
    # given the holder frozen (SIGSTOP): its lease and its NATS connection stay, it answers nothing
    os.kill(linked.holder.process.pid, signal.SIGSTOP)
    try:
        asked_at = time.monotonic()

        # when the other replica's client asks for a cycle
        linked.at_other.send({"type": "run_cycle"})

        # then after the timeout it is told the truth: it may or may not start
        assert wait_until(lambda: linked.at_other.of("error", asked_at), 15)
        assert linked.at_other.of("error", asked_at)[0]["message"] == (
            "run_cycle: the replica monitoring you did not answer within 3 s; a cycle may or may not start "
            "(its cycle_started frame would say)")
        # and a pause is stored all the same, for the holder to apply at its next cycle
        linked.at_other.send({"type": "pause", "reason": "frozen"})
        assert wait_until(lambda: database_row(fresh_mysql_url, "SELECT paused, pause_reason FROM users "
                                               "WHERE id = %s", alice.user_id) == (1, "frozen"), 15)
        assert wait_until(lambda: [f for f in linked.at_other.of("paused", asked_at) if f["reason"] == "frozen"], 5)
        assert "did not answer" in linked.other.log() and "stored here" in linked.other.log()
    finally:
        os.kill(linked.holder.process.pid, signal.SIGCONT)

    # and once thawed, the holder carries out the cycle it was asked for: "may" was the truth
    assert wait_until(lambda: linked.at_other.of("cycle_started", asked_at), 15)
    assert linked.at_other.of("cycle_started", asked_at)[0]["trigger"] == "manual"


@pytest.mark.mysql
@pytest.mark.parametrize("linked", [LONG_INTERVAL_S], indirect=True)
def test_no_secret_travels_between_the_replicas(linked: Linked, alice: AliceAtThePaperBroker):
    # given everything published on the replicas' subjects and their answers' inboxes, overheard
    overheard: list[tuple[str, bytes]] = []

    async def listen() -> nats.aio.client.Client:
        connection = await nats.connect(require_nats())

        async def keep(message: Msg) -> None:
            overheard.append((message.subject, message.data))
        await connection.subscribe(f"{linked.subject_prefix}.>", cb=keep)
        await connection.subscribe("_INBOX.>", cb=keep)
        await connection.flush()
        return connection
    listener = linked.io.call(listen())
    try:
        # when the other replica's client runs a cycle, pauses, resumes, and a batch is forwarded
        started_at = time.monotonic()
        linked.at_other.send({"type": "run_cycle"})
        assert wait_until(lambda: cycles(linked.at_other, started_at), 20)
        linked.at_other.send({"type": "pause", "reason": "check"})
        assert wait_until(lambda: linked.at_other.of("paused", started_at), 10)
        linked.at_other.send({"type": "resume"})
        assert wait_until(lambda: len(linked.at_other.of("paused", started_at)) == 2, 10)
        status, _, body = linked.io.call(post_batch(linked.other.url, alice.token, alice.account_id))
        assert status == 200, body
    finally:
        linked.io.call(listener.close())

    # then frames, orders and answers all went over NATS, and none of them holds a secret
    subjects = {subject.rsplit(".", 1)[-1] for subject, _ in overheard}
    assert "frames" in subjects and any(s.startswith(f"{linked.subject_prefix}.replica.") for s, _ in overheard)
    assert any(b'"answer":"http"' in data for _, data in overheard)
    secrets = (alice.token.encode(), b"s3cret")
    assert not [(subject, data) for subject, data in overheard if any(secret in data for secret in secrets)]


async def _journal(paper_url: str) -> list[dict]:
    async with aiohttp.ClientSession() as session:
        return await paper_sim.journal(session, paper_url)


@pytest.mark.mysql
def test_the_holder_killed_the_other_takes_alice_over_and_its_client_gets_her_frames_once(
        linked: Linked, fresh_mysql_url, alice: AliceAtThePaperBroker):
    assert wait_until(lambda: cycles(linked.at_other), 6 * INTERVAL_S)

    # when the holder is killed without a goodbye
    killed_at = time.monotonic()
    os.kill(linked.holder.process.pid, signal.SIGKILL)
    linked.holder.process.wait(timeout=10)

    # then the other replica takes her over and its client goes on getting her cycles, now its own, once each
    assert wait_until(lambda: len(cycles(linked.at_other, killed_at)) >= 3, 2 * INTERVAL_S + 4 * INTERVAL_S + 4)
    assert "takeover" in [f["trigger"] for f in linked.at_other.of("cycle_started", killed_at)]
    assert set(cycles(linked.at_other).values()) == {1}, "no cycle is sent twice"
    assert f":{linked.other.process.pid}:" in lease_owner(fresh_mysql_url, alice.user_id)
    starts = Counter(f["cycle_id"] for f in linked.at_other.of("cycle_started"))
    assert set(starts.values()) == {1}


@pytest.mark.mysql
def test_without_nats_each_replica_serves_its_own_clients_and_says_what_does_not_reach_the_others(
        fresh_mysql_url, tmp_path, alice: AliceAtThePaperBroker):
    nats = OwnNats()
    interval_s = 2 * INTERVAL_S  # cycles 4 s apart (the lease is the send guard's 22 s: room for late renewals)
    config = fanout_config(tmp_path / "monitor.toml", nats.url, interval_s)
    io = IoLoop("clients")
    replicas: list[LinkedReplica] = []
    clients: list[Client] = []
    try:
        # given two replicas started while their NATS is down: both serve, and say so
        replicas += [LinkedReplica(config, fresh_mysql_url, "first"), LinkedReplica(config, fresh_mysql_url, "second")]
        holder, other = replicas
        assert wait_until(lambda: all("not reachable" in r.log() for r in replicas), 10), [r.log() for r in replicas]
        clients += [Client(io, holder, alice.token)]
        assert clients[0].hello()["monitoring"] is True
        clients += [Client(io, other, alice.token)]
        at_holder, at_other = clients

        # then the holder's client gets every cycle; the other's is told it gets none, and why
        hello = at_other.hello()
        assert hello["monitoring"] is False and hello["relayed"] is False
        assert wait_until(lambda: at_other.of("fanout"), 5)
        assert at_other.of("fanout")[0]["up"] is False and "down" in at_other.of("fanout")[0]["message"]
        assert wait_until(lambda: len(cycles(at_holder)) >= 2, 6 * interval_s), holder.log()
        assert not at_other.of("cycle_summary"), other.log()
        # and its orders are refused as not delivered, nothing started, written or sent
        asked_at = time.monotonic()
        at_other.send({"type": "run_cycle"})
        assert wait_until(lambda: at_other.of("error", asked_at), 10)
        assert at_other.of("error", asked_at)[0]["message"] == (  # the lease, read first, names the holder
            "run_cycle not delivered: this replica's link to the others (NATS) is down; nothing was started")
        status, _, body = io.call(post_batch(other.url, alice.token, alice.account_id))
        assert status == 503 and body["reason"] == "holder_unreachable", (body, other.log())
        assert "nothing was written or sent" in body["error"]
        assert alice.io.call(_journal(alice.paper_url)) == []

        # when NATS comes up
        up_at = time.monotonic()
        nats.start(tmp_path)

        # then the other client is told, gets the current state, and from then on every cycle
        assert wait_until(lambda: [f for f in at_other.of("fanout", up_at) if f["up"]], 15), other.log()
        assert wait_until(lambda: at_other.of("orders", up_at) and at_other.of("recent", up_at), 5)
        assert wait_until(lambda: len(cycles(at_other, up_at)) >= 2, 6 * interval_s), (at_other.frames, other.log())

        # when NATS goes down again
        nats.kill()
        down_at = time.monotonic()

        # then the other client is told at once, and the holder's goes on getting every cycle
        assert wait_until(lambda: [f for f in at_other.of("fanout", down_at) if not f["up"]], 15)
        assert wait_until(lambda: len(cycles(at_holder, down_at)) >= 2, 6 * interval_s), holder.log()
        assert not cycles(at_other, down_at + 1.0), other.log()
        assert "the link to NATS is down" in other.log()
        # and a pause sent to the other replica is still stored (the holder applies it at its next cycle)
        status, body = io.call(_pause(other.url, alice.token))
        assert (status, body) == (200, {"paused": True, "reason": "no link"})
        assert database_row(fresh_mysql_url, "SELECT paused, pause_reason FROM users WHERE id = %s",
                            alice.user_id) == (1, "no link")
        assert "stored here" in other.log()
    finally:
        for client in clients:
            client.close()
        for replica in replicas:
            replica.stop()
        nats.kill()
        io.stop()


async def _pause(url: str, token: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.post(
            f"{url}/api/pause", json={"reason": "no link"}, headers={"Authorization": f"Bearer {token}"}) as response:
        return response.status, await response.json()


@pytest.mark.mysql
def test_a_frame_larger_than_nats_carries_reaches_the_other_replicas_client_as_the_state_read_again(
        fresh_mysql_url, tmp_path, alice: AliceAtThePaperBroker):
    nats = OwnNats(config=f"max_payload: {SMALL_PAYLOAD}\n")
    nats.start(tmp_path)
    config = fanout_config(tmp_path / "monitor.toml", nats.url, INTERVAL_S)
    io = IoLoop("clients")
    replicas: list[LinkedReplica] = []
    clients: list[Client] = []
    try:
        replicas += [LinkedReplica(config, fresh_mysql_url, "first"), LinkedReplica(config, fresh_mysql_url, "second")]
        assert wait_until(lambda: all(r.fanout_up(io) for r in replicas), 15)
        clients += [Client(io, replicas[0], alice.token)]
        assert clients[0].hello()["monitoring"] is True
        clients += [Client(io, replicas[1], alice.token)]
        at_holder, at_other = clients
        assert at_other.hello()["relayed"] is True

        # when the holder's cycle summaries are larger than this NATS carries
        assert wait_until(lambda: len(cycles(at_holder)) >= 2, 6 * INTERVAL_S)
        summaries = at_holder.of("cycle_summary")
        assert min(len(json.dumps(f)) for f in summaries) > SMALL_PAYLOAD

        # then the other client gets no summary, but is told, and gets those cycles in the state read again
        assert not at_other.of("cycle_summary")
        told = [f for f in at_other.of("fanout") if "cycle_summary frame of" in f["message"]]
        assert told and told[0]["up"] is True and told[0]["message"].endswith(": it follows")
        recent_cycles = {c["cycle_id"] for f in at_other.of("recent") for c in f["cycles"]}
        assert summaries[0]["summary"]["cycle_id"] in recent_cycles
        assert "sent as a resync" in replicas[0].log()
    finally:
        for client in clients:
            client.close()
        for replica in replicas:
            replica.stop()
        nats.kill()
        io.stop()


SMALL_PAYLOAD = 700
"""A NATS `max_payload` below a cycle summary's size and above the greeting's."""
