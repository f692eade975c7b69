"""Replica leases, kept on the I/O loop: a process monitors a user only while it holds the user's lease, so
replicas sharing one MySQL monitor each user exactly once (README.md, Running the service: replicas).

Leases are renewed three times a lease and retried for users whose clients are here; every cycle write is
fenced by the lease's token, and every request that changes orders at the broker by the send guard, told here
when each lease was taken or renewed (timed from before the request that did it). A user whose lease runs out
unrenewed (the database not answering, say) is no longer monitored here. A placement through the API holds the
user's lease while it runs, taken if no replica holds it. Take, renew and give up of one user run one at a
time, so simultaneous connections of a user all see the same answer.
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
from service.send_guard import LeaseGuard
from service.user_turns import UserTurns
from service.web.hub import Hub

log = logging.getLogger(__name__)

LEASE_CONNECTION = "lease"
"""The one connection the keeper reports to the Supervisor for a user whose lease this replica holds."""


class LeaseKeeper:
    def __init__(self, store: Store, system: MonitoringSystem, hub: Hub, guard: LeaseGuard) -> None:
        self._store = store
        self._system = system
        self._hub = hub
        self.guard = guard
        self._every_s = guard.lease_s / 3
        self._monitored: set[int] = set()
        self._placing: dict[int, int] = {}
        """Users with placements running here, and how many: their lease is held while any runs."""
        self._tokens: dict[int, int] = {}
        """The fencing token of each lease this replica holds."""
        self._taken_for_placements: dict[int, int] = {}
        """The token of each user's lease this replica last took for a placement while none of the user's clients
        was here: a client's later take of the next token follows only that hold, in which no cycle was due, so
        it is no take-over."""
        self._lapses: dict[int, asyncio.TimerHandle] = {}
        """The users whose lease this replica holds, each with the timer that ends it here unless renewed."""
        self._releases: set[asyncio.Future] = set()
        self._background = BackgroundLoop(self._keep)
        self._turns = UserTurns()

    def start(self) -> None:
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()
        await asyncio.gather(*self._releases, return_exceptions=True)
        for user_id in self._monitored | set(self._lapses):
            async with self._turn(user_id):
                await self._give_up(user_id)

    async def client_joined(self, user_id: int) -> bool:
        """A client of the user connected here; True when this replica monitors the user."""
        async with self._turn(user_id):
            await self._claim(user_id, "connect")
            return user_id in self._monitored

    def monitors(self, user_id: int) -> bool:
        """Whether this replica holds the user's lease and runs the user's monitor."""
        return user_id in self._monitored

    async def client_left(self, user_id: int) -> None:
        async with self._turn(user_id):
            if self._hub.connections(user_id) == 0 and user_id in self._monitored:
                if user_id in self._placing:
                    self._stop_monitoring(user_id)
                else:
                    await self._give_up(user_id)

    @contextlib.asynccontextmanager
    async def placing(self, user_id: int) -> AsyncIterator[bool]:
        """Hold the user's lease while a placement runs here (taken if no replica holds it, renewed with the
        others); yields whether it is held. Given up when the last placement ends, unless a client is here."""
        self._placing[user_id] = self._placing.get(user_id, 0) + 1
        try:
            if self.guard.lets_out(user_id):
                yield True
            else:
                async with self._turn(user_id):
                    held = await self._claim(user_id, "takeover")
                    if held and self._hub.connections(user_id) == 0:
                        self._taken_for_placements[user_id] = self._tokens[user_id]
                yield held
        finally:
            self._placement_ended(user_id)

    def keep_while(self, user_id: int, placement: asyncio.Future) -> None:
        """Keep holding the user's lease until `placement` ends (one that outlives its `placing` block)."""
        self._placing[user_id] = self._placing.get(user_id, 0) + 1
        placement.add_done_callback(lambda _: self._placement_ended(user_id))

    def _placement_ended(self, user_id: int) -> None:
        left = self._placing.pop(user_id) - 1
        if left:
            self._placing[user_id] = left
        elif user_id in self._lapses:
            release = asyncio.ensure_future(self._give_up_unwanted(user_id))
            self._releases.add(release)
            release.add_done_callback(self._releases.discard)

    async def _give_up_unwanted(self, user_id: int) -> None:
        async with self._turn(user_id):
            if not self._wanted(user_id) and user_id in self._lapses:
                await self._give_up(user_id)

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self._every_s)
            for user_id in set(self._hub.users()) | self._monitored | set(self._placing):
                async with self._turn(user_id):
                    await self._claim(user_id, "takeover")

    def _wanted(self, user_id: int) -> bool:
        """Whether this replica wants the user's lease: a client of the user is here, or a placement runs."""
        return self._hub.connections(user_id) > 0 or user_id in self._placing

    def _turn(self, user_id: int) -> contextlib.AbstractAsyncContextManager[None]:
        """The user's turn: one take, renewal or release of the user's lease at a time in this process."""
        return self._turns.turn(user_id)

    async def _claim(self, user_id: int, trigger: CycleTrigger) -> bool:
        """Take or renew the user's lease if this replica wants it; whether it holds it now. A user with a
        client here is monitored while the lease is held; a take of a lease held before (by another replica, or
        by this one before the user's clients all left) runs a cycle at once, labelled `trigger`, unless it only
        follows this replica's own hold for a placement with none of the user's clients here (no cycle was due)."""
        if not self._wanted(user_id):
            return False
        sent_at = self.guard.now()
        try:
            lease = await self._store.acquire_lease(user_id, self.guard.lease_s)
        except AdapterError as error:
            log.warning("lease of user %s not renewed: %s", user_id, error.message, extra={"user_id": user_id})
            return self.guard.lets_out(user_id)
        if not lease.held:
            if user_id in self._monitored:
                log.warning("lease of user %s lost to %s", user_id, lease.owner, extra={"user_id": user_id})
            self._let_go(user_id)
            return False
        if self.guard.held(user_id, sent_at) <= self.guard.now():
            log.warning("lease of user %s renewed too late to count: the renewal took %.2f s, longer than this "
                        "replica counts the lease from before it was sent; not monitoring the user here until a "
                        "renewal in time", user_id, self.guard.now() - sent_at, extra={"user_id": user_id})
            self._let_go(user_id)
            return False
        self._arm_lapse(user_id)
        self._tokens[user_id] = lease.fencing_token
        if self._hub.connections(user_id) > 0 and user_id not in self._monitored:
            self._monitored.add(user_id)
            self._system.client_connected(user_id, LEASE_CONNECTION)
            placement_token = self._taken_for_placements.pop(user_id, None)
            after_own_placement = placement_token is not None and lease.fencing_token - placement_token <= 1
            if lease.fencing_token > 1 and not after_own_placement:
                log.info("took over user %s (lease %s)", user_id, lease.fencing_token, extra={"user_id": user_id})
                self._system.run_cycle_now(user_id, trigger)
        return True

    def _arm_lapse(self, user_id: int) -> None:
        """Have the lease run out here when the guard counts it valid no more, unless renewed first."""
        if (timer := self._lapses.pop(user_id, None)) is not None:
            timer.cancel()
        valid_until = self.guard.valid_until(user_id)
        if valid_until is not None:
            self._lapses[user_id] = asyncio.get_running_loop().call_later(
                max(0.0, valid_until - self.guard.now()), self._lapsed, user_id)

    def _lapsed(self, user_id: int) -> None:
        """The lease's time ran out here with no renewal: the user is no longer monitored here."""
        valid_until = self.guard.valid_until(user_id)
        if valid_until is not None and valid_until > self.guard.now():
            self._arm_lapse(user_id)  # the loop's timer came due a hair early
            return
        if user_id in self._monitored:
            ago = f" {self.guard.now() - valid_until:.2f} s ago" if valid_until is not None else ""
            log.warning("lease of user %s ran out%s, unrenewed: no longer monitoring the user here", user_id, ago,
                        extra={"user_id": user_id})
        self._let_go(user_id)

    def _let_go(self, user_id: int) -> None:
        """This replica holds the user's lease no more: no requests for the user, no monitor."""
        if (timer := self._lapses.pop(user_id, None)) is not None:
            timer.cancel()
        self.guard.dropped(user_id)
        self._tokens.pop(user_id, None)
        self._stop_monitoring(user_id)

    def _stop_monitoring(self, user_id: int) -> None:
        if user_id in self._monitored:
            self._monitored.discard(user_id)
            self._system.client_disconnected(user_id, LEASE_CONNECTION)

    async def _give_up(self, user_id: int) -> None:
        self._let_go(user_id)
        try:
            await self._store.release_lease(user_id)
        except AdapterError as error:
            log.warning("lease of user %s not released (it expires by itself): %s", user_id, error.message,
                        extra={"user_id": user_id})
