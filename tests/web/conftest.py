"""A real service (aiohttp server, actors, store, paper broker) on loopback ports, for tests over sockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import aiohttp
import pytest

from actors.user_monitor.config import CycleConfig
from actors.user_monitor.window import TradingWindow
from adapters.broker.paper import run_paper_broker
from service.config import BrokerConfig, OrderRulesConfig
from service.server import Service
from service.web.context import WebSettings
from tests import paper_sim
from tests.storage.conftest import fresh_mysql_url  # noqa: F401 - fixture used by `served`


class Served:
    """A running service with a paper broker; helpers make users and accounts and call it over HTTP."""

    def __init__(self, database_url: str, web_settings: WebSettings | None = None,
                 session_renewal: bool = False, rules: OrderRulesConfig | None = None) -> None:
        self.database_url = database_url
        self.service = Service(database_url=database_url, host="127.0.0.1", port=0,
                               cycle=CycleConfig(interval_s=86_400, window=TradingWindow(enabled=False)), rules=rules,
                               broker=BrokerConfig(call_timeout_s=2.0, pacing=False, session_renewal=session_renewal),
                               web_settings=web_settings)
        self.io = self.service.runtime.io
        self.store = self.service.runtime.store
        self.url = self.service.url
        self._stack = contextlib.AsyncExitStack()
        self.paper = self.io.call(self._stack.enter_async_context(run_paper_broker("127.0.0.1", 0, seed=5)))

    def user(self, name: str, *client_ids: str, broker: str = "paper") -> tuple[int, str, list[int]]:
        """A user with an account of `broker` (`paper`: XTS's wire, `kite`: Kite's) per client id, whose app
        key is the client id; a Kite account needs `kite_login` before it has a session."""
        user_id, token = self.io.call(self.store.add_user(name))
        return user_id, token, [self.account(user_id, client_id, broker) for client_id in client_ids]

    def account(self, user_id: int, client_id: str, broker: str = "paper") -> int:
        return self.io.call(self.store.add_account(user_id, broker, self.paper.url, client_id, app_key=client_id,
                                                   secret_key="s3cret"))

    def kite_login(self, token: str, account_id: int, api_key: str) -> tuple[int, Any]:
        """A Kite account's login by hand: a request token from the (paper) Kite login, sent to the service's
        session route; the route's status and answer."""
        request_token = self.sim("kite_request_token", api_key=api_key)["request_token"]
        return self.request("POST", f"/api/accounts/{account_id}/session", token,
                            json={"request_token": request_token})

    def close(self) -> None:
        self.service.close(drain_deadline_s=10)

    def sim(self, control: str, **body: Any) -> Any:
        """Script the paper broker (`/_sim/<control>`) through the service's own client session."""
        return self.io.call(paper_sim.sim(self.service.runtime.http, self.paper.url, control, **body))

    def placements_at_the_broker(self) -> Counter[str]:
        """How many place requests the paper broker received of each tag."""
        return paper_sim.placements(self.io.call(paper_sim.journal(self.service.runtime.http, self.paper.url)))

    def request(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> tuple[int, Any]:
        async def call() -> tuple[int, Any]:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with aiohttp.ClientSession() as session, \
                    session.request(method, self.url + path, headers=headers, **kwargs) as response:
                body = await response.json() if response.content_type == "application/json" else await response.text()
                return response.status, body
        return self.io.call(call())

    def upgrade_status(self, query: str = "", headers: Mapping[str, str] | None = None) -> int:
        """Open a WebSocket on /ws`query` with `headers`: 101 if it upgrades, else the status refusing it."""
        async def attempt() -> int:
            async with aiohttp.ClientSession() as session:
                try:
                    async with session.ws_connect(f"{self.url}/ws{query}", headers=headers or {}):
                        return 101
                except aiohttp.WSServerHandshakeError as error:
                    return error.status
        return self.io.call(attempt())

    def frames_until(self, until: str, send: Sequence[dict | str] = (), *, query: str = "",
                     headers: Mapping[str, str] | None = None, timeout: float = 20.0) -> list[dict]:
        """Connect to /ws`query` with `headers`, send `send` (a dict as JSON, a str as it is), and collect the
        frames until one of type `until` arrives (or `timeout` passes)."""
        async def run() -> list[dict]:
            seen: list[dict] = []
            async with aiohttp.ClientSession() as session, \
                    session.ws_connect(f"{self.url}/ws{query}", headers=headers or {}) as ws:
                for frame in send:
                    await ws.send_str(json.dumps(frame) if isinstance(frame, dict) else frame)
                async with asyncio.timeout(timeout):
                    async for message in ws:
                        seen.append(json.loads(message.data))
                        if seen[-1]["type"] == until:
                            return seen
            return seen
        return self.io.call(run())

    def refuse_writes(self, name: str, timing: str, condition: str) -> None:
        """A real trigger that makes the database refuse a write (`timing`, e.g. "BEFORE INSERT ON orders") of
        each row for which `condition` holds, with the message "refused by the test trigger"."""
        refusal = "refused by the test trigger"
        statement = (
            f"CREATE TRIGGER {name} {timing} FOR EACH ROW BEGIN IF {condition} THEN "
            f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{refusal}'; END IF; END" if self.store.dialect == "mysql"
            else f"CREATE TRIGGER {name} {timing} WHEN {condition} BEGIN SELECT RAISE(ABORT, '{refusal}'); END")

        async def create() -> None:
            async with self.store.database.transaction() as tx:
                await tx.execute_ddl(statement, "the test trigger")
        self.io.call(create())


@contextlib.contextmanager
def served_at(database_url: str, web_settings: WebSettings | None = None,
              session_renewal: bool = False, rules: OrderRulesConfig | None = None) -> Iterator[Served]:
    """A `Served` on `database_url`, its paper broker and service stopped when the block ends; an expired
    session waits for a login unless `session_renewal`."""
    running = Served(database_url, web_settings, session_renewal, rules)
    try:
        yield running
    finally:
        running.io.call(running._stack.aclose())
        running.close()


def running_service(request: pytest.FixtureRequest, tmp_path, web_settings: WebSettings | None = None
                    ) -> Iterator[Served]:
    """A `Served` on SQLite or a fresh MariaDB database (the fixture's param), stopped after the test; with the
    order rules of the test's `@pytest.mark.rules(...)`, if any."""
    url = f"sqlite:///{tmp_path / 'web.db'}" if request.param == "sqlite" \
        else request.getfixturevalue("fresh_mysql_url")
    rules = request.node.get_closest_marker("rules")
    with served_at(url, web_settings, bool(request.node.get_closest_marker("session_renewal")),
                   OrderRulesConfig(**rules.kwargs) if rules else None) as running:
        yield running


BACK_TO_BACK = WebSettings(manual_cycle_every_s=0.001)
"""For tests that send `run_cycle` as soon as the last cycle is reported: one manual cycle per millisecond
instead of the default 10 s (50 ms refused such a request now and then under load)."""


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def served(request: pytest.FixtureRequest, tmp_path) -> Iterator[Served]:
    yield from running_service(request, tmp_path)
