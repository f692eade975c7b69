"""The Supervisor: which users are monitored, and the life of their UserMonitors and tick jobs.

It counts each user's live client connections. The first connection starts the user's monitor and tick
job; when the last one closes the job is removed and the monitor drains (a running cycle finishes), then
is stopped. A monitor that crashes is replaced and the crash is logged as `MonitorRestarted`, within a
restart budget so that a monitor failing on every message cannot spin. Monitor observers are told each
start and each stop for want of a client (a crash is the event's to tell; the shutdown's stops are not told).
"""

from __future__ import annotations

import logging
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, Protocol

import pykka

from actors.monitor_registry import MonitorRegistry
from actors.user_monitor.host import MonitorRef
from adapters.store.port import EventLog
from domain.ports.clock import Clock
from messages.control import (
    ClientConnected,
    ClientDisconnected,
    Drain,
    MonitorCrashed,
    MonitorIdle,
    Resume,
    RunCycleNow,
    Tick,
)
from messages.events import MonitorRestarted

log = logging.getLogger(__name__)

MonitorStarter = Callable[[int, pykka.ActorRef], MonitorRef]
"""Starts the UserMonitor of a user, telling it who its supervisor is; returns its ref."""

MonitorObserver = Callable[[int, bool], None]
"""Told (user_id, True) when a monitor of the user starts, (user_id, False) when it stops because no client is
left. Runs in the Supervisor's thread: quick and thread-safe; one that raises is logged and ignored."""


class Ticks(Protocol):
    """The users' tick jobs (the service's TickScheduler)."""

    def add_user(self, user_id: int) -> None: ...

    def remove_user(self, user_id: int) -> None: ...


class Supervisor(pykka.ThreadingActor):
    def __init__(
        self,
        *,
        start_monitor: MonitorStarter,
        ticks: Ticks,
        registry: MonitorRegistry,
        event_log: EventLog,
        clock: Clock,
        max_restarts: int = 5,
        restart_window: timedelta = timedelta(minutes=5),
        monitor_observers: Sequence[MonitorObserver] = (),
    ) -> None:
        super().__init__()
        self._start_monitor = start_monitor
        self._ticks = ticks
        self._registry = registry
        self._event_log = event_log
        self._clock = clock
        self._max_restarts = max_restarts
        self._restart_window = restart_window
        self._monitor_observers = tuple(monitor_observers)
        self._connections: dict[int, set[str]] = defaultdict(set)
        self._restarts: dict[int, deque] = defaultdict(deque)

    def on_receive(self, message: Any) -> None:
        match message:
            case ClientConnected(user_id=user_id, connection_id=connection_id):
                self._on_connected(user_id, connection_id)
            case ClientDisconnected(user_id=user_id, connection_id=connection_id):
                self._on_disconnected(user_id, connection_id)
            case MonitorIdle(user_id=user_id):
                self._on_idle(user_id)
            case MonitorCrashed():
                self._on_crashed(message)
            case RunCycleNow(user_id=user_id, trigger=trigger):
                if not self._registry.tell(user_id, Tick(trigger=trigger)):
                    log.info("%s cycle for user %s ignored: not monitored", trigger, user_id,
                             extra={"user_id": user_id})
            case _:
                super().on_receive(message)

    def on_stop(self) -> None:
        for user_id in self._registry.user_ids():
            self._ticks.remove_user(user_id)
            ref = self._registry.pop(user_id)
            if ref is not None:
                ref.stop()

    def _on_connected(self, user_id: int, connection_id: str) -> None:
        first = not self._connections[user_id]
        self._connections[user_id].add(connection_id)
        if not first:
            return
        if self._registry.get(user_id) is None:
            self._start(user_id)
        else:
            self._registry.tell(user_id, Resume())
        self._ticks.add_user(user_id)

    def _on_disconnected(self, user_id: int, connection_id: str) -> None:
        connections = self._connections.get(user_id)
        if not connections:
            return
        connections.discard(connection_id)
        if connections:
            return
        del self._connections[user_id]
        self._ticks.remove_user(user_id)
        self._registry.tell(user_id, Drain())

    def _on_idle(self, user_id: int) -> None:
        if self._connections.get(user_id):
            return
        ref = self._registry.pop(user_id)
        if ref is not None:
            ref.stop()
            log.info("monitor of user %s stopped: no client left", user_id, extra={"user_id": user_id})
            self._tell_observers(user_id, running=False)

    def _on_crashed(self, crash: MonitorCrashed) -> None:
        user_id = crash.user_id
        self._registry.pop(user_id)
        now = self._clock.now()
        recent = self._restarts[user_id]
        while recent and now - recent[0] > self._restart_window:
            recent.popleft()
        gives_up = len(recent) >= self._max_restarts
        connected = bool(self._connections.get(user_id))
        outcome = "restart budget spent, monitoring stopped" if gives_up \
            else "restarted" if connected else "not restarted: no client left"
        reason = f"{crash.reason}; {outcome}"
        self._event_log.append(MonitorRestarted(user_id=user_id, cycle_id=crash.cycle_id, at=now, reason=reason,
                                                stopped=gives_up or not connected))
        log.error("monitor of user %s crashed (%s)", user_id, reason, extra={"user_id": user_id,
                                                                            "cycle_id": crash.cycle_id})
        if gives_up or not connected:
            self._ticks.remove_user(user_id)
            return
        recent.append(now)
        self._start(user_id)

    def _start(self, user_id: int) -> None:
        self._registry.put(user_id, self._start_monitor(user_id, self.actor_ref))
        self._tell_observers(user_id, running=True)

    def _tell_observers(self, user_id: int, running: bool) -> None:
        for observer in self._monitor_observers:
            try:
                observer(user_id, running)
            except Exception:
                log.exception("monitor observer failed for user %s", user_id, extra={"user_id": user_id})
