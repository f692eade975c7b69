"""A tiny recorded-response broker on a loopback port: answers (method, path) with a fixture file served
verbatim under a status, and remembers every request it got (method, path, query, headers, body). The
`recorded` fixture of `conftest.py` runs one per test, for any adapter's wire format."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

FIXTURES = Path(__file__).parent / "fixtures"
_CONTENT_TYPES = {"txt": "text/plain", "html": "text/html"}


@dataclass
class RecordedBroker:
    """`answer` sets what a (method, path) gets; `received` lists the requests, oldest first. A request body is
    recorded decoded: JSON as JSON, a form as a dict, none as None."""

    url: str = ""
    answers: dict[tuple[str, str], tuple[int, str, float]] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)

    def answer(self, method: str, path: str, status: int, fixture: str, *, delay_s: float = 0) -> None:
        """Answer `method path` with HTTP `status` and the bytes of `fixtures/<fixture>`, `delay_s` late."""
        self.answers[(method, path)] = (status, fixture, delay_s)

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.received.append({
            "method": request.method, "path": request.path, "query": dict(request.query),
            "headers": dict(request.headers), "authorization": request.headers.get("Authorization"),
            "content_type": request.headers.get("Content-Type"), "body": _body(request.content_type, raw),
        })
        status, fixture, delay_s = self.answers[(request.method, request.path)]
        await asyncio.sleep(delay_s)
        content_type = _CONTENT_TYPES.get(fixture.rsplit(".", 1)[1], "application/json")
        return web.Response(status=status, body=(FIXTURES / fixture).read_bytes(), content_type=content_type)


def _body(content_type: str, raw: bytes) -> Any:
    if not raw:
        return None
    if content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(raw.decode(), keep_blank_values=True, strict_parsing=True))
    return json.loads(raw)


@contextlib.asynccontextmanager
async def serve_recorded() -> AsyncIterator[RecordedBroker]:
    state = RecordedBroker()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", state._handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    state.url = f"http://{host}:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()
