"""The paper broker's XTS routes called as the official SDKs call them, over raw HTTP with a session token:
what no adapter call shows (the order history), read field by field against the recorded answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

from adapters.broker import xts_wire as wire
from adapters.broker.paper import RunningPaperBroker
from adapters.broker.xts import XtsBroker
from domain.broker import BrokerAccount
from tests.broker.conftest import SimControl, limit_buy, paper_account

FIXTURES = Path(__file__).parent / "fixtures"


async def xts_get(http: aiohttp.ClientSession, paper: RunningPaperBroker, account: BrokerAccount, path: str,
                  **params: Any) -> tuple[int, dict[str, Any]]:
    async with http.get(paper.url + path, params={k: str(v) for k, v in params.items()},
                        headers={"Authorization": account.token}) as response:
        return response.status, await response.json()


async def test_the_order_history_is_that_one_orders_states_the_last_its_state_now(
    broker: XtsBroker, account: BrokerAccount, sim: SimControl, http: aiohttp.ClientSession, paper
):
    await sim.post("liquidity", max_fill_qty=5)
    ack = await broker.place(account, limit_buy("h-1", quantity=8, price="795"))
    await broker.place(account, limit_buy("h-2", price="700"))
    await sim.price("SBIN", "795")
    await sim.price("SBIN", "794.95")

    status, body = await xts_get(http, paper, account, "/interactive/orders", appOrderID=ack.app_order_id)

    assert (status, body["type"]) == (200, "success")
    rows = body["result"]
    assert {row["AppOrderID"] for row in rows} == {ack.app_order_id}
    assert [(row["OrderStatus"], row["CumulativeQuantity"]) for row in rows] == [
        ("New", 0), ("PartiallyFilled", 5), ("Filled", 8)]
    [now] = [order for order in await broker.order_book(account) if order.app_order_id == ack.app_order_id]
    assert wire.to_order(wire.convert(rows[-1], wire.XtsOrderRow, "order history")) == now


async def test_without_an_app_order_id_the_route_is_still_the_whole_order_book(
    broker: XtsBroker, account: BrokerAccount, http: aiohttp.ClientSession, paper
):
    await broker.place(account, limit_buy("b-1"))
    await broker.place(account, limit_buy("b-2"))
    status, body = await xts_get(http, paper, account, "/interactive/orders")
    assert status == 200
    assert [row["OrderUniqueIdentifier"] for row in body["result"]] == ["b-1", "b-2"]


async def test_a_history_row_carries_every_field_of_the_recorded_history(
    broker: XtsBroker, account: BrokerAccount, http: aiohttp.ClientSession, paper
):
    ack = await broker.place(account, limit_buy("h-1"))
    _, body = await xts_get(http, paper, account, "/interactive/orders", appOrderID=ack.app_order_id)
    recorded = json.loads((FIXTURES / "order_history.json").read_text())["result"][0]
    assert set(recorded) <= set(body["result"][0])


async def test_the_history_of_an_order_the_account_does_not_have_is_no_data(
    broker: XtsBroker, account: BrokerAccount, http: aiohttp.ClientSession, paper
):
    other = paper_account(paper, client_id="PAPER2", account_id=2)
    theirs = await broker.place(msgspec.structs.replace(other, token=await broker.login(other)), limit_buy("theirs"))
    for app_order_id in (theirs.app_order_id, theirs.app_order_id + 1000):
        status, body = await xts_get(http, paper, account, "/interactive/orders", appOrderID=app_order_id)
        assert (status, body["code"], body["description"]) == (400, "e-orders-0005", "Data Not Available")


async def test_an_app_order_id_that_is_not_a_number_is_a_bad_request(
    account: BrokerAccount, http: aiohttp.ClientSession, paper
):
    status, body = await xts_get(http, paper, account, "/interactive/orders", appOrderID="first")
    assert (status, body["description"]) == (400, "Bad Request")
