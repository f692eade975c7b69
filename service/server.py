"""The service a user runs: the runtime (actors, store, broker) plus the aiohttp server with the WebSocket
hub, the API, the dashboard and metrics, and the fair-price feed when configured, all on the one I/O loop.
`serve` and `demo` start one. With `[fanout]` on, it also links to the other replicas over NATS: every frame
the hub sends is relayed, and the orders other replicas forward for the users it holds are answered.

Closing it is graceful: clients are disconnected (so every monitor drains through the Supervisor and a
running cycle finishes), then it waits up to a deadline for the monitors to stop, then the runtime closes
(ticks off, actors stopped, the event log flushed, pools closed).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable

from aiohttp import web

from actors.user_monitor.config import CycleConfig
from adapters.broker.xts_md import XtsMarketData
from adapters.store.secrets import Keyring
from domain.quotes import Quote
from messages.events import CycleStarted, Event
from messages.frames import CycleStartedFrame, ServerFrame
from service.background import BackgroundLoop
from service.config import (
    AlertsConfig,
    BrokerConfig,
    DatabaseConfig,
    FanOutConfig,
    LeaseConfig,
    MarketDataConfig,
    OrderRulesConfig,
)
from service.fair_price_feed import FairPriceFeed
from service.fanout import FanOut
from service.fanout.bus import ReplicaBus
from service.fanout.frames import FrameRelay
from service.leases import LeaseKeeper
from service.runtime import Runtime
from service.send_guard import LeaseGuard, lease_length_s, stop_point
from service.snapshots import state_frames
from service.web.access import AccessWatch
from service.web.app import create_app
from service.web.auth import Origins
from service.web.context import WebContext, WebSettings
from service.web.holder import HolderDesk
from service.web.hub import Hub
from service.web.idempotency import IDEMPOTENCY
from service.web.rate_limit import RateLimiter

log = logging.getLogger(__name__)


LISTEN_BACKLOG = 4096
"""Connections the kernel may hold before the server accepts them (capped by net.core.somaxconn): after a
restart thousands of WebSocket clients reconnect at once, and past aiohttp's default of 128 their dropped
SYNs are retried only after 1, 3, 7, 15 s..."""


def fair_price_feed(runtime: Runtime, config: MarketDataConfig) -> FairPriceFeed:
    """The fair-price feed of `config` on the runtime's store, HTTP session and monitored users, measured."""
    if config.missing:
        raise ValueError(f"the enabled fair-price feed needs {', '.join(config.missing)}")

    def market_data(on_quote: Callable[[Quote], None]) -> XtsMarketData:
        return XtsMarketData(runtime.http, base_url=config.base_url, app_key=config.app_key,
                             secret_key=config.secret_key, on_quote=on_quote, reconnect_s=config.reconnect_s,
                             poll_s=config.poll_s)

    feed = FairPriceFeed(runtime.store, market_data, models=config.models, users=runtime.system.registry.user_ids,
                         brokers=config.brokers, now=runtime.clock.now, flush_interval_s=config.flush_interval_s,
                         refresh_s=config.refresh_s, observe_lag=runtime.metrics.fair_price_lag.observe)
    runtime.metrics.watch_feed(reconnects=lambda: feed.market_data.reconnects,
                               connected=lambda: feed.market_data.connected, instruments=lambda: feed.instruments)
    return feed


