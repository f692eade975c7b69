"""The batch API places its orders through the OrderPlacer actor, over real sockets, against the paper broker, on
SQLite and MariaDB: one `PlaceEntries` per account, answered by that room; and when the room gives no answer
the orders are answered with what can truly be said: `not_placed` when it never got them (stopped), `in_flight`
when it failed or did not answer in time, never `placed`."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import pykka
import pytest

from actors.order_placer.actor import OrderPlacer
from actors.order_placer.batch_step import PlaceEntriesStep
from actors.worker import Request
from messages.commands import PlaceEntries
from service.web.context import WebSettings
from tests.web.conftest import Served, running_service
from tests.web.test_batch_outcomes import BATCH, rows_of
from tests.web.test_service_over_sockets import ORDER

DEADLINE_S = 0.3


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def impatient(request: pytest.FixtureRequest, tmp_path) -> Iterator[Served]:
    """A service whose batches wait `DEADLINE_S` for each account's placement."""
    yield from running_service(request, tmp_path, WebSettings(batch_deadline_s=DEADLINE_S))


def orders(account: int, count: int) -> list[dict]:
    return [{**ORDER, "account_id": account, "strategy": f"s{n}"} for n in range(count)]


def test_each_accounts_orders_reach_the_broker_as_one_command_the_order_placer_answers(
        served: Served, monkeypatch: pytest.MonkeyPatch):
    received: list[PlaceEntries] = []
    on_receive = OrderPlacer.on_receive

    def recording(self: OrderPlacer, message: object) -> object:
        if isinstance(message, Request) and isinstance(message.command, PlaceEntries):
            received.append(message.command)
        return on_receive(self, message)

    monkeypatch.setattr(OrderPlacer, "on_receive", recording)
    _, token, [first, second] = served.user("alice", "A1", "A2")

    status, body = served.request("POST", BATCH, token, json={"orders": orders(first, 2) + orders(second, 1)})

    assert status == 200
    assert [r["outcome"] for r in body["results"]] == ["placed"] * 3
    assert sorted((c.account_id, [e.strategy for e in c.entries]) for c in received) == [
        (first, ["s0", "s1"]), (second, ["s0"])]
    assert served.placements_at_the_broker() == Counter({r["tag"]: 1 for r in body["results"]})


def test_a_batch_sent_after_the_order_placer_stopped_is_not_placed_and_nothing_is_written_or_sent(served: Served):
    user_id, token, [account] = served.user("bob", "B1")
    [placer] = pykka.ActorRegistry.get_by_class(OrderPlacer)
    placer.stop()

    status, body = served.request("POST", BATCH, token, json={"orders": orders(account, 2)})

    assert status == 200
    assert [(r["outcome"], r["reason"], r["order_id"]) for r in body["results"]] == [
        ("not_placed", f"account {account}: not sent: the service is stopping", None)] * 2
    assert rows_of(served, user_id, account) == []
    assert served.placements_at_the_broker() == Counter()


def test_a_placement_that_raises_answers_its_orders_in_flight_never_placed(served: Served,
                                                                          monkeypatch: pytest.MonkeyPatch):
    async def raising(self: PlaceEntriesStep, command: PlaceEntries) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(PlaceEntriesStep, "__call__", raising)
    _, token, [account] = served.user("carol", "C1")

    status, body = served.request("POST", BATCH, token, json={"orders": orders(account, 2)})

    assert status == 200
    assert [(r["outcome"], r["reason"]) for r in body["results"]] == [(
        "in_flight", f"account {account}: its placement failed (internal error (RuntimeError)) and it may have "
                     "been sent: GET /api/orders shows it, and the next cycle settles it by its tag")] * 2


def test_an_order_unanswered_within_the_deadline_is_in_flight_and_its_placement_goes_on_to_its_end(
        impatient: Served):
    user_id, token, [account] = impatient.user("dave", "D1")
    impatient.sim("faults", route="place", kind="slow", delay_ms=1500)

    status, body = impatient.request("POST", BATCH, token, json={"orders": orders(account, 1)})

    assert status == 200
    assert [(r["outcome"], r["reason"], r["order_id"]) for r in body["results"]] == [(
        "in_flight", f"account {account}: no answer within {DEADLINE_S:g} s: its placement goes on, and "
                     "GET /api/orders shows how it ended", None)]
    deadline = time.monotonic() + 10
    while rows_of(impatient, user_id, account) != [("SBIN", "ENTRY_OPEN", "New")]:
        assert time.monotonic() < deadline, rows_of(impatient, user_id, account)
        time.sleep(0.05)
    assert sum(impatient.placements_at_the_broker().values()) == 1
