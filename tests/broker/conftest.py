"""Fixtures for the broker tests: a paper broker on an ephemeral loopback port, the real XTS adapter over
one shared aiohttp session, a small client of the paper broker's `/_sim/` control API, and a recorded-response
broker serving fixture files verbatim."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import msgspec
import pytest

from adapters.broker.paper import RunningPaperBroker, run_paper_broker
from adapters.broker.xts import XtsBroker, XtsPacing
from domain.broker import BrokerAccount, OrderRequest
from tests.broker.recorded import RecordedBroker, serve_recorded

UNPACED = XtsPacing(reads=None, orders=None)


class SimControl:
    """Scripts the paper broker through its HTTP control API, as the demo and benchmarks do."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self._http = http
        self._url = url

    async def post(self, control: str, /, **body: Any) -> Any:
        async with self._http.post(f"{self._url}/_sim/{control}", json=body) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def price(self, symbol: str, ltp: str) -> Any:
        return await self.post("price", symbol=symbol, ltp=ltp)

    async def fault(self, route: str, kind: str, **options: Any) -> Any:
        return await self.post("faults", route=route, kind=kind, **options)

    async def orders(self, account: str | None = None) -> list[dict[str, Any]]:
        params = {"account": account} if account else {}
        async with self._http.get(f"{self._url}/_sim/orders", params=params) as response:
            assert response.status == 200
            return await response.json()


@dataclass
class TracedRequest:
    method: str
    path: str
    started: float
    ended: float | None = None


@contextlib.asynccontextmanager
async def traced_session() -> AsyncIterator[tuple[aiohttp.ClientSession, list[TracedRequest]]]:
    """A client session and every request it makes, with the loop times it started and got its answer."""
    loop = asyncio.get_running_loop()
    requests: list[TracedRequest] = []

    async def on_start(session, context, params) -> None:
        context.request = TracedRequest(params.method, params.url.path, loop.time())
        requests.append(context.request)

    async def on_end(session, context, params) -> None:
        context.request.ended = loop.time()

    tracing = aiohttp.TraceConfig()
    tracing.on_request_start.append(on_start)
    tracing.on_request_end.append(on_end)
    tracing.on_request_exception.append(on_end)
    async with aiohttp.ClientSession(trace_configs=[tracing]) as http:
        yield http, requests


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def paper() -> AsyncIterator[RunningPaperBroker]:
    async with run_paper_broker("127.0.0.1", 0, seed=7) as running:
        yield running


@pytest.fixture
async def recorded() -> AsyncIterator[RecordedBroker]:
    async with serve_recorded() as state:
        yield state


@pytest.fixture
def sim(http: aiohttp.ClientSession, paper: RunningPaperBroker) -> SimControl:
    return SimControl(http, paper.url)


@pytest.fixture
def broker(http: aiohttp.ClientSession) -> XtsBroker:
    return XtsBroker(http, timeout_s=0.5, pacing=UNPACED)


def paper_account(paper: RunningPaperBroker, client_id: str = "PAPER1", account_id: int = 1,
                  token: str = "") -> BrokerAccount:
    return BrokerAccount(account_id=account_id, user_id=1, broker="paper", base_url=paper.url, client_id=client_id,
                         token=token, app_key=client_id, secret_key="paper-secret")


@pytest.fixture
async def account(broker: XtsBroker, paper: RunningPaperBroker) -> BrokerAccount:
    unlogged = paper_account(paper)
    token = await broker.login(unlogged)
    return msgspec.structs.replace(unlogged, token=token)


def limit_buy(tag: str, quantity: int = 10, price: str = "790", instrument_id: int = 3045,
              symbol: str = "SBIN") -> OrderRequest:
    return OrderRequest(exchange_segment="NSECM", instrument_id=instrument_id, symbol=symbol, side="BUY",
                        order_type="LIMIT",
                        quantity=quantity, tag=tag, limit_price=Decimal(price))
