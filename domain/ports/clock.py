"""The `Clock` port: the time and timers. Code that needs either takes a Clock; the service runs the system
clock (service/clock.py), tests inject their own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> Cancellable:
        """Run `callback` (which must be quick and thread-safe, e.g. an actor tell) after `delay_s`."""
