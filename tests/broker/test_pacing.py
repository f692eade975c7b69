"""Pacing: the limiter's sliding window, and the adapter pacing what the paper broker actually receives."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from adapters.broker.pacing import Pacer, Rate
from adapters.broker.xts import XtsBroker, XtsPacing
from tests.broker.conftest import SimControl, limit_buy


async def test_a_pacer_lets_count_requests_start_per_window_and_keys_do_not_share():
    pacer = Pacer(Rate(2, 0.2))
    loop = asyncio.get_running_loop()
    started = loop.time()
    starts: dict[str, list[float]] = {"a": [], "b": []}

    async def go(key: str) -> None:
        await pacer.wait_turn(key)
        starts[key].append(loop.time() - started)

    await asyncio.gather(*(go("a") for _ in range(5)), go("b"))
    assert [round(t, 1) for t in starts["a"]] == [0.0, 0.0, 0.2, 0.2, 0.4]
    assert starts["b"][0] < 0.05


async def test_the_documented_pace_is_the_default():
    assert XtsPacing() == XtsPacing(reads=Rate(1, 1.0), orders=Rate(10, 1.0))


async def test_placements_of_a_batch_reach_the_broker_within_the_pace(http, account, sim: SimControl):
    broker = XtsBroker(http, pacing=XtsPacing(reads=None, orders=Rate(2, 0.3)))
    results = await broker.place_batch(account, [limit_buy(f"p-{n}") for n in range(6)])
    assert [r.tag for r in results] == [f"p-{n}" for n in range(6)]
    arrivals = sorted(datetime.fromisoformat(e["received_at"]) for e in await sim.orders(account.client_id))
    assert len(arrivals) == 6
    for earlier, later in zip(arrivals, arrivals[2:], strict=False):
        assert (later - earlier).total_seconds() >= 0.28  # never a third request inside one 0.3 s window


async def test_reads_are_paced_per_route(http, account):
    broker = XtsBroker(http, pacing=XtsPacing(reads=Rate(1, 0.2), orders=None))
    started = time.monotonic()
    await asyncio.gather(*(broker.order_book(account) for _ in range(3)), broker.positions(account))
    assert 0.4 <= time.monotonic() - started < 0.6  # three order books 0.2 s apart; positions not held up
