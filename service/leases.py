"""Replica leases, kept on the I/O loop: a process monitors a user only while it holds the user's lease, so
replicas sharing one MySQL monitor each user exactly once (README.md, Running the service: replicas).

Leases are renewed three times an interval and retried for users whose clients are here; every cycle write is
fenced by the lease's token. Take, renew and give up of one user run one at a time, so simultaneous connections of
a user all see the same answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from adapters.store.port import Store
from domain.errors import AdapterError
from messages.common import CycleTrigger
from service.actor_system import MonitoringSystem
from service.background import BackgroundLoop
from service.web.hub import Hub

log = logging.getLogger(__name__)

LEASE_CONNECTION = "lease"
"""The one connection the keeper reports to the Supervisor for a user whose lease this replica holds."""


class LeaseKeeper:
    def __init__(self, store: Store, system: MonitoringSystem, hub: Hub, interval_s: float) -> None:
        self._store = store
        self._system = system
        self._hub = hub
        self._ttl_s = max(interval_s, 3.0)
        self._every_s = self._ttl_s / 3
        self._monitored: set[int] = set()
        self._background = BackgroundLoop(self._keep)
        self._turns: dict[int, tuple[asyncio.Lock, list[int]]] = {}

    def start(self) -> None:
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()
        for user_id in list(self._monitored):
            async with self._turn(user_id):
                await self._give_up(user_id)

    async def client_joined(self, user_id: int) -> bool:
        """A client of the user connected here; True when this replica monitors the user."""
        async with self._turn(user_id):
            return await self._claim(user_id, "connect")

    def monitors(self, user_id: int) -> bool:
        """Whether this replica holds the user's lease and runs the user's monitor."""
        return user_id in self._monitored

    async def client_left(self, user_id: int) -> None:
        async with self._turn(user_id):
            if self._hub.connections(user_id) == 0 and user_id in self._monitored:
                await self._give_up(user_id)

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self._every_s)
            for user_id in set(self._hub.users()) | self._monitored:
                async with self._turn(user_id):
                    await self._claim(user_id, "takeover")

    @contextlib.asynccontextmanager
    async def _turn(self, user_id: int) -> AsyncIterator[None]:
        """The user's turn: one take, renewal or release of the user's lease at a time in this process."""
        lock, waiting = self._turns.setdefault(user_id, (asyncio.Lock(), [0]))
        waiting[0] += 1
        try:
            async with lock:
                yield
        finally:
            waiting[0] -= 1
            if not waiting[0]:
                del self._turns[user_id]

    async def _claim(self, user_id: int, trigger: CycleTrigger) -> bool:
        """Take or renew the user's lease; a take of a lease held before (by another replica, or by this one
        before the user's clients all left) runs a cycle at once, labelled `trigger`."""
        if self._hub.connections(user_id) == 0:
            return False
        try:
            lease = await self._store.acquire_lease(user_id, self._ttl_s)
        except AdapterError as error:
            log.warning("lease of user %s not renewed: %s", user_id, error.message, extra={"user_id": user_id})
            return user_id in self._monitored
        if lease.held and user_id not in self._monitored:
            self._monitored.add(user_id)
            self._system.client_connected(user_id, LEASE_CONNECTION)
            if lease.fencing_token > 1:
                log.info("took over user %s (lease %s)", user_id, lease.fencing_token, extra={"user_id": user_id})
                self._system.run_cycle_now(user_id, trigger)
        elif not lease.held and user_id in self._monitored:
            log.warning("lease of user %s lost to %s", user_id, lease.owner, extra={"user_id": user_id})
            self._monitored.discard(user_id)
            self._system.client_disconnected(user_id, LEASE_CONNECTION)
        return lease.held

    async def _give_up(self, user_id: int) -> None:
        self._monitored.discard(user_id)
        self._system.client_disconnected(user_id, LEASE_CONNECTION)
        try:
            await self._store.release_lease(user_id)
        except AdapterError as error:
            log.warning("lease of user %s not released (it expires by itself): %s", user_id, error.message,
                        extra={"user_id": user_id})
