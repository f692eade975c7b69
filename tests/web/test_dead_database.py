"""A database that fails under a running service (SQLite and MariaDB): its tables renamed away from under the
service, so every statement that needs them fails. Every route that needs the database answers 503 JSON
`{"error", "request_id"}` (the id also in `X-Request-Id` and the WARNING log line), `/readyz` answers 503
`{"ready": false}`, the WebSocket is refused with 503 before the upgrade, `/healthz` still answers; once the
tables are back, so are the answers. An unexpected exception in a handler answers 500 JSON, its traceback
logged with the request id."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import aiohttp
import pytest
from aiohttp import web

from service.web.context import WebSettings
from service.web.error_answers import DATABASE_UNAVAILABLE, INTERNAL_ERROR, json_errors
from tests.storage.conftest import fresh_mysql_url  # noqa: F401 - fixture used by `served`
from tests.web.conftest import Served, running_service

ORDER = {"strategy": "s", "symbol": "RELIANCE", "exchange_segment": "NSECM", "instrument_id": 2885, "side": "BUY",
         "quantity": 5, "entry_type": "MARKET", "sl_stop_price": "700", "tp_price": "900"}


async def renamed(served: Served, tables: tuple[str, ...], away: bool) -> None:
    """`tables` renamed away (to `<table>_gone`), or back."""
    async with served.store.database.transaction() as tx:
        for table in tables:
            old, new = (table, f"{table}_gone") if away else (f"{table}_gone", table)
            await tx.execute_ddl(f"ALTER TABLE {old} RENAME TO {new}", "the test's rename")


def rename(served: Served, tables: tuple[str, ...], away: bool) -> None:
    served.io.call(renamed(served, tables, away))


def raw(served: Served, method: str, path: str, token: str | None = None,
        **kwargs) -> tuple[int, str, dict | str, str | None]:
    async def call() -> tuple[int, str, dict | str, str | None]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with aiohttp.ClientSession() as session, \
                session.request(method, served.url + path, headers=headers, **kwargs) as response:
            body = await response.json() if response.content_type == "application/json" else await response.text()
            return response.status, response.content_type, body, response.headers.get("X-Request-Id")
    return served.io.call(call())


def assert_unavailable(answer: tuple[int, str, dict | str, str | None]) -> str:
    status, content_type, body, request_id = answer
    assert (status, content_type) == (503, "application/json"), answer
    assert body == {"error": DATABASE_UNAVAILABLE, "request_id": request_id} and len(request_id) == 32
    return request_id


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def served(request: pytest.FixtureRequest, tmp_path) -> Iterator[Served]:
    """The web suite's service, its /readyz checking again on every call."""
    yield from running_service(request, tmp_path, WebSettings(readiness_cache_s=1e-9))


def test_every_route_that_needs_the_database_answers_503_json(served: Served, caplog):
    _, token, [account] = served.user("alice", "A1")
    assert served.request("GET", "/api/orders", token)[0] == 200
    assert served.request("GET", "/readyz") == (200, {"ready": True})

    rename(served, ("monitor_events",), away=True)  # the token still opens the API; no cycle can be read
    with caplog.at_level(logging.WARNING, logger="service.web.error_answers"):
        request_id = assert_unavailable(raw(served, "GET", "/api/cycles", token))
    [line] = [r for r in caplog.records if getattr(r, "request_id", None) == request_id]
    assert line.levelname == "WARNING" and line.getMessage().startswith("GET /api/cycles: ")
    assert served.request("GET", "/api/accounts", token)[0] == 200  # what needs no event still answers

    rename(served, ("users", "accounts"), away=True)  # now nothing can be read
    try:
        routes = [("GET", "/api/orders", {}), ("GET", "/api/pnl", {}), ("GET", "/api/accounts", {}),
                  ("GET", "/api/pnl/history", {}), ("GET", "/api/cycles", {}), ("GET", "/api/cycles/abc", {}),
                  ("POST", f"/api/accounts/{account}/session", {"json": {"token": "t"}}),
                  ("POST", "/api/pause", {"json": {"reason": "r"}}), ("POST", "/api/resume", {}),
                  ("POST", "/api/algo-place-batch-orders", {"json": {"orders": [{**ORDER, "account_id": account}]}}),
                  ("GET", "/ws", {})]
        ids = {assert_unavailable(raw(served, method, path, token, **kwargs)) for method, path, kwargs in routes}
        assert len(ids) == len(routes)  # one id per request
        assert raw(served, "GET", "/readyz")[:3] == (503, "application/json", {"ready": False})
        assert served.request("GET", "/healthz") == (200, {"status": "ok"})
    finally:
        rename(served, ("monitor_events", "users", "accounts"), away=False)
    assert served.request("GET", "/api/orders", token)[0] == 200
    assert served.request("GET", "/readyz") == (200, {"ready": True})


def test_an_unexpected_exception_answers_500_json_and_logs_its_traceback_with_the_request_id(caplog):
    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("a bug in a handler")

    async def refused(request: web.Request) -> web.Response:
        raise web.HTTPConflict(text="chosen by the handler")

    async def run() -> list[tuple[int, str, dict | str, str | None]]:
        app = web.Application(middlewares=[json_errors])
        app.router.add_get("/broken", broken)
        app.router.add_get("/refused", refused)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        answers = []
        try:
            async with aiohttp.ClientSession() as session:
                for path in ("/broken", "/refused", "/absent"):
                    async with session.get(url + path) as response:
                        body = await response.json() if response.content_type == "application/json" \
                            else await response.text()
                        answers.append((response.status, response.content_type, body,
                                        response.headers.get("X-Request-Id")))
        finally:
            await runner.cleanup()
        return answers

    with caplog.at_level(logging.ERROR, logger="service.web.error_answers"):
        broken_answer, refused_answer, absent_answer = asyncio.run(run())
    status, content_type, body, request_id = broken_answer
    assert (status, content_type, body) == (500, "application/json",
                                            {"error": INTERNAL_ERROR, "request_id": request_id})
    [line] = caplog.records
    assert line.request_id == request_id and line.getMessage() == "GET /broken failed"
    assert "RuntimeError: a bug in a handler" in logging.Formatter().formatException(line.exc_info)
    assert refused_answer[:3] == (409, "text/plain", "chosen by the handler")  # a handler's answer, unchanged
    assert absent_answer[0] == 404 and absent_answer[3] is None


def test_a_websocket_whose_database_fails_after_the_upgrade_is_closed_with_1011(served: Served, caplog):
    user_id, token, _ = served.user("alice", "A1")

    async def run() -> int | None:
        async with aiohttp.ClientSession() as session, session.ws_connect(f"{served.url}/ws?token={token}") as ws:
            assert (await ws.receive_json())["type"] == "hello"
            await renamed(served, ("accounts",), away=True)
            await ws.send_json({"type": "subscribe"})  # its snapshots read the accounts
            async for _ in ws:
                pass
            return ws.close_code
    with caplog.at_level(logging.WARNING, logger="service.web.ws"):
        try:
            close_code = served.io.call(run())
        finally:
            rename(served, ("accounts",), away=False)
    assert close_code == 1011
    [line] = [r for r in caplog.records if r.name == "service.web.ws" and r.levelname == "WARNING"]
    assert line.getMessage().startswith("closing a client, the database failed: ") and line.user_id == user_id
