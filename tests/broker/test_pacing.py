"""Pacing: the limiter's sliding window, counted from the moment each request finished, and the adapter
pacing the requests it sends, per route."""

from __future__ import annotations

import asyncio
import contextlib
import time

from adapters.broker.pacing import Pacer, Rate
from adapters.broker.xts import XtsBroker, XtsPacing
from tests.broker.conftest import SimControl, limit_buy, traced_session

CLOCK_READ_SLACK_S = 0.005
"""A test reads the clock just after the pacer did: room for the process being descheduled in between."""


def within_rate(starts: list[float], rate: Rate) -> bool:
    """No window of `rate.per_s` seconds holds more than `rate.count` of `starts`."""
    ordered = sorted(starts)
    return all(later - earlier >= rate.per_s - CLOCK_READ_SLACK_S
               for earlier, later in zip(ordered, ordered[rate.count:], strict=False))


async def test_a_pacer_lets_count_requests_start_per_window_and_keys_do_not_share():
    rate = Rate(2, 0.2)
    pacer = Pacer(rate)
    loop = asyncio.get_running_loop()
    started = loop.time()
    starts: list[tuple[str, float]] = []

    async def go(key: str) -> None:
        async with pacer.turn(key):
            starts.append((key, loop.time() - started))

    await asyncio.gather(*(go("a") for _ in range(5)), go("b"))
    assert [key for key, _ in starts] == ["a", "a", "b", "a", "a", "a"], "b waits for none of a's turns"
    a = [at for key, at in starts if key == "a"]
    assert within_rate(a, rate)
    assert a[4] >= 2 * rate.per_s - CLOCK_READ_SLACK_S


async def test_a_caller_the_busy_loop_let_go_late_pushes_the_later_ones_back():
    rate = Rate(1, 0.2)
    pacer = Pacer(rate)
    loop = asyncio.get_running_loop()
    starts: list[float] = []

    async def go() -> None:
        async with pacer.turn("a"):
            starts.append(loop.time())

    callers = asyncio.gather(*(go() for _ in range(3)))
    await asyncio.sleep(0)
    time.sleep(0.35)  # the loop is stuck past the second caller's turn, and the third's is near
    await callers
    assert within_rate(starts, rate), "the third waits a window after the second went, not after its turn"


async def test_a_request_slow_to_go_out_after_its_turn_keeps_the_one_count_turns_later_out_of_its_window():
    rate = Rate(2, 0.2)
    pacer = Pacer(rate)
    loop = asyncio.get_running_loop()
    sent: list[float] = []

    async def go(n: int) -> None:
        async with pacer.turn("a"):
            if n == 0:
                time.sleep(0.15)  # descheduled between its turn and its bytes going out
            sent.append(loop.time())
            await asyncio.sleep(0)

    await asyncio.gather(*(go(n) for n in range(3)))
    assert within_rate(sent, rate), "the third goes a window after the first finished, not after its turn"


async def test_a_failed_request_finishes_its_turn_and_the_next_goes_a_window_later():
    rate = Rate(1, 0.1)
    pacer = Pacer(rate)
    loop = asyncio.get_running_loop()
    with contextlib.suppress(RuntimeError):
        async with pacer.turn("a"):
            raise RuntimeError("connection reset")
    failed_at = loop.time()
    async with pacer.turn("a"):
        went_at = loop.time()
    assert went_at - failed_at >= rate.per_s - CLOCK_READ_SLACK_S


async def test_the_documented_pace_is_the_default():
    assert XtsPacing() == XtsPacing(reads=Rate(1, 1.0), orders=Rate(10, 1.0))


async def test_placements_of_a_batch_are_sent_within_the_pace(account, sim: SimControl):
    rate = Rate(2, 0.3)
    async with traced_session() as (http, sent):
        broker = XtsBroker(http, pacing=XtsPacing(reads=None, orders=rate))
        results = await broker.place_batch(account, [limit_buy(f"p-{n}") for n in range(6)])
    assert [r.tag for r in results] == [f"p-{n}" for n in range(6)]
    assert sorted(e["tag"] for e in await sim.orders(account.client_id)) == [f"p-{n}" for n in range(6)]
    placements = [r.started for r in sent if r.method == "POST"]
    assert len(placements) == 6 and within_rate(placements, rate), "never a third request inside one 0.3 s window"


async def test_reads_are_paced_per_route(account):
    rate = Rate(1, 0.2)
    async with traced_session() as (http, sent):
        broker = XtsBroker(http, pacing=XtsPacing(reads=rate, orders=None))
        started = asyncio.get_running_loop().time()
        await asyncio.gather(*(broker.order_book(account) for _ in range(3)), broker.positions(account))
    assert [r.path.rsplit("/", 1)[-1] for r in sent] == ["orders", "positions", "orders", "orders"], \
        "positions waits for no order book"
    books = [r.started - started for r in sent if r.path.endswith("/orders")]
    assert within_rate(books, rate) and books[2] >= 2 * rate.per_s - CLOCK_READ_SLACK_S
