"""`GET /readyz`: ready when the database answers and every broker the accounts use can be reached.

Anyone may ask, so the answer is `{"ready": bool}` only (503 when not ready): no account, no broker URL.
The check runs at most once per `readiness_cache_s`; calls within that window, and calls made while one
check runs, share its result, so polling `/readyz` never multiplies the calls to the brokers. What failed
is logged at WARNING and counted in the metrics (`monitor_ready`, `monitor_readiness_database_ok`,
`monitor_readiness_brokers_unreachable`).
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
from aiohttp import web

from domain.errors import AdapterError
from service.web.context import WebContext

log = logging.getLogger(__name__)


class Readiness:
    def __init__(self, cache_s: float) -> None:
        self._cache_s = cache_s
        self._checked_at: float | None = None
        self._ready = False
        self._lock = asyncio.Lock()

    async def ready(self, context: WebContext) -> bool:
        async with self._lock:
            if self._checked_at is None or time.monotonic() - self._checked_at >= self._cache_s:
                self._ready = await _check(context)
                self._checked_at = time.monotonic()
            return self._ready


READINESS = web.AppKey("readiness", Readiness)


async def _check(context: WebContext) -> bool:
    try:
        await context.store.ping()
        base_urls = await context.store.broker_base_urls()
    except AdapterError as error:
        log.warning("not ready: the database: %s", error.message)
        context.metrics.readiness(database_ok=False, brokers_unreachable=0)
        return False
    failures = await asyncio.gather(*(_unreachable(context.http, base_url) for base_url in base_urls))
    unreachable = 0
    for base_url, failure in zip(base_urls, failures, strict=True):
        if failure is not None:
            unreachable += 1
            log.warning("not ready: broker %s: %s", base_url, failure)
    context.metrics.readiness(database_ok=True, brokers_unreachable=unreachable)
    return unreachable == 0


async def _unreachable(http: aiohttp.ClientSession, base_url: str) -> str | None:
    """Why the broker at `base_url` cannot be reached, or None when it answers (below HTTP 500)."""
    try:
        async with http.get(base_url, timeout=aiohttp.ClientTimeout(total=3)) as response:
            return None if response.status < 500 else f"HTTP {response.status}"
    except (aiohttp.ClientError, TimeoutError) as error:
        return f"unreachable ({type(error).__name__})"
