"""The fair prices of the `pnl` frame and of `GET /api/pnl`, over the service's own sockets on SQLite and MariaDB,
from a service configured with its own `fair_price_max_age_s`. (The frame's rules, against the store:
tests/storage/test_pnl_frame_fair_prices.py.)"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from decimal import Decimal

import aiohttp
import pytest

from domain.records import FairPrice
from tests.web.conftest import Served

D = Decimal


@pytest.mark.rules(fair_price_max_age_s=30)
def test_the_pnl_frame_and_the_pnl_route_carry_the_price_and_the_services_limit(served: Served):
    _, token, [account] = served.user("farah", "F1")
    status, body = served.request("POST", "/api/algo-place-batch-orders", token, json={"orders": [{
        "account_id": account, "strategy": "momentum", "symbol": "SBIN", "exchange_segment": "NSECM",
        "instrument_id": 3045, "side": "BUY", "quantity": 10, "entry_type": "LIMIT", "entry_limit_price": "799.50",
        "sl_stop_price": "790", "tp_price": "815"}]})
    assert status == 200 and body["results"][0]["outcome"] == "placed", body
    served.sim("price", symbol="SBIN", ltp="799.50")
    served.io.call(served.store.upsert_desk_prices([FairPrice(
        symbol="SBIN", buy_fair_price=D("800.05"), sell_fair_price=D("799.45"),
        updated_at=served.service.runtime.clock.now() - timedelta(seconds=31))]))

    async def cycle_pnl_frame() -> dict:
        headers = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession() as session, session.ws_connect(f"{served.url}/ws", headers=headers) as ws:
            await ws.send_str(json.dumps({"type": "run_cycle"}))
            async with asyncio.timeout(20):
                summary_seen = False
                async for message in ws:
                    frame = json.loads(message.data)
                    summary_seen = summary_seen or frame["type"] == "cycle_summary"
                    if summary_seen and frame["type"] == "pnl":
                        return frame
        raise AssertionError("no pnl frame after the cycle")

    frame = served.io.call(cycle_pnl_frame())
    status, answer = served.request("GET", "/api/pnl", token)

    assert frame["fair_price_max_age_s"] == 30
    assert status == 200 and answer["rows"] == frame["rows"]
    [row] = frame["rows"]
    assert (row["symbol"], row["open_qty"], D(row["fair_price"]), row["fair_price_source"], row["fair_price_stale"]) \
        == ("SBIN", 10, D("799.45"), "desk", True), "31 s old against the service's 30 s"
