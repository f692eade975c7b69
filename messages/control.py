"""Control messages between the scheduler, the Supervisor and UserMonitors. Not logged as events."""

from __future__ import annotations

import msgspec

from messages.common import CycleTrigger, Step
from messages.events import EntriesAnswer, Event


class Tick(msgspec.Struct, frozen=True, kw_only=True):
    """Time for a cycle: from the scheduler every interval, or now (a client's `run_cycle`, a pause, the
    connection or take-over that started the user's monitoring here)."""

    trigger: CycleTrigger = "schedule"


class TickHeldBack(msgspec.Struct, frozen=True):
    """From the monitor's host: a tick it did not hand over, because an earlier tick of the user still waits
    for a free slot (recorded as skipped, `waiting_for_capacity`)."""


class DeadlinePassed(msgspec.Struct, frozen=True, kw_only=True):
    """A command's deadline timer fired; stale if that command was already answered."""

    cycle_id: str
    step: Step


class StepOutcome(msgspec.Struct, frozen=True):
    """A step's events, in the order its handler returned them, told to the monitor as one message (one
    thread hand-off per step instead of one per account); for `PlaceEntries`, its one answer."""

    events: tuple[Event | EntriesAnswer, ...]


class Drain(msgspec.Struct, frozen=True):
    """The user's last client left: finish the running cycle, start no new one."""


class Resume(msgspec.Struct, frozen=True):
    """A client came back before the monitor was stopped: carry on."""


MonitorControl = Tick | DeadlinePassed | Drain | Resume


class ClientConnected(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    connection_id: str


class ClientDisconnected(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    connection_id: str


class MonitorIdle(msgspec.Struct, frozen=True, kw_only=True):
    """A draining monitor has no cycle running and may be stopped."""

    user_id: int


class MonitorCrashed(msgspec.Struct, frozen=True, kw_only=True):
    """A monitor raised out of its shell; `cycle_id` is the cycle it interrupted ("" if none)."""

    user_id: int
    cycle_id: str
    reason: str


class RunCycleNow(msgspec.Struct, frozen=True, kw_only=True):
    """A cycle now (see `Tick.trigger` for why); sent through the Supervisor so it follows the client's
    connection."""

    user_id: int
    trigger: CycleTrigger = "manual"


SupervisorMessage = ClientConnected | ClientDisconnected | MonitorIdle | MonitorCrashed | RunCycleNow
