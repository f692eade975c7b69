"""Fixtures of the security suite: the web suite's running service (SQLite and MariaDB), and one on SQLite
with a configured list of allowed WebSocket origins, plus two users who must never reach each other."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

import aiohttp
import pytest

from actors.user_monitor.config import CycleConfig
from actors.user_monitor.window import TradingWindow
from adapters.broker.paper import run_paper_broker
from service.config import BrokerConfig
from service.server import Service
from service.web.context import WebSettings
from tests.storage.conftest import fresh_mysql_url  # noqa: F401 - fixture used by `served`
from tests.web.conftest import Served, served  # noqa: F401 - fixture

DESK_ORIGIN = "https://desk.example"


class Guarded(Served):
    """A `Served` whose WebSocket accepts the desk's origin besides its own (or the origins `web_settings`
    names), with a paper broker of its own."""

    def __init__(self, database_url: str, web_settings: WebSettings | None = None) -> None:
        self.service = Service(database_url=database_url, host="127.0.0.1", port=0,
                               cycle=CycleConfig(interval_s=86_400, window=TradingWindow(enabled=False)),
                               broker=BrokerConfig(call_timeout_s=2.0, pacing=False),
                               web_settings=web_settings or WebSettings(allowed_origins=(DESK_ORIGIN,)))
        self.io, self.store, self.url = self.service.runtime.io, self.service.runtime.store, self.service.url
        self._stack = contextlib.AsyncExitStack()
        self.paper = self.io.call(self._stack.enter_async_context(run_paper_broker("127.0.0.1", 0, seed=9)))


@contextlib.contextmanager
def guarded_service(database_url: str, web_settings: WebSettings | None = None) -> Iterator[Guarded]:
    running = Guarded(database_url, web_settings)
    try:
        yield running
    finally:
        running.io.call(running._stack.aclose())
        running.close()


@pytest.fixture
def guarded(tmp_path) -> Iterator[Guarded]:
    with guarded_service(f"sqlite:///{tmp_path / 'guarded.db'}") as running:
        yield running


@dataclass(frozen=True)
class Pair:
    """Alice and Bob, one account each; Bob has an order and a finished cycle for Alice to reach for."""

    alice_id: int
    alice: str
    alice_account: int
    bob_id: int
    bob: str
    bob_account: int
    bob_order: int
    bob_cycle: str


def ws_frames(running: Served, token: str, send: list[dict], until: str) -> list[dict]:
    """Connect as `token`, send `send`, collect frames until one of type `until` (or 20 s)."""
    async def run() -> list[dict]:
        seen: list[dict] = []
        async with aiohttp.ClientSession() as session, session.ws_connect(f"{running.url}/ws?token={token}") as ws:
            for frame in send:
                await ws.send_str(json.dumps(frame))
            async with asyncio.timeout(20):
                async for message in ws:
                    seen.append(json.loads(message.data))
                    if seen[-1]["type"] == until:
                        return seen
        return seen
    return running.io.call(run())
