"""Running the paper broker: embedded in a running event loop (tests, the demo) or as its own process.

Owns the server's lifetime only: bind (port 0 picks a free port), report the URL, stop cleanly, letting
held responses of `timeout` faults finish at once rather than after their hold.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from adapters.broker.paper.md_sessions import DEFAULT_SUBSCRIPTION_CAP
from adapters.broker.paper.server import build_app
from adapters.broker.paper.simulator import DEFAULT_SPREAD_TICKS, Simulator

LISTEN_BACKLOG = 4096
"""Connections the kernel may hold for the server before it accepts them (capped by net.core.somaxconn). At
aiohttp's default of 128, hundreds of clients connecting at once overflow it: the dropped SYNs are sent
again after 1, 3, 7, 15 and 31 s, so their calls stall for as long and then arrive together."""


@dataclass(frozen=True)
class RunningPaperBroker:
    """A paper broker listening at `url` (use it as an account's base URL); `simulator` is its engine,
    for in-process drivers on the same event loop."""

    url: str
    simulator: Simulator


@asynccontextmanager
async def run_paper_broker(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    seed: int = 0,
    credentials: Mapping[str, str] | None = None,
    walk_interval_s: float | None = None,
    spread_ticks: int = DEFAULT_SPREAD_TICKS,
    md_subscription_cap: int = DEFAULT_SUBSCRIPTION_CAP,
) -> AsyncIterator[RunningPaperBroker]:
    """Serve a paper broker on the running loop until the block ends.

    `credentials` maps client id (= app key) to secret key; None accepts any app key with a non-empty secret.
    """
    simulator = Simulator(seed=seed, credentials=credentials, spread_ticks=spread_ticks)
    app = build_app(simulator, seed=seed, walk_interval_s=walk_interval_s, md_subscription_cap=md_subscription_cap)
    runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, backlog=LISTEN_BACKLOG)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        yield RunningPaperBroker(url=f"http://{bound_host}:{bound_port}", simulator=simulator)
    finally:
        await runner.cleanup()
