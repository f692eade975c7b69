"""The paper broker's best bid and ask around each last price: the default spread, `/_sim/price` with `bid` and
`ask`, `/_sim/spread`, their validation, and matching that stays on the last traded price."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from adapters.broker.paper import RunningPaperBroker
from adapters.broker.xts import XtsBroker
from domain.broker import BrokerAccount, OrderRequest
from tests.broker.conftest import SimControl
from tests.broker.market_data import SBIN, best, md_call, md_login, snapshots


async def sbin_quote(http: aiohttp.ClientSession, paper: RunningPaperBroker) -> tuple[Decimal, Decimal, Decimal]:
    token, _ = await md_login(http, paper, "QUOTES")
    _, body = await md_call(http, paper, "POST", "/instruments/quotes", token,
                            {"instruments": [SBIN], "xtsMessageCode": 1501})
    return best(snapshots(body)[0])


async def sim_price(http: aiohttp.ClientSession, paper: RunningPaperBroker, **body: Any) -> tuple[int, Any]:
    async with http.post(f"{paper.url}/_sim/price", json={"symbol": "SBIN", **body}) as response:
        return response.status, await response.text()


async def test_the_default_spread_is_a_tick_each_side_of_the_last_price(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl
):
    answer = await sim.price("SBIN", "801.35")
    assert (answer["bid"], answer["ask"]) == ("801.30", "801.40")
    assert await sbin_quote(http, paper) == (Decimal("801.30"), Decimal("801.40"), Decimal("801.35"))


async def test_a_last_price_off_the_tick_is_quoted_outward_on_the_tick(sim: SimControl):
    answer = await sim.price("SBIN", "801.37")
    assert (answer["bid"], answer["ask"]) == ("801.30", "801.45")


async def test_the_bid_never_falls_below_one_tick(sim: SimControl):
    answer = await sim.price("SBIN", "0.05")
    assert (answer["bid"], answer["ask"]) == ("0.05", "0.10")


async def test_a_bid_and_an_ask_given_with_the_last_price_are_the_quote(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl
):
    await sim.post("price", symbol="SBIN", ltp="801", bid="799.5", ask="806")
    assert await sbin_quote(http, paper) == (Decimal("799.5"), Decimal(806), Decimal(801))


@pytest.mark.parametrize(("given", "quote"), [
    ({"ask": "806"}, ("800.95", "806")),
    ({"bid": "795"}, ("795", "801.05")),
], ids=["ask-only", "bid-only"])
async def test_a_side_not_given_sits_the_default_spread_from_the_last_price(
    sim: SimControl, given: dict[str, str], quote: tuple[str, str]
):
    answer = await sim.post("price", symbol="SBIN", ltp="801", **given)
    assert (answer["bid"], answer["ask"]) == quote


async def test_a_bid_equal_to_the_ask_is_taken(sim: SimControl):
    answer = await sim.post("price", symbol="SBIN", ltp="801", bid="801", ask="801")
    assert (answer["bid"], answer["ask"]) == ("801", "801")


@pytest.mark.parametrize(("given", "reason"), [
    ({"bid": "802", "ask": "801.95"}, "the bid 802 is above the ask 801.95"),
    ({"bid": "802"}, "the bid 802 is above the ask 801.05"),
    ({"ask": "800"}, "the bid 800.95 is above the ask 800"),
    ({"bid": "0"}, "the bid must be positive"),
    ({"ask": "-1"}, "the ask must be positive"),
    ({"bid": "800.97"}, "the bid 800.97 is not on the 0.05 tick"),
    ({"ask": "801.12"}, "the ask 801.12 is not on the 0.05 tick"),
], ids=["crossed", "bid-above-default-ask", "ask-below-default-bid", "zero-bid", "negative-ask", "off-tick-bid",
        "off-tick-ask"])
async def test_a_quote_that_cannot_be_is_refused_and_nothing_moves(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, given: dict[str, str], reason: str
):
    status, text = await sim_price(http, paper, ltp="801", **given)
    assert (status, text) == (400, reason)
    assert await sbin_quote(http, paper) == (Decimal("799.95"), Decimal("800.05"), Decimal(800))


async def test_the_spread_control_quotes_every_instrument_at_the_new_spread(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl
):
    await sim.post("price", symbol="SBIN", ltp="800", ask="806")
    assert await sim.post("spread", ticks=3) == {"ticks": 3}
    assert await sbin_quote(http, paper) == (Decimal("799.85"), Decimal("800.15"), Decimal(800))
    answer = await sim.price("SBIN", "801")
    assert (answer["bid"], answer["ask"]) == ("800.85", "801.15")


async def test_a_spread_of_no_ticks_quotes_at_the_last_price_and_a_negative_one_is_refused(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl
):
    await sim.post("spread", ticks=0)
    assert await sbin_quote(http, paper) == (Decimal(800), Decimal(800), Decimal(800))
    async with http.post(f"{paper.url}/_sim/spread", json={"ticks": -1}) as response:
        assert (response.status, await response.text()) == (400, "spread ticks must not be negative")


@pytest.mark.parametrize(("side", "stop", "quote", "trigger"), [
    ("BUY", "805", {"ltp": "801", "ask": "806"}, "805"),
    ("SELL", "795", {"ltp": "799", "bid": "794"}, "795"),
], ids=["buy-stop-ask-crosses", "sell-stop-bid-crosses"])
async def test_a_quote_crossing_a_stop_does_not_trigger_it_only_the_last_price_does(
    broker: XtsBroker, account: BrokerAccount, sim: SimControl, side: str, stop: str, quote: dict[str, str],
    trigger: str
):
    await broker.place(account, OrderRequest(exchange_segment="NSECM", instrument_id=3045, symbol="SBIN", side=side,
                                             order_type="STOPMARKET", quantity=10, tag="stop-1",
                                             stop_price=Decimal(stop)))
    await sim.post("price", symbol="SBIN", **quote)
    [order] = await broker.order_book(account)
    assert order.status == "Trigger Pending"

    await sim.price("SBIN", trigger)
    [order] = await broker.order_book(account)
    assert (order.status, order.filled_qty) == ("Filled", 10)
