"""What the web handlers share, kept in the aiohttp app under one key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
from aiohttp import web

from adapters.store.port import EventLog, Store
from domain.ports.broker import Broker
from domain.ports.clock import Clock
from service.actor_system import MonitoringSystem
from service.fanout import FanOut
from service.leases import LeaseKeeper
from service.metrics import Metrics
from service.web.auth import Origins
from service.web.hub import Hub
from service.web.rate_limit import RateLimiter


@dataclass(frozen=True, kw_only=True)
class WebSettings:
    heartbeat_s: float = 30.0
    """A client that answers no ping for this long is dropped."""
    max_frame_bytes: int = 64 * 1024
    """A larger client frame closes the connection (1009)."""
    allowed_origins: tuple[str, ...] = ()
    """Origins (besides `public_origin`) allowed to open the WebSocket; `*` allows any."""
    public_origin: str = ""
    """The origin browsers reach the server at (`https://monitor.example`); empty: the bound
    `http://host:port`. Never taken from a request's Host header."""
    batch_requests_per_minute: int = 30
    """`POST /api/algo-place-batch-orders` calls allowed per user per minute."""
    batch_deadline_s: float = 60.0
    """How long a batch waits for the OrderPlacer's answer for each account; that account's orders still
    unanswered are then answered `in_flight`, while their placement goes on to its end."""
    manual_cycle_every_s: float = 10.0
    """A user's manual cycles (`run_cycle`, and the cycle a pause starts) start at most this often."""
    max_connections_per_user: int = 10
    """A user's WebSocket connections; one more gets 429 before the upgrade."""
    max_send_buffer_bytes: int = 1024 * 1024
    """Bytes a connection may leave unsent; a frame that would pass it drops the connection (code 4408)."""
    readiness_cache_s: float = 5.0
    """`/readyz` checks the database and the brokers at most this often; calls between share the answer."""


@dataclass(frozen=True, kw_only=True)
class WebContext:
    store: Store
    event_log: EventLog
    broker: Broker
    http: aiohttp.ClientSession
    system: MonitoringSystem
    leases: LeaseKeeper
    hub: Hub
    clock: Clock
    metrics: Metrics
    interval_s: float
    fair_price_max_age: timedelta
    """`[rules] fair_price_max_age_s`: the `pnl` frame and `GET /api/pnl` mark older fair prices stale."""
    settings: WebSettings
    origins: Origins
    """The browser origins allowed to open the WebSocket."""
    batch_limiter: RateLimiter
    cycle_limiter: RateLimiter
    """One manual cycle per user per `manual_cycle_every_s`."""
    kill_switch_observers: tuple[Callable[[int, bool, str], None], ...] = ()
    """Told (user_id, paused, reason as stored) of every switch the store took; quick, on the I/O loop."""
    fanout: FanOut | None = None
    """`[fanout]`: the link to the other replicas, for the frames and orders of users another one monitors."""


CONTEXT = web.AppKey("context", WebContext)
