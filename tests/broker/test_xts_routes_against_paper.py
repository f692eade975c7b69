"""The paper broker's XTS routes called as the official SDKs call them, over raw HTTP: what no adapter call
shows (the order history, the whole login result, an SDK's own request bodies), read field by field against
the recorded answers."""

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


async def xts_call(http: aiohttp.ClientSession, paper: RunningPaperBroker, account: BrokerAccount | None,
                   method: str, path: str, body: dict[str, Any] | None = None,
                   **params: Any) -> tuple[int, dict[str, Any]]:
    """One request as the SDKs make it: the raw token, query parameters, a JSON body."""
    headers = {"Content-Type": "application/json"} | ({"Authorization": account.token} if account else {})
    async with http.request(method, paper.url + path, params={k: str(v) for k, v in params.items()},
                            data=json.dumps(body) if body is not None else None, headers=headers) as response:
        return response.status, await response.json()


async def xts_get(http: aiohttp.ClientSession, paper: RunningPaperBroker, account: BrokerAccount, path: str,
                  **params: Any) -> tuple[int, dict[str, Any]]:
    return await xts_call(http, paper, account, "GET", path, **params)


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


async def test_the_login_result_carries_enums_and_the_exchange_segments_beside_the_token(
    http: aiohttp.ClientSession, paper
):
    status, body = await xts_call(http, paper, None, "POST", "/interactive/user/session",
                                  {"appKey": "PAPER1", "secretKey": "paper-secret", "source": "WEBAPI"})
    assert (status, body["type"]) == (200, "success")
    result = body["result"]
    assert set(json.loads((FIXTURES / "login.json").read_text())["result"]) <= set(result)
    assert (result["userID"], result["clientCodes"]) == ("PAPER1", ["PAPER1"])
    assert {"key": "NSECM", "value": 1} in result["exchangeSegmentArray"]
    assert result["enums"]["exchangeSegment"] == [entry["key"] for entry in result["exchangeSegmentArray"]]
    assert {"orderType", "productType", "orderSide", "timeInForce"} <= set(result["enums"])


async def test_a_placement_as_the_python_sdk_sends_it_with_its_api_order_source_is_taken(
    account: BrokerAccount, http: aiohttp.ClientSession, paper
):
    status, body = await xts_call(http, paper, account, "POST", "/interactive/orders", {
        "exchangeSegment": "NSECM", "exchangeInstrumentID": 3045, "productType": "NRML", "orderType": "LIMIT",
        "orderSide": "BUY", "timeInForce": "DAY", "disclosedQuantity": 0, "orderQuantity": 10,
        "limitPrice": 790, "stopPrice": 0, "apiOrderSource": "", "orderUniqueIdentifier": "454845",
        "clientID": "PAPER1"})
    assert (status, body["result"]["OrderUniqueIdentifier"]) == (200, "454845")


async def test_a_cancel_as_the_sdks_send_it_with_an_empty_order_unique_identifier_is_taken(
    broker: XtsBroker, account: BrokerAccount, http: aiohttp.ClientSession, paper
):
    ack = await broker.place(account, limit_buy("c-1"))
    status, body = await xts_call(http, paper, account, "DELETE", "/interactive/orders",
                                  appOrderID=ack.app_order_id, orderUniqueIdentifier="", clientID="PAPER1")
    assert (status, body["result"]["AppOrderID"]) == (200, ack.app_order_id)
    [order] = await broker.order_book(account)
    assert order.status == "Cancelled"
