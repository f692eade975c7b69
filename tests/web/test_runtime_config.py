"""The runtime builds its broker side from `[broker]`: the HTTP client's connection limits and how many
accounts' read answers the XTS adapter keeps; against the paper broker over loopback HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from actors.user_monitor.config import CycleConfig
from actors.user_monitor.window import TradingWindow
from adapters.broker.paper import RunningPaperBroker, run_paper_broker
from adapters.broker.xts import ReadReuse
from domain.broker import BrokerAccount
from service.config import BrokerConfig
from service.runtime import Runtime
from tests.doubles import RecordingNotifier

LATENCY_MS = 200


@contextlib.contextmanager
def running(tmp_path: Path, broker: BrokerConfig) -> Iterator[tuple[Runtime, RunningPaperBroker]]:
    runtime = Runtime(database_url=f"sqlite:///{tmp_path / 'monitor.db'}", notifier=RecordingNotifier(),
                      cycle=CycleConfig(interval_s=86_400, window=TradingWindow(enabled=False)), broker=broker)
    paper_stack = contextlib.AsyncExitStack()
    try:
        yield runtime, runtime.io.call(paper_stack.enter_async_context(run_paper_broker("127.0.0.1", 0, seed=9)))
    finally:
        runtime.io.call(paper_stack.aclose())
        runtime.close()


async def logged_in_accounts(runtime: Runtime, paper: RunningPaperBroker, count: int) -> list[BrokerAccount]:
    accounts = []
    for number in range(1, count + 1):
        account = BrokerAccount(account_id=number, user_id=1, broker="paper", base_url=paper.url,
                                client_id=f"CFG{number}", app_key=f"CFG{number}", secret_key="s3cret")
        accounts.append(msgspec.structs.replace(account, token=await runtime.broker.login(account)))
    return accounts


async def seconds_for_order_books_at_once(runtime: Runtime, paper: RunningPaperBroker, count: int) -> float:
    accounts = await logged_in_accounts(runtime, paper, count)
    async with runtime.http.post(f"{paper.url}/_sim/latency",
                                 json={"min_ms": LATENCY_MS, "max_ms": LATENCY_MS}) as response:
        assert response.status == 200
    started = time.monotonic()
    await asyncio.gather(*(runtime.broker.order_book(account) for account in accounts))
    return time.monotonic() - started


@pytest.mark.parametrize("limits", [
    BrokerConfig(pacing=False, connection_limit=1),
    BrokerConfig(pacing=False, connections_per_host=1),
], ids=["connection_limit", "connections_per_host"])
def test_broker_calls_past_the_configured_connections_wait_for_a_free_one(tmp_path, limits):
    with running(tmp_path, limits) as (runtime, paper):
        assert runtime.io.call(seconds_for_order_books_at_once(runtime, paper, 3)) >= 3 * LATENCY_MS / 1000


def test_the_broker_keeps_read_answers_of_the_configured_number_of_accounts(tmp_path):
    with running(tmp_path, BrokerConfig(pacing=False, read_cache_accounts=1)) as (runtime, paper):
        async def read_one_two_one() -> None:
            one, two = await logged_in_accounts(runtime, paper, 2)
            for account in (one, two, one):
                await runtime.broker.order_book(account)

        runtime.io.call(read_one_two_one())
        assert runtime.broker.adapter("paper").read_reuse() == ReadReuse(accounts=1, reused=0, decoded=3)
