"""The paper broker keeps each account's encoded read answers and serves them again while its state stamps
stay: the stamps move with every change a rendering can show (so a kept answer is always the bytes a fresh
rendering gives, whatever happened), and stay put when nothing the account's rows show has changed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.broker.paper.calls import Answer
from adapters.broker.paper.server import build_app
from adapters.broker.paper.simulator import Amendment, OrderInvalid, OrderTicket, Simulator
from adapters.broker.paper.xts_routes import render_order_book, render_positions, render_trade_book

CLIENTS = ("P1", "P2")
INSTRUMENTS = (("SBIN", 3045), ("INFY", 1594))
VIEWS = ("NetWise", "DayWise")


def ticket(client_id: str, instrument_id: int, side: str, order_type: str, quantity: int,
           limit: Decimal = Decimal(0), stop: Decimal = Decimal(0), tag: str = "") -> OrderTicket:
    return OrderTicket(client_id=client_id, segment="NSECM", instrument_id=instrument_id, side=side,
                       order_type=order_type, product_type="NRML", quantity=quantity, limit_price=limit,
                       stop_price=stop, tag=tag)


def renderings(simulator: Simulator, client_id: str) -> dict[str, tuple[object, Answer]]:
    """Each read route of the account: its stamp now, and the answer rendered from the state now."""
    answers = {
        "order_book": (simulator.book_stamp(client_id), render_order_book(simulator, client_id)),
        "trade_book": (simulator.book_stamp(client_id), render_trade_book(simulator, client_id)),
    }
    for view in VIEWS:
        answers[view] = (simulator.positions_stamp(client_id, view), render_positions(simulator, client_id, view))
    return answers


# --- the stamps, on the simulator alone ---------------------------------------------------------------------

prices = st.integers(min_value=15_000, max_value=17_000).map(lambda paise: Decimal(paise) / 20)
place_action = st.tuples(st.just("place"), st.sampled_from(CLIENTS), st.sampled_from(INSTRUMENTS),
                         st.sampled_from(("BUY", "SELL")),
                         st.sampled_from(("MARKET", "LIMIT", "STOPMARKET", "STOPLIMIT")),
                         st.integers(min_value=1, max_value=50), prices, prices)
price_action = st.tuples(st.just("price"), st.sampled_from(INSTRUMENTS), prices)
slice_action = st.tuples(st.just("slice"), st.one_of(st.none(), st.integers(min_value=1, max_value=20)))
modify_action = st.tuples(st.just("modify"), st.sampled_from(CLIENTS), st.integers(min_value=0, max_value=9),
                          st.integers(min_value=1, max_value=60), prices)
cancel_action = st.tuples(st.just("cancel"), st.sampled_from(CLIENTS), st.integers(min_value=0, max_value=9))
clock_action = st.tuples(st.just("clock"), st.integers(min_value=1, max_value=30))
walk_action = st.tuples(st.just("walk"))
reset_action = st.tuples(st.just("reset"))
actions = st.lists(st.one_of(place_action, price_action, slice_action, modify_action, cancel_action,
                             clock_action, walk_action, reset_action), max_size=40)


def act(simulator: Simulator, clock: list[datetime], action: tuple) -> None:
    """Apply one scripted action; a request the simulator refuses changes nothing, as over HTTP."""
    kind = action[0]
    try:
        if kind == "place":
            _, client_id, (_symbol, instrument_id), side, order_type, quantity, limit, stop = action
            simulator.place(ticket(client_id, instrument_id, side, order_type, quantity,
                                   limit if "LIMIT" in order_type else Decimal(0),
                                   stop if "STOP" in order_type else Decimal(0)))
        elif kind == "price":
            _, (symbol, _id), ltp = action
            simulator.set_price(symbol, ltp)
        elif kind == "slice":
            simulator.max_fill_qty = action[1]
        elif kind in ("modify", "cancel"):
            client_id, index = action[1], action[2]
            orders = simulator.orders_of(client_id)
            if not orders:
                return
            order = orders[index % len(orders)]
            if kind == "cancel":
                simulator.cancel(client_id, order.app_order_id)
            else:
                _, _, _, quantity, limit = action
                simulator.modify(client_id, Amendment(
                    app_order_id=order.app_order_id, order_type="LIMIT", product_type=order.product_type,
                    quantity=quantity, limit_price=limit, stop_price=Decimal(0)))
        elif kind == "clock":
            clock[0] += timedelta(hours=action[1])
        elif kind == "walk":
            simulator.random_walk_step()
        else:
            simulator.reset()
    except OrderInvalid:
        pass


@settings(max_examples=150, deadline=None)
@given(actions)
def test_an_unchanged_stamp_always_renders_the_same_bytes(script):
    clock = [datetime(2024, 5, 2, 4, 0, tzinfo=UTC)]
    simulator = Simulator(seed=1, now=lambda: clock[0])
    seen: dict[tuple[str, str, object], Answer] = {}
    for action in [("clock", 1), *script]:
        act(simulator, clock, action)
        for client_id in CLIENTS:
            for route, (stamp, answer) in renderings(simulator, client_id).items():
                assert seen.setdefault((client_id, route, stamp), answer) == answer, (client_id, route, action)


def test_reading_and_other_accounts_orders_leave_an_accounts_stamps_alone():
    clock = [datetime(2024, 5, 2, 4, 0, tzinfo=UTC)]
    simulator = Simulator(now=lambda: clock[0])
    simulator.place(ticket("P1", 3045, "BUY", "MARKET", 10))
    before = renderings(simulator, "P1")
    simulator.orders_of("P1"), simulator.fills_of("P1"), simulator.positions_of("P1", "DayWise")
    order = simulator.place(ticket("P2", 3045, "BUY", "LIMIT", 5, limit=Decimal(700)))
    simulator.cancel("P2", order.app_order_id)
    assert renderings(simulator, "P1") == before


def test_a_price_move_restamps_positions_but_not_the_books_it_does_not_fill():
    simulator = Simulator(now=lambda: datetime(2024, 5, 2, 4, 0, tzinfo=UTC))
    simulator.place(ticket("P1", 3045, "BUY", "MARKET", 10))
    simulator.place(ticket("P1", 3045, "BUY", "LIMIT", 5, limit=Decimal(700)))
    book, positions = simulator.book_stamp("P1"), simulator.positions_stamp("P1", "NetWise")
    simulator.set_price("SBIN", Decimal("801.35"))
    assert simulator.book_stamp("P1") == book
    assert simulator.positions_stamp("P1", "NetWise") != positions
    simulator.set_price("SBIN", Decimal("699.95"))
    assert simulator.book_stamp("P1") != book


# --- the kept answers, served over HTTP ---------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 5, 2, 4, 0, tzinfo=UTC)   # 09:30 IST

    def __call__(self) -> datetime:
        return self.now


class ClockedPaper:
    """A paper broker on a loopback port whose simulator runs on a clock the test moves."""

    def __init__(self, url: str, simulator: Simulator, clock: Clock) -> None:
        self.url, self.simulator, self.clock = url, simulator, clock


@pytest.fixture
async def clocked() -> AsyncIterator[ClockedPaper]:
    clock = Clock()
    simulator = Simulator(seed=7, now=clock)
    runner = web.AppRunner(build_app(simulator, seed=7), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield ClockedPaper(f"http://{host}:{port}", simulator, clock)
    finally:
        await runner.cleanup()


ROUTES: dict[str, tuple[str, dict[str, str]]] = {
    "order_book": ("/interactive/orders", {}),
    "trade_book": ("/interactive/orders/trades", {}),
    "NetWise": ("/interactive/portfolio/positions", {"dayOrNet": "NetWise"}),
    "DayWise": ("/interactive/portfolio/positions", {"dayOrNet": "DayWise"}),
}


async def served(http: aiohttp.ClientSession, paper: ClockedPaper, token: str, route: str) -> Answer:
    path, params = ROUTES[route]
    async with http.get(paper.url + path, params={**params, "clientID": "P1"},
                        headers={"Authorization": token}) as response:
        return Answer(response.status, await response.read())


async def check_every_route(http: aiohttp.ClientSession, paper: ClockedPaper, token: str) -> dict[str, Answer]:
    """Each route twice over HTTP (the second from what the first kept): both are the fresh rendering."""
    answers = {}
    for route, (_stamp, fresh) in renderings(paper.simulator, "P1").items():
        first, again = await served(http, paper, token, route), await served(http, paper, token, route)
        assert first == again == fresh, route
        answers[route] = first
    return answers


async def test_every_read_answer_is_the_fresh_rendering_whatever_changed(
    http: aiohttp.ClientSession, clocked: ClockedPaper
):
    simulator, clock = clocked.simulator, clocked.clock
    token, _ = simulator.login("P1", "paper-secret")

    def limit() -> int:
        return simulator.orders_of("P1")[0].app_order_id

    def stop() -> int:
        return simulator.orders_of("P1")[1].app_order_id

    steps: list[Callable[[], object]] = [
        lambda: simulator.place(ticket("P1", 3045, "BUY", "LIMIT", 10, limit=Decimal(790), tag="limit")),
        lambda: simulator.place(ticket("P1", 3045, "SELL", "STOPMARKET", 4, stop=Decimal(770), tag="stop")),
        lambda: setattr(simulator, "max_fill_qty", 3),
        lambda: simulator.set_price("SBIN", Decimal("789.95")),        # a slice of the limit fills
        lambda: simulator.set_price("SBIN", Decimal("795.00")),        # nothing fills; the open lot is re-marked
        lambda: simulator.modify("P1", Amendment(app_order_id=limit(), order_type="LIMIT", product_type="NRML",
                                                 quantity=12, limit_price=Decimal("775.50"), stop_price=Decimal(0))),
        lambda: simulator.set_price("SBIN", Decimal("769.95")),        # the stop triggers; both fill a slice
        lambda: simulator.cancel("P1", stop()),
        lambda: simulator.place(ticket("P1", 3045, "BUY", "STOPLIMIT", 5, limit=Decimal(780), stop=Decimal(790),
                                       tag="stop-limit")),
        lambda: simulator.set_price("SBIN", Decimal("790.05")),        # it triggers; its limit is not reached
        lambda: setattr(clock, "now", clock.now + timedelta(days=1)),  # DayWise holds no fill of yesterday
        lambda: simulator.place(ticket("P1", 1594, "SELL", "MARKET", 2, tag="market")),
    ]
    answers = await check_every_route(http, clocked, token)
    for step in steps:
        step()
        answers = await check_every_route(http, clocked, token)
    async with http.post(f"{clocked.url}/_sim/reset", json={}) as response:
        assert response.status == 200
    assert (await check_every_route(http, clocked, token))["order_book"] != answers["order_book"]
