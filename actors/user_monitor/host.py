"""MonitorHost: one pykka actor running the UserMonitors of many users, so that 10,000 users are a few threads.

Hands each `ToMonitor` to its user's monitor, in order. Each start of a monitor is a new incarnation: a message
for an earlier one is dropped; a monitor that raises is dropped and reports to the Supervisor. At most
`max_cycles` cycles run at once; a tick past it waits, in tick order (README.md, Architecture).
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

import msgspec
import pykka

from actors.io_loop import ReplyTo
from actors.user_monitor.actor import UserMonitor
from messages.control import Tick, TickHeldBack

log = logging.getLogger(__name__)


class ToMonitor(msgspec.Struct, frozen=True):
    user_id: int
    incarnation: int
    message: Any


class StartMonitor(msgspec.Struct, frozen=True):
    user_id: int
    incarnation: int
    supervisor: Any
    """Where the monitor reports that it is idle or crashed (a ReplyTo)."""


class StopMonitor(msgspec.Struct, frozen=True):
    user_id: int
    incarnation: int


class MonitorRef:
    """One incarnation of one user's monitor, on its host."""

    __slots__ = ("host", "incarnation", "user_id")

    def __init__(self, host: pykka.ActorRef, user_id: int, incarnation: int) -> None:
        self.host = host
        self.user_id = user_id
        self.incarnation = incarnation

    def tell(self, message: Any) -> None:
        """Raises pykka.ActorDeadError only when the host itself has stopped."""
        self.host.tell(ToMonitor(self.user_id, self.incarnation, message))

    def stop(self) -> None:
        with contextlib.suppress(pykka.ActorDeadError):
            self.host.tell(StopMonitor(self.user_id, self.incarnation))


MonitorFactory = Callable[[int, MonitorRef, ReplyTo], UserMonitor]
"""Builds the monitor of a user: (user_id, its ref, its supervisor)."""


class MonitorHost(pykka.ThreadingActor):
    def __init__(self, make_monitor: MonitorFactory, max_cycles: int) -> None:
        super().__init__()
        if max_cycles < 1:
            raise ValueError(f"a host runs at least one cycle at once, got {max_cycles}")
        self._make_monitor = make_monitor
        self._max_cycles = max_cycles
        self._monitors: dict[int, tuple[int, UserMonitor]] = {}
        self._running: set[int] = set()
        """Users whose cycle is running."""
        self._waiting: deque[tuple[int, int, Tick]] = deque()
        self._waiting_users: dict[int, int] = {}
        """User → the incarnation whose tick waits in `_waiting` (an entry of any other is stale)."""

    def on_receive(self, message: Any) -> None:
        match message:
            case ToMonitor(user_id=user_id, incarnation=incarnation, message=inner):
                found = self._monitors.get(user_id)
                if found is None or found[0] != incarnation:
                    log.debug("a %s for a stopped monitor of user %s was dropped", type(inner).__name__, user_id,
                              extra={"user_id": user_id})
                    return
                if isinstance(inner, Tick) and self._held_back(user_id, incarnation, inner, found[1]):
                    return
                self._deliver(user_id, found[1], inner)
                self._admit_waiting()
            case StartMonitor(user_id=user_id, incarnation=incarnation, supervisor=supervisor):
                self._forget(user_id)
                ref = MonitorRef(self.actor_ref, user_id, incarnation)
                self._monitors[user_id] = (incarnation, self._make_monitor(user_id, ref, supervisor))
                self._admit_waiting()
            case StopMonitor(user_id=user_id, incarnation=incarnation):
                found = self._monitors.get(user_id)
                if found is not None and found[0] == incarnation:
                    del self._monitors[user_id]
                    self._forget(user_id)
                    self._admit_waiting()
            case _:
                super().on_receive(message)

    def _held_back(self, user_id: int, incarnation: int, tick: Tick, monitor: UserMonitor) -> bool:
        """Whether the host keeps the tick from the monitor: it queues a tick that would start a cycle past
        its limit, and tells the monitor `TickHeldBack` for a tick of a user whose tick already waits."""
        if user_id in self._running:
            return False  # the monitor records it as skipped: its cycle is running
        if user_id in self._waiting_users:
            self._deliver(user_id, monitor, TickHeldBack())
            return True
        if len(self._running) < self._max_cycles:
            return False
        self._waiting.append((user_id, incarnation, tick))
        self._waiting_users[user_id] = incarnation
        return True

    def _deliver(self, user_id: int, monitor: UserMonitor, message: Any) -> None:
        """Hand `message` to the monitor and keep count of whether its cycle runs."""
        try:
            monitor.on_receive(message)
        except Exception as error:
            log.error("monitor of user %s crashed", user_id, exc_info=error, extra={"user_id": user_id})
            del self._monitors[user_id]
            self._forget(user_id)
            monitor.on_failure(error)
            return
        if monitor.cycle_running:
            self._running.add(user_id)
        else:
            self._running.discard(user_id)

    def _forget(self, user_id: int) -> None:
        """A stopped or crashed monitor gives back its slot and its place in the queue."""
        self._running.discard(user_id)
        self._waiting_users.pop(user_id, None)

    def _admit_waiting(self) -> None:
        """Hand waiting ticks to their monitors, oldest first, while the host has free slots."""
        while self._waiting and len(self._running) < self._max_cycles:
            user_id, incarnation, tick = self._waiting.popleft()
            if self._waiting_users.get(user_id) != incarnation:
                continue  # its monitor was stopped or replaced meanwhile
            del self._waiting_users[user_id]
            self._deliver(user_id, self._monitors[user_id][1], tick)
