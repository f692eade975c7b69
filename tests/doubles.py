"""Small in-memory doubles of the ports, for pure and scripted tests only (real adapters are tested elsewhere)."""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from adapters.store.port import LoggedEvent
from messages.events import Event
from messages.frames import ServerFrame
from service.clock import Timer


class ManualClock:
    """A clock that moves only when told; timers fire synchronously inside `advance`."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._timers: list[tuple[datetime, int, Timer]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return self._now

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> Timer:
        timer = Timer(callback)
        heapq.heappush(self._timers, (self._now + timedelta(seconds=delay_s), next(self._seq), timer))
        return timer

    def advance(self, seconds: float) -> None:
        target = self._now + timedelta(seconds=seconds)
        while self._timers and self._timers[0][0] <= target:
            due, _, timer = heapq.heappop(self._timers)
            self._now = due
            timer.fire()
        self._now = target

    def set(self, moment: datetime) -> None:
        if moment < self._now:
            raise ValueError("a manual clock does not go back")
        self.advance((moment - self._now).total_seconds())

    def pending_timers(self) -> int:
        return sum(1 for _, _, timer in self._timers if not timer.cancelled)


class InMemoryEventLog:
    """Keeps appended events in order with per-user sequence numbers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.logged: list[LoggedEvent] = []
        self._seq: dict[int, int] = {}

    def append(self, event: Event) -> None:
        with self._lock:
            seq = self._seq.get(event.user_id, 0) + 1
            self._seq[event.user_id] = seq
            self.logged.append(LoggedEvent(seq=seq, event=event))

    async def flush(self) -> None:
        return None

    async def read_cycle(self, user_id: int, cycle_id: str) -> list[LoggedEvent]:
        return [e for e in self.logged if e.event.user_id == user_id and e.event.cycle_id == cycle_id]

    @property
    def events(self) -> list[Event]:
        with self._lock:
            return [e.event for e in self.logged]


class RecordingNotifier:
    """Collects frames per user; `clients` says how many clients each user has."""

    def __init__(self, clients: dict[int, int] | None = None) -> None:
        self.sent: list[tuple[int, ServerFrame]] = []
        self.clients = clients or {}

    async def send(self, user_id: int, frame: ServerFrame) -> int:
        self.sent.append((user_id, frame))
        return self.clients.get(user_id, 1)


class ListRef:
    """Stands in for an ActorRef where a test only needs to see what was told."""

    def __init__(self) -> None:
        self.told: list[object] = []

    def tell(self, message: object) -> None:
        self.told.append(message)
