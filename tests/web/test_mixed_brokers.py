"""Acceptance: one user with an XTS account and a Kite account, monitored in one cycle, over real sockets on
SQLite and MariaDB against the paper broker's two faces. Entries sent through the batch API fill on both, each
gets its stop-loss and take-profit at its broker; when the Kite session ends (it has no unattended login) the
XTS account goes on alone — its take-profit fills and its stop-loss is cancelled — while the Kite account waits
with its login link; once its owner logs in by request token, its trade is closed the same way."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import pytest

from domain.broker import BrokerOrder
from tests import paper_sim
from tests.web.conftest import BACK_TO_BACK, Served, running_service
from tests.web.test_account_view import by_account, of_type, opened
from tests.web.test_service_over_sockets import ORDER


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def served(request: pytest.FixtureRequest, tmp_path) -> Iterator[Served]:
    yield from running_service(request, tmp_path, BACK_TO_BACK)


async def book(served: Served, user_id: int, account_id: int) -> dict[str, BrokerOrder]:
    """The account's order book at its broker now, by tag."""
    [account] = await served.store.broker_accounts(user_id, (account_id,))
    return {row.tag: row for row in await served.service.runtime.broker.order_book(account)}


def test_an_xts_and_a_kite_account_of_one_user_are_protected_and_closed_each_by_its_own_broker(served: Served):
    user_id, token, [xts] = served.user("alice", "ALICE-X")
    kite = served.account(user_id, "ALICE-K", "kite")
    assert served.kite_login(token, kite, "ALICE-K")[0] == 200
    served.sim("price", symbol="SBIN", ltp="100")
    status, body = served.request("POST", "/api/algo-place-batch-orders", token, json={"orders": [
        {**ORDER, "account_id": xts}, {**ORDER, "account_id": kite}]})
    assert status == 200 and [r["outcome"] for r in body["results"]] == ["placed", "placed"], body
    served.sim("price", symbol="SBIN", ltp="99.40")   # both LIMIT entries at 99.50 fill

    books: dict[str, dict[int, dict[str, BrokerOrder]]] = {}

    async def scenario() -> tuple[list[dict], list[dict], list[dict]]:
        headers = {"Authorization": f"Bearer {token}"}
        http = served.service.runtime.http
        async with aiohttp.ClientSession() as session, session.ws_connect(f"{served.url}/ws", headers=headers) as ws:
            page = await opened(ws)
            protected = await page.run_cycle()
            books["protected"] = {a: await book(served, user_id, a) for a in (xts, kite)}
            await paper_sim.sim(http, served.paper.url, "expire", account="ALICE-K")
            await paper_sim.sim(http, served.paper.url, "price", symbol="SBIN", ltp="110")  # both TPs fill
            expired = await page.run_cycle()
            books["expired"] = {xts: await book(served, user_id, xts)}
            login = await paper_sim.sim(http, served.paper.url, "kite_request_token", api_key="ALICE-K")
            async with session.post(f"{served.url}/api/accounts/{kite}/session", headers=headers,
                                    json={"request_token": login["request_token"]}) as answer:
                assert answer.status == 200, await answer.text()
            resumed = await page.run_cycle()
            books["resumed"] = {kite: await book(served, user_id, kite)}
            return protected, expired, resumed

    protected, expired, resumed = served.io.call(scenario())

    orders = {o["account_id"]: o for o in of_type(protected, "orders")["orders"]}
    for account_id in (xts, kite):
        order = orders[account_id]
        assert (order["status"], order["filled_qty"]) == ("RUNNING", 5)
        assert order["sl_order_id"] is not None and order["tp_order_id"] is not None
        at_broker = books["protected"][account_id]
        sl, tp = at_broker[order["sl_tag"]], at_broker[order["tp_tag"]]
        assert (sl.status, sl.side, sl.quantity, sl.stop_price) == ("Trigger Pending", "SELL", 5, 95)
        assert (tp.status, tp.side, tp.quantity, tp.limit_price) == ("New", "SELL", 5, 110)
    assert {row["account_id"] for row in of_type(protected, "pnl")["rows"]} == {xts, kite}

    [needed] = [f for f in expired if f["type"] == "session_needed"]
    assert needed["account_id"] == kite
    assert needed["login_url"] == f"{served.paper.url}/connect/login?api_key=ALICE-K&v=3"
    views = by_account(of_type(expired, "accounts"))
    assert (views[xts]["state"], views[kite]["state"]) == ("ok", "session_needed")
    orders = {o["account_id"]: o for o in of_type(expired, "orders")["orders"]}
    assert orders[xts]["status"] == "CLOSED" and orders[xts]["tp_orderstatus"] == "Filled"
    assert books["expired"][xts][orders[xts]["sl_tag"]].status == "Cancelled", "OCO at the XTS broker"
    assert orders[kite]["status"] == "RUNNING", "the Kite account was not fetched: its last known rows"

    orders = {o["account_id"]: o for o in of_type(resumed, "orders")["orders"]}
    assert orders[kite]["status"] == "CLOSED" and orders[kite]["tp_orderstatus"] == "Filled"
    assert books["resumed"][kite][orders[kite]["sl_tag"]].status == "Cancelled", "OCO at the Kite broker"
    assert by_account(of_type(resumed, "accounts"))[kite]["state"] == "ok"
    assert served.placements_at_the_broker() == {tag: 1 for o in orders.values()
                                                 for tag in (o["entry_tag"], o["sl_tag"], o["tp_tag"])}