class Service:
    def __init__(self, *, database_url: str, host: str, port: int, cycle: CycleConfig,
                 rules: OrderRulesConfig | None = None, broker: BrokerConfig | None = None,
                 database: DatabaseConfig | None = None, web_settings: WebSettings | None = None,
                 alerts: AlertsConfig | None = None, keyring: Keyring | None = None,
                 market_data: MarketDataConfig | None = None, fanout: FanOutConfig | None = None,
                 leases: LeaseConfig | None = None) -> None:
        """ValueError for a lease too short for the send guard (`lease_length_s`)."""
        settings = web_settings or WebSettings()
        broker, leases = broker or BrokerConfig(), leases or LeaseConfig()
        guard = LeaseGuard(lease_s=lease_length_s(leases.lease_s, cycle.interval_s, broker.call_timeout_s,
                                                  leases.clock_drift_margin_s),
                           call_timeout_s=broker.call_timeout_s, drift_margin_s=leases.clock_drift_margin_s,
                           stop_before=stop_point(os.environ))
        self.hub = Hub(settings.max_connections_per_user, settings.max_send_buffer_bytes)
        self.runtime = Runtime(database_url=database_url, notifier=self.hub, cycle=cycle, rules=rules,
                               broker=broker, database=database, event_observers=(self._announce_cycle_start,),
                               alerts=alerts, keyring=keyring, send_guard=guard)
        runtime = self.runtime
        runtime.metrics.watch(monitored_users=lambda: len(runtime.system.registry.user_ids()),
                              event_log_lag=lambda: runtime.event_log.lag().pending,
                              db_statements=runtime.db_statements)
        self.feed: FairPriceFeed | None = None
        self._feed_loop: BackgroundLoop | None = None
        self.leases = LeaseKeeper(runtime.store, runtime.system, self.hub, guard)
        self.access = AccessWatch(runtime.store, self.hub, settings.heartbeat_s)
        origins = Origins(settings.allowed_origins, settings.public_origin)
        self.fanout = self._fanout(fanout) if fanout is not None and fanout.enabled else None
        self._holder: HolderDesk | None = None
        context = WebContext(store=runtime.store, event_log=runtime.event_log, broker=runtime.broker,
                             http=runtime.http, system=runtime.system, leases=self.leases, hub=self.hub,
                             clock=runtime.clock,
                             metrics=runtime.metrics, interval_s=cycle.interval_s,
                             fair_price_max_age=runtime.fair_price_max_age, settings=settings,
                             origins=origins,
                             batch_limiter=RateLimiter(settings.batch_requests_per_minute, 60.0),
                             cycle_limiter=RateLimiter(1, settings.manual_cycle_every_s),
                             kill_switch_observers=(runtime.alerts.kill_switch_turned,) if runtime.alerts else (),
                             fanout=self.fanout)
        app = create_app(context)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        try:
            runtime.io.call(self._runner.setup())
            site = web.TCPSite(self._runner, host, port, backlog=LISTEN_BACKLOG)
            runtime.io.call(site.start())
            runtime.io.loop.call_soon_threadsafe(self.leases.start)
            runtime.io.loop.call_soon_threadsafe(self.access.start)
            if self.fanout is not None:
                self._holder = HolderDesk(context, self.fanout, app[IDEMPOTENCY], runtime.store.owner)
                runtime.io.loop.call_soon_threadsafe(self.fanout.bus.start)
            if market_data is not None and market_data.enabled:
                self.start_fair_price_feed(market_data)
        except BaseException:
            runtime.close()
            raise
        bound_port = self._runner.addresses[0][1]
        self.url = f"http://{host}:{bound_port}"
        origins.public = settings.public_origin or self.url

    def _fanout(self, config: FanOutConfig) -> FanOut:
        """The link to the other replicas, its frames relayed from the hub (started with the server)."""
        runtime = self.runtime
        bus = ReplicaBus(config, name=f"monitor {runtime.store.owner}")

        async def frames_now(user_id: int) -> tuple[ServerFrame, ...]:
            return await state_frames(runtime.store, runtime.event_log, user_id, runtime.clock.now(),
                                      fair_price_max_age=runtime.fair_price_max_age)

        def monitored_users() -> list[int]:
            return [user_id for user_id in runtime.system.registry.user_ids() if self.leases.monitors(user_id)]

        frames = FrameRelay(bus, self.hub, frames_now, self.leases.monitors, monitored_users)
        self.hub.relay_to(frames.publish)
        runtime.metrics.watch_fanout(lambda: bus.up)
        return FanOut(bus, frames)

    def start_fair_price_feed(self, config: MarketDataConfig) -> FairPriceFeed:
        """Start the fair-price feed of `config` (once); `close` stops it and logs its session out."""
        if self.feed is not None:
            raise RuntimeError("the fair-price feed is running already")
        self.feed = fair_price_feed(self.runtime, config)
        self._feed_loop = BackgroundLoop(self.feed.run)
        self.runtime.io.loop.call_soon_threadsafe(self._feed_loop.start)
        return self.feed

    def _announce_cycle_start(self, event: Event) -> None:
        if isinstance(event, CycleStarted):
            frame = CycleStartedFrame(cycle_id=event.cycle_id, at=event.at, trigger=event.trigger)
            self.runtime.io.loop.call_soon_threadsafe(
                lambda: asyncio.ensure_future(self.hub.send(event.user_id, frame)))

    def close(self, drain_deadline_s: float = 30.0) -> None:
        io = self.runtime.io
        if self.runtime.alerts is not None:  # the monitors this shutdown stops are not alerted
            io.call(self.runtime.alerts.close())
        io.call(self.access.stop())
        if self.feed is not None and self._feed_loop is not None:
            io.call(self._feed_loop.stop())
            io.call(self.feed.market_data.close())
        io.call(self.hub.close_all())
        if self.fanout is not None:
            if self._holder is not None:
                io.call(self._holder.close())
            io.call(self.fanout.frames.close())
            io.call(self.fanout.bus.close())
        io.call(self.leases.stop())
        deadline = time.monotonic() + drain_deadline_s
        while self.runtime.system.registry.user_ids() and time.monotonic() < deadline:
            time.sleep(0.05)
        left = self.runtime.system.registry.user_ids()
        if left:
            log.warning("shutdown deadline passed with cycles still running for users %s", left)
        io.call(self._runner.cleanup())
        self.runtime.close()
