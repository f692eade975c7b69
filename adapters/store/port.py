"""The storage ports: `EventLog` (the append-only monitor_events log) and `Store` (the system of record).

Ports only; adapters implement them (mysql.py, sqlite.py) and tests may use small in-memory doubles.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from messages.common import UtcDateTime
from messages.events import Event


class LoggedEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event as stored: its per-user sequence number and the decoded event."""

    seq: int
    event: Event


class EventLog(Protocol):
    def append(self, event: Event) -> None:
        """Queue `event` for the log without blocking; thread-safe. Durable once `flush()` returns."""

    async def flush(self) -> None:
        """Return when every event appended before the call is durable."""

    async def read_cycle(self, user_id: int, cycle_id: str) -> list[LoggedEvent]:
        """One cycle's events in sequence order."""


class CycleContext(msgspec.Struct, frozen=True, kw_only=True):
    """What a cycle needs to know about its user before it starts (see CycleContextLoaded)."""

    account_ids: tuple[int, ...]
    awaiting_session: tuple[int, ...] = ()
    regeneration_strategies: tuple[str, ...] = ()
    paused: bool = False
    pause_reason: str = ""
    loaded_at: UtcDateTime | None = None


class Store(Protocol):
    async def load_cycle_context(self, user_id: int) -> CycleContext:
        """Active accounts with a live session, those awaiting one, permitted strategies, kill switch."""
