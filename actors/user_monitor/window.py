"""The trading window: when cycles may run. Pure: it is given the time, it never reads the clock.

Market times are Asia/Kolkata; the window is start <= local time < end, on the listed weekdays, except
on listed holidays. Disabled, it is always open (the demo runs around the clock).
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import msgspec


class TradingWindow(msgspec.Struct, frozen=True, kw_only=True):
    enabled: bool = True
    """False: cycles run at any time (demo, tests of other behaviour)."""
    start: time = time(9, 26)
    """First local time a cycle may start (after the opening auction settles)."""
    end: time = time(15, 30)
    """Local close of the session; no cycle starts at or after it."""
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    """Trading days, Monday = 0."""
    holidays: tuple[date, ...] = ()
    """Exchange holidays (local dates) on which nothing runs."""
    timezone: str = "Asia/Kolkata"
    """The market's timezone."""

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)
        if self.start >= self.end:
            raise ValueError(f"trading window start {self.start} must be before end {self.end}")
        if not set(self.weekdays) <= set(range(7)):
            raise ValueError(f"weekdays must be 0 (Monday) .. 6 (Sunday), got {self.weekdays}")

    def is_open(self, at: datetime) -> bool:
        if not self.enabled:
            return True
        if at.tzinfo is None:
            raise ValueError("trading window needs a timezone-aware time")
        local = at.astimezone(ZoneInfo(self.timezone))
        return (
            local.weekday() in self.weekdays
            and local.date() not in self.holidays
            and self.start <= local.time().replace(tzinfo=None) < self.end
        )
