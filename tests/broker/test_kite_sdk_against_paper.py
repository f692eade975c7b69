"""The paper broker's Kite face driven by the official `kiteconnect` SDK over loopback: the login by hand and
the session exchange, orders of every type on both sides, the books, fills, positions, modify, cancel, logout,
and the refusals the SDK raises as its own exceptions. The SDK is synchronous: it runs in a thread while the
paper broker serves on the test's loop."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import aiohttp
import pytest
from kiteconnect import KiteConnect
from kiteconnect.exceptions import InputException, TokenException

from adapters.broker.paper import RunningPaperBroker, run_paper_broker
from tests.broker.conftest import SimControl

API_KEY = "KITE1"
API_SECRET = "kite-secret"
T = TypeVar("T")


async def sdk(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.to_thread(call, *args, **kwargs)


async def request_token(sim: SimControl, api_key: str = API_KEY) -> str:
    return (await sim.post("kite_request_token", api_key=api_key))["request_token"]


def client(paper: RunningPaperBroker, api_key: str = API_KEY) -> KiteConnect:
    return KiteConnect(api_key, root=paper.url, timeout=5)


@pytest.fixture
async def kite(paper: RunningPaperBroker, sim: SimControl) -> KiteConnect:
    kite = client(paper)
    await sdk(kite.generate_session, await request_token(sim), API_SECRET)
    return kite


@pytest.fixture
async def keyed_paper() -> AsyncIterator[RunningPaperBroker]:
    """A paper broker that knows the api secret of KITE1: it checks checksums."""
    async with run_paper_broker("127.0.0.1", 0, seed=7, credentials={API_KEY: API_SECRET}) as running:
        yield running


def number(value: Any) -> Decimal:
    """A number as the SDK decoded it (a JSON float is a binary float), read back as Decimal."""
    return Decimal(str(value))


async def place(kite: KiteConnect, **order: Any) -> str:
    ticket = {"variety": "regular", "exchange": "NSE", "tradingsymbol": "SBIN", "product": "MIS",
              "quantity": 10} | order
    return await sdk(kite.place_order, **ticket)


def row_of(rows: list[dict[str, Any]], order_id: str) -> dict[str, Any]:
    [row] = [row for row in rows if row["order_id"] == order_id]
    return row


# --- session ------------------------------------------------------------------------------------------------


async def test_the_login_page_shows_a_request_token_the_sdk_exchanges_for_a_session(
    paper: RunningPaperBroker, http: aiohttp.ClientSession
):
    kite = client(paper)
    async with http.get(paper.url + "/connect/login", params={"api_key": API_KEY, "v": "3"}) as response:
        assert (response.status, response.content_type) == (200, "text/html")
        page = await response.text()
    assert "redirect" in page
    match = re.search(r'<code id="request_token">([^<]+)</code>', page)
    assert match is not None

    session = await sdk(kite.generate_session, match.group(1), API_SECRET)

    assert (session["user_id"], session["api_key"]) == (API_KEY, API_KEY)
    assert isinstance(session["login_time"], datetime)
    assert session["public_token"] and kite.access_token == session["access_token"]
    assert (await sdk(kite.profile))["user_id"] == API_KEY


async def test_a_request_token_works_once(paper: RunningPaperBroker, sim: SimControl):
    token = await request_token(sim)
    await sdk(client(paper).generate_session, token, API_SECRET)
    with pytest.raises(TokenException) as raised:
        await sdk(client(paper).generate_session, token, API_SECRET)
    assert raised.value.code == 403


async def test_a_request_token_of_another_api_key_is_refused(paper: RunningPaperBroker, sim: SimControl):
    with pytest.raises(TokenException):
        await sdk(client(paper, "KITE2").generate_session, await request_token(sim, API_KEY), API_SECRET)


async def test_with_a_known_secret_a_checksum_of_another_secret_is_refused_and_its_own_taken(
    keyed_paper: RunningPaperBroker, http: aiohttp.ClientSession
):
    sim = SimControl(http, keyed_paper.url)
    with pytest.raises(TokenException):
        await sdk(client(keyed_paper).generate_session, await request_token(sim), "another-secret")
    session = await sdk(client(keyed_paper).generate_session, await request_token(sim), API_SECRET)
    assert session["user_id"] == API_KEY


async def test_a_configured_paper_gives_no_request_token_to_an_unknown_api_key(
    keyed_paper: RunningPaperBroker, http: aiohttp.ClientSession
):
    async with http.post(keyed_paper.url + "/_sim/kite_request_token", json={"api_key": "STRANGER"}) as response:
        assert response.status == 400
    async with http.get(keyed_paper.url + "/connect/login", params={"api_key": "STRANGER"}) as response:
        assert response.status == 400


async def test_a_secret_set_by_expire_is_the_only_one_from_then_on(paper: RunningPaperBroker, sim: SimControl):
    await sdk(client(paper).generate_session, await request_token(sim), "any-secret-before")
    await sim.post("expire", account=API_KEY, secret_key="regenerated")
    with pytest.raises(TokenException):
        await sdk(client(paper).generate_session, await request_token(sim), "any-secret-before")
    assert (await sdk(client(paper).generate_session, await request_token(sim), "regenerated"))["user_id"] == API_KEY


async def test_an_expired_session_raises_token_exception(kite: KiteConnect, sim: SimControl):
    await sim.post("expire", account=API_KEY)
    with pytest.raises(TokenException) as raised:
        await sdk(kite.orders)
    assert raised.value.code == 403


async def test_after_logout_the_access_token_is_refused(kite: KiteConnect):
    assert await sdk(kite.invalidate_access_token) is True
    with pytest.raises(TokenException):
        await sdk(kite.positions)


# --- orders -------------------------------------------------------------------------------------------------


async def test_orders_of_every_type_on_both_sides_are_listed_with_kites_fields(kite: KiteConnect):
    limit = await place(kite, transaction_type="BUY", order_type="LIMIT", price=790, tag="limitbuy")
    market = await place(kite, transaction_type="SELL", order_type="MARKET", market_protection=-1, tag="mktsell")
    stop = await place(kite, transaction_type="BUY", order_type="SL", price=812, trigger_price=810, tag="slbuy")
    stop_market = await place(kite, transaction_type="SELL", order_type="SL-M", trigger_price=780,
                              market_protection=5, tag="slmsell")

    rows = await sdk(kite.orders)

    assert all(isinstance(order_id, str) for order_id in (limit, market, stop, stop_market))
    expected = {
        limit: ("BUY", "LIMIT", "OPEN", 0, "790", "0"),
        market: ("SELL", "MARKET", "COMPLETE", 10, "0", "0"),
        stop: ("BUY", "SL", "TRIGGER PENDING", 0, "812", "810"),
        stop_market: ("SELL", "SL-M", "TRIGGER PENDING", 0, "0", "780"),
    }
    for order_id, (side, order_type, status, filled, price, trigger) in expected.items():
        row = row_of(rows, order_id)
        assert (row["transaction_type"], row["order_type"], row["status"], row["filled_quantity"]) == (
            side, order_type, status, filled)
        assert (number(row["price"]), number(row["trigger_price"])) == (Decimal(price), Decimal(trigger))
        assert (row["exchange"], row["tradingsymbol"], row["instrument_token"]) == ("NSE", "SBIN", 3045)
        assert (row["variety"], row["product"], row["validity"]) == ("regular", "MIS", "DAY")
        assert isinstance(row["order_timestamp"], datetime)
    assert row_of(rows, limit)["tags"] == ["limitbuy"] and row_of(rows, limit)["tag"] == "limitbuy"
    assert number(row_of(rows, market)["average_price"]) == Decimal("800")
    assert number(row_of(rows, limit)["average_price"]) == 0


async def test_a_market_move_fills_and_the_fills_are_the_trades(kite: KiteConnect, sim: SimControl):
    limit = await place(kite, transaction_type="BUY", order_type="LIMIT", price=790, tag="limitbuy")
    stop_market = await place(kite, transaction_type="SELL", order_type="SL-M", trigger_price=780,
                              market_protection=-1)
    assert await sdk(kite.trades) == []

    await sim.price("SBIN", "789.95")

    [trade] = await sdk(kite.trades)
    assert (trade["order_id"], trade["transaction_type"], trade["quantity"]) == (limit, "BUY", 10)
    assert number(trade["average_price"]) == Decimal("789.95")
    assert isinstance(trade["fill_timestamp"], datetime)
    assert await sdk(kite.order_trades, limit) == [trade]
    assert await sdk(kite.order_trades, stop_market) == []
    filled = row_of(await sdk(kite.orders), limit)
    assert (filled["status"], filled["filled_quantity"], filled["pending_quantity"]) == ("COMPLETE", 10, 0)
    assert number(filled["average_price"]) == Decimal("789.95")


async def test_the_order_history_is_that_orders_states_oldest_first(kite: KiteConnect, sim: SimControl):
    await sim.post("liquidity", max_fill_qty=5)
    stop = await place(kite, transaction_type="BUY", order_type="SL", price=812, trigger_price=810, quantity=8)
    await place(kite, transaction_type="BUY", order_type="LIMIT", price=700)
    await sim.price("SBIN", "810")
    await sim.price("SBIN", "810.05")

    history = await sdk(kite.order_history, stop)

    assert {row["order_id"] for row in history} == {stop}
    assert [(row["status"], row["filled_quantity"]) for row in history] == [
        ("TRIGGER PENDING", 0), ("OPEN", 0), ("OPEN", 5), ("COMPLETE", 8)]
    assert history[-1] == row_of(await sdk(kite.orders), stop)


async def test_positions_net_and_day_carry_a_signed_short(kite: KiteConnect, sim: SimControl):
    await place(kite, tradingsymbol="INFY", transaction_type="SELL", order_type="MARKET", market_protection=-1,
                quantity=5, product="NRML")
    await place(kite, transaction_type="BUY", order_type="MARKET", market_protection=-1, quantity=3)
    await sim.price("INFY", "1490")

    positions = await sdk(kite.positions)

    net = {row["tradingsymbol"]: row for row in positions["net"]}
    assert positions["day"] == positions["net"]
    short = net["INFY"]
    assert (short["quantity"], short["sell_quantity"], short["buy_quantity"], short["product"]) == (-5, 5, 0, "NRML")
    assert (number(short["sell_price"]), number(short["sell_value"]), number(short["value"])) == (
        Decimal(1500), Decimal(7500), Decimal(7500))
    assert (number(short["unrealised"]), number(short["pnl"]), number(short["last_price"])) == (
        Decimal(50), Decimal(50), Decimal(1490))
    assert (short["day_sell_quantity"], short["overnight_quantity"], short["multiplier"]) == (5, 0, 1)
    assert (net["SBIN"]["quantity"], number(net["SBIN"]["value"])) == (3, Decimal(-2400))


async def test_the_next_day_a_short_is_carried_overnight_in_net_and_gone_from_day(kite: KiteConnect, sim: SimControl):
    await place(kite, tradingsymbol="INFY", transaction_type="SELL", order_type="MARKET", market_protection=-1,
                quantity=5, product="NRML")
    await sim.post("new_day")

    positions = await sdk(kite.positions)

    [carried] = positions["net"]
    assert (carried["quantity"], carried["overnight_quantity"], carried["day_sell_quantity"]) == (-5, -5, 0)
    assert positions["day"] == []


async def test_a_modify_keeps_the_order_id_and_the_tag_and_marks_it_modified(kite: KiteConnect):
    order_id = await place(kite, transaction_type="BUY", order_type="LIMIT", price=790, tag="entry1")

    assert await sdk(kite.modify_order, "regular", order_id, quantity=12, price=785.5) == order_id

    row = row_of(await sdk(kite.orders), order_id)
    assert (row["quantity"], number(row["price"]), row["tag"], row["modified"]) == (12, Decimal("785.5"),
                                                                                     "entry1", True)


async def test_a_cancel_ends_the_order_and_a_second_cancel_is_refused(kite: KiteConnect):
    order_id = await place(kite, transaction_type="SELL", order_type="LIMIT", price=820)

    assert await sdk(kite.cancel_order, "regular", order_id) == order_id

    row = row_of(await sdk(kite.orders), order_id)
    assert (row["status"], row["pending_quantity"], row["cancelled_quantity"]) == ("CANCELLED", 0, 10)
    with pytest.raises(InputException):
        await sdk(kite.cancel_order, "regular", order_id)


# --- refusals -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("order", "reason"), [
    ({"order_type": "LIMIT", "price": 790, "tag": "a" * 21}, "tag"),
    ({"order_type": "LIMIT", "price": 790, "tag": "entry-1"}, "tag"),
    ({"order_type": "MARKET"}, "market_protection"),
    ({"order_type": "MARKET", "market_protection": 0}, "market_protection"),
    ({"order_type": "MARKET", "market_protection": 101}, "market_protection"),
    ({"order_type": "SL-M", "trigger_price": 780}, "market_protection"),
    ({"order_type": "LIMIT", "price": 790, "variety": "amo"}, "regular"),
    ({"order_type": "LIMIT", "price": 790, "product": "MTF"}, "product"),
    ({"order_type": "LIMIT"}, "price"),
    ({"order_type": "SL", "price": 790}, "trigger_price"),
    ({"order_type": "LIMIT", "price": 790, "tradingsymbol": "NOSUCH"}, "NSE:NOSUCH"),
])
async def test_a_refused_placement_raises_input_exception_saying_why(kite: KiteConnect, order: dict[str, Any],
                                                                    reason: str):
    with pytest.raises(InputException, match=reason) as raised:
        await place(kite, transaction_type="BUY", **order)
    assert raised.value.code == 400
    assert await sdk(kite.orders) == []


@pytest.mark.parametrize("order", [
    {"order_type": "LIMIT", "price": 790, "tag": "a" * 20},
    {"order_type": "MARKET", "market_protection": -1},
    {"order_type": "MARKET", "market_protection": 1},
    {"order_type": "MARKET", "market_protection": 100},
    {"order_type": "SL-M", "trigger_price": 780, "market_protection": -1},
])
async def test_placements_at_the_edge_of_each_rule_are_taken(kite: KiteConnect, order: dict[str, Any]):
    assert (await place(kite, transaction_type="SELL", **order)).isdigit()


async def test_a_modify_to_market_needs_market_protection(kite: KiteConnect):
    order_id = await place(kite, transaction_type="BUY", order_type="LIMIT", price=790)
    with pytest.raises(InputException, match="market_protection"):
        await sdk(kite.modify_order, "regular", order_id, order_type="MARKET")
    assert await sdk(kite.modify_order, "regular", order_id, order_type="MARKET", market_protection=-1) == order_id
    assert row_of(await sdk(kite.orders), order_id)["status"] == "COMPLETE"
