"""The system clock, the service's `Clock` (the port is domain/ports/clock.py).

Timers run on the service's asyncio loop (no thread per timer), so 10,000 pending deadlines cost nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from domain.ports.clock import Cancellable


class Timer:
    """A callback its clock runs once it is due, unless it was cancelled first."""

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def fire(self) -> None:
        if not self.cancelled:
            self.callback()


class SystemClock:
    """Wall-clock time; timers armed from any thread run on the given asyncio loop.

    Arming or cancelling a timer never wakes the loop (a cycle arms and cancels one deadline per step,
    from its actor's thread): an armed timer waits in a queue that the loop moves into its own timer heap
    every `resolution_s`, and a cancelled one is skipped when it comes due. A timer therefore fires on time
    when its delay is longer than `resolution_s`, and at most `resolution_s` late otherwise.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, resolution_s: float = 0.05) -> None:
        self._loop = loop
        self._resolution_s = resolution_s
        self._armed: deque[tuple[float, Timer]] = deque()
        loop.call_soon_threadsafe(self._schedule_armed)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> Cancellable:
        timer = Timer(callback)
        self._armed.append((time.monotonic() + delay_s, timer))
        return timer

    def _schedule_armed(self) -> None:
        while self._armed:
            when, timer = self._armed.popleft()
            if not timer.cancelled:
                self._loop.call_at(when, timer.fire)
        self._loop.call_later(self._resolution_s, self._schedule_armed)
