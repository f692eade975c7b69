"""The replicas' link to each other: one NATS connection per process, on the I/O loop (README, *Replicas*).

It connects in the background (the service runs meanwhile) and reconnects by itself; `up` says whether it is
connected now, and link observers hear each change. Nothing is buffered while it is down: a publish then
sends nothing and says so. The connection is `no_echo`: this process never receives what it published itself,
so a frame the holder sends its own clients never comes back to them. Logs name the servers without their
credentials.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import nats
import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from service.config import FanOutConfig

log = logging.getLogger(__name__)

LinkObserver = Callable[[bool], Awaitable[None]]
"""Told `True` when the link comes up (the first time and after each outage), `False` when it goes down."""
MessageHandler = Callable[[Msg], Awaitable[None]]


class NotDelivered(Exception):
    """A request that surely reached no replica able to act on it: nothing was done."""


class NoAnswer(Exception):
    """A request that was sent but got no answer in time: it may or may not have been carried out."""


def described(servers: list[str]) -> str:
    """The servers as scheme://host:port, without credentials, for logs."""
    return ", ".join(f"{parts.scheme}://{parts.hostname}:{parts.port or 4222}" for parts in map(urlsplit, servers))


class Subjects:
    """The subjects of one deployment: a user's frames, and the orders addressed to one replica."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix

    def frames(self, user_id: int) -> str:
        return f"{self._prefix}.user.{user_id}.frames"

    def replica(self, lease_owner: str) -> str:
        """The subject a replica takes orders on, named after the owner it writes in the lease rows (which holds
        dots and colons, so it is hashed into one token)."""
        return f"{self._prefix}.replica.{hashlib.sha256(lease_owner.encode()).hexdigest()[:32]}"


class ReplicaBus:
    def __init__(self, config: FanOutConfig, name: str) -> None:
        self.config = config
        self.subjects = Subjects(config.subject_prefix)
        self._name = name
        self._client = Client()
        self._connecting: asyncio.Task[None] | None = None
        self._observers: list[LinkObserver] = []
        self._up = False
        self._said_unreachable = False

    @property
    def up(self) -> bool:
        return self._up and self._client.is_connected

    @property
    def max_payload(self) -> int:
        """The largest message the server takes (its `max_payload`; 1 MiB by default)."""
        return self._client.max_payload

    def on_link(self, observer: LinkObserver) -> None:
        self._observers.append(observer)

    def start(self) -> None:
        """Connect in the background; on the I/O loop."""
        log.info("fan-out: connecting to %s", described(self.config.servers))
        self._connecting = asyncio.ensure_future(self._connect())

    async def _connect(self) -> None:
        try:
            await self._connect_once()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("fan-out: gave up connecting to %s; frames and orders stay on this replica",
                          described(self.config.servers))

    async def _connect_once(self) -> None:
        await self._client.connect(
            self.config.servers, name=self._name, no_echo=True, allow_reconnect=True, max_reconnect_attempts=-1,
            connect_timeout=self.config.connect_timeout_s, reconnect_time_wait=self.config.reconnect_wait_s,
            ping_interval=self.config.ping_interval_s, max_outstanding_pings=2, pending_size=0,
            error_cb=self._on_error, disconnected_cb=self._on_disconnected, reconnected_cb=self._on_connected)
        await self._on_connected()

    async def close(self) -> None:
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
            await asyncio.wait((self._connecting,))
        self._up = False
        if self._connecting is not None and not self._client.is_closed:
            await self._client.close()

    async def _on_connected(self) -> None:
        if self._up:
            return
        self._up = True
        self._said_unreachable = False
        log.info("fan-out: connected to %s; frames and orders travel between replicas",
                 described(self.config.servers))
        await self._tell(True)

    async def _on_disconnected(self) -> None:
        if not self._up:
            return
        self._up = False
        log.warning("fan-out: the link to NATS is down; clients of users another replica monitors get no frames "
                    "here until it is back, and their orders are not forwarded")
        await self._tell(False)

    async def _on_error(self, error: Exception) -> None:
        if self._up:
            log.warning("fan-out: %s", type(error).__name__)
        elif not self._said_unreachable:
            self._said_unreachable = True
            log.warning("fan-out: NATS at %s not reachable (%s); trying again every %g s, the service runs "
                        "meanwhile", described(self.config.servers), type(error).__name__,
                        self.config.reconnect_wait_s)

    async def _tell(self, up: bool) -> None:
        for observer in self._observers:
            try:
                await observer(up)
            except Exception:
                log.exception("fan-out: a link observer failed")

    async def publish(self, subject: str, payload: bytes) -> bool:
        """Publish when the link is up; False when it sent nothing (down, or the server took nothing more)."""
        if not self.up:
            return False
        try:
            await self._client.publish(subject, payload)
        except (nats.errors.Error, OSError) as error:
            log.warning("fan-out: a message to %s not sent: %s", subject, type(error).__name__)
            return False
        return True

    async def subscribe(self, subject: str, handler: MessageHandler) -> Subscription | None:
        """Subscribe and wait until the server has the subscription; None when the link is down (subscribe again
        when it comes up). Subscriptions outlive an outage: the client renews them on reconnecting."""
        if not self.up:
            return None
        try:
            subscription = await self._client.subscribe(subject, cb=handler)
            await self._client.flush(timeout=max(1, round(self.config.request_timeout_s)))
        except (nats.errors.Error, OSError) as error:
            log.warning("fan-out: subscription to %s not confirmed: %s", subject, type(error).__name__)
            return None
        return subscription

    async def unsubscribe(self, subscription: Subscription) -> None:
        with contextlib.suppress(nats.errors.Error, OSError):  # a closed connection holds no subscription
            await subscription.unsubscribe()

    async def request(self, subject: str, payload: bytes, timeout_s: float) -> bytes:
        """The answer of the replica listening on `subject`; NotDelivered when none listens (or the link is down),
        NoAnswer when none answered within `timeout_s`."""
        if not self.up:
            raise NotDelivered("this replica's link to the others (NATS) is down")
        try:
            answer = await self._client.request(subject, payload, timeout=timeout_s)
        except nats.errors.NoRespondersError:
            raise NotDelivered("the replica monitoring you is not on the fan-out") from None
        except nats.errors.TimeoutError:
            raise NoAnswer(f"the replica monitoring you did not answer within {timeout_s:g} s") from None
        except (nats.errors.Error, OSError) as error:
            raise NotDelivered(f"the fan-out failed ({type(error).__name__})") from None
        return answer.data
