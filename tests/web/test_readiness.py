"""`GET /readyz` over a real server, its brokers local HTTP stand-ins that count the requests they get: the
answer is `{"ready": bool}` only, with no broker URL (200 ready, 503 not); calls within
`readiness_cache_s` share one check (one request per broker), a call after it checks again; what failed is
in /metrics and the WARNING log, never in the answer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aiohttp import web

from service.web.context import WebSettings
from tests.web.conftest import Served, served_at


class StandIn:
    """A broker's base URL that answers `status` to a GET and counts the GETs."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.gets = 0
        self.url = ""

    async def answer(self, request: web.Request) -> web.Response:
        self.gets += 1
        return web.Response(status=self.status, text="broker")


@contextlib.asynccontextmanager
async def stand_in(status: int) -> AsyncIterator[StandIn]:
    broker = StandIn(status)
    app = web.Application()
    app.router.add_get("/", broker.answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    broker.url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    try:
        yield broker
    finally:
        await runner.cleanup()


def running(tmp_path, cache_s: float) -> Iterator[Served]:
    with served_at(f"sqlite:///{tmp_path / 'ready.db'}", WebSettings(readiness_cache_s=cache_s)) as served:
        yield served


@pytest.fixture
def cached(tmp_path) -> Iterator[Served]:
    yield from running(tmp_path, 3600.0)


@pytest.fixture
def uncached(tmp_path) -> Iterator[Served]:
    yield from running(tmp_path, 0.001)


def brokers(served: Served, *statuses: int) -> list[StandIn]:
    """One stand-in per status, each the base URL of one account of a user of its own."""
    stand_ins = [served.io.call(served._stack.enter_async_context(stand_in(status))) for status in statuses]
    for number, broker in enumerate(stand_ins):
        user_id, _ = served.io.call(served.store.add_user(f"user{number}"))
        served.io.call(served.store.add_account(user_id, "paper", broker.url, f"C{number}", app_key="k",
                                                secret_key="s3cret"))
    return stand_ins


def metric(served: Served, name: str) -> float:
    _, text = served.request("GET", "/metrics")
    return float(next(line.split()[1] for line in text.splitlines() if line.startswith(name + " ")))


def test_ready_answers_only_ready_and_two_calls_in_the_window_make_one_check(cached: Served):
    first, second = brokers(cached, 200, 404)  # below 500: the broker answers
    assert cached.request("GET", "/readyz") == (200, {"ready": True})
    assert cached.request("GET", "/readyz") == (200, {"ready": True})
    assert (first.gets, second.gets) == (1, 1)
    assert metric(cached, "monitor_ready") == 1 and metric(cached, "monitor_readiness_brokers_unreachable") == 0


def test_concurrent_calls_share_one_check(cached: Served):
    [broker] = brokers(cached, 200)

    async def together() -> list[int]:
        async with aiohttp.ClientSession() as session:
            async def one() -> int:
                async with session.get(cached.url + "/readyz") as response:
                    return response.status
            return list(await asyncio.gather(*(one() for _ in range(5))))
    assert cached.io.call(together()) == [200] * 5
    assert broker.gets == 1


def test_a_broker_failing_is_a_503_without_its_url_counted_in_metrics_and_logged(cached: Served, caplog):
    good, bad = brokers(cached, 200, 500)
    with caplog.at_level(logging.WARNING, logger="service.web.readiness"):
        status, body = cached.request("GET", "/readyz")
    assert (status, body) == (503, {"ready": False})
    assert (good.gets, bad.gets) == (1, 1)
    assert metric(cached, "monitor_ready") == 0 and metric(cached, "monitor_readiness_database_ok") == 1
    assert metric(cached, "monitor_readiness_brokers_unreachable") == 1
    assert [r.getMessage() for r in caplog.records] == [f"not ready: broker {bad.url}: HTTP 500"]


def test_after_the_window_a_call_checks_again(uncached: Served):
    [broker] = brokers(uncached, 200)
    assert uncached.request("GET", "/readyz") == (200, {"ready": True})
    uncached.io.call(asyncio.sleep(0.01))  # past the 1 ms window
    assert uncached.request("GET", "/readyz") == (200, {"ready": True})
    assert broker.gets == 2
