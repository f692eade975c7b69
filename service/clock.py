"""The Clock port and the system clock. Code that needs the time or a timer takes a Clock; tests inject one.

Timers run on the service's asyncio loop (no thread per timer), so 10,000 pending deadlines cost nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> Cancellable:
        """Run `callback` (which must be quick and thread-safe, e.g. an actor tell) after `delay_s`."""


class _LoopTimer:
    def __init__(self, loop: asyncio.AbstractEventLoop, delay_s: float, callback: Callable[[], None]) -> None:
        self._loop = loop
        self._handle: asyncio.TimerHandle | None = None
        self._cancelled = False
        loop.call_soon_threadsafe(self._arm, delay_s, callback)

    def _arm(self, delay_s: float, callback: Callable[[], None]) -> None:
        if not self._cancelled:
            self._handle = self._loop.call_later(delay_s, callback)

    def cancel(self) -> None:
        self._cancelled = True
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._disarm)

    def _disarm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()


class SystemClock:
    """Wall-clock time; timers are scheduled on the given asyncio loop from any thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def now(self) -> datetime:
        return datetime.now(UTC)

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> Cancellable:
        return _LoopTimer(self._loop, delay_s, callback)
