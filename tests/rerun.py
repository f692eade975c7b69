"""Re-running a stored cycle in the scripted harness, so a production incident becomes a test.

`rerun_cycle(events)` takes one cycle's events as logged and drives a real, unstarted UserMonitor
(`ScriptedMonitor`) through the same story: the same tick, each worker reply at the place it arrived,
each deadline passing where the log says it did, each tick skipped. The monitor's clock gives it the
logged times of the events it stamps itself (`StampClock`), and the policy the cycle was logged with, so
everything the monitor logs can be compared field for field with the log:
`assert rerun_cycle(stored).events == stored`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import datetime

from actors.user_monitor.actor import UserMonitor
from actors.user_monitor.config import DEFAULT_STEP_TIMEOUTS_S, CycleConfig
from actors.user_monitor.window import TradingWindow
from messages.events import (
    CommandIssued,
    CycleFinished,
    CycleStarted,
    Event,
    MonitorRestarted,
    StepTimedOut,
    TickSkipped,
)
from tests.doubles import ManualClock
from tests.harness import ScriptedMonitor

STAMPED_BY_MONITOR = (CycleStarted, CommandIssued, StepTimedOut, TickSkipped)
"""Events whose time is the monitor's own `clock.now()`, one call each (CycleFinished shares its
FinishCycle's)."""


class StampClock(ManualClock):
    """A manual clock whose `now()` hands out the logged times, in order; timers fire as on a ManualClock."""

    def __init__(self, start: datetime, stamps: Sequence[datetime]) -> None:
        super().__init__(start)
        self._stamps = deque(stamps)

    def now(self) -> datetime:
        if not self._stamps:
            return super().now()
        stamp = self._stamps.popleft()
        if stamp > super().now():
            self.set(stamp)
        return stamp


def rerun_cycle(events: Sequence[Event]) -> ScriptedMonitor:
    """Drive a fresh monitor through the logged cycle `events` (CycleStarted first); the harness after it."""
    started = events[0]
    if not isinstance(started, CycleStarted):
        raise ValueError("a cycle to re-run starts with CycleStarted")
    if any(isinstance(e, MonitorRestarted) for e in events):
        raise ValueError("the monitor was restarted inside this cycle; one monitor cannot re-run it")
    deadlines = {e.command.step: e.deadline_s for e in events
                 if isinstance(e, CommandIssued) and e.deadline_s is not None}
    config = CycleConfig(window=TradingWindow(enabled=False), step_timeouts_s={**DEFAULT_STEP_TIMEOUTS_S, **deadlines})
    clock = StampClock(started.at, [e.at for e in events if isinstance(e, STAMPED_BY_MONITOR)])
    logged_policy = type("LoggedPolicyMonitor", (UserMonitor,), {"cycle_policy": lambda _: started.policy})
    scripted = ScriptedMonitor(user_id=started.user_id, config=config, clock=clock, monitor=logged_policy,
                               cycle_ids=lambda _: started.cycle_id)
    for event in events:
        match event:
            case CycleStarted(trigger=trigger):
                scripted.tick(trigger=trigger)
            case TickSkipped():
                scripted.tick()
            case StepTimedOut(at=at):
                clock.set(at)
                scripted.send_pending()
            case CommandIssued() | CycleFinished():
                pass
            case _:
                scripted.send(event)
    return scripted
