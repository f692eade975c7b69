"""WebSocket frames: JSON objects with a `type`. `ServerFrame` goes to clients, `ClientFrame` comes back."""

from __future__ import annotations

from typing import Literal

import msgspec

from messages.common import CycleError, CycleSummary, UtcDateTime


class _Frame(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    pass


# --- server -> client ------------------------------------------------------------------------------


class Hello(_Frame, tag="hello"):
    user_id: int
    server_time: UtcDateTime
    monitoring: bool


class CycleStartedFrame(_Frame, tag="cycle_started"):
    cycle_id: str
    at: UtcDateTime
    trigger: Literal["schedule", "manual"] = "schedule"


class CycleSummaryFrame(_Frame, tag="cycle_summary"):
    summary: CycleSummary


class MonitoringErrors(_Frame, tag="monitoring_errors"):
    """Step 10: every error of one cycle, in the order they happened."""

    cycle_id: str
    errors: tuple[CycleError, ...]


class SessionNeeded(_Frame, tag="session_needed"):
    """The broker session of `account_id` expired: the user must log in again."""

    account_id: int
    message: str


class ErrorFrame(_Frame, tag="error"):
    """A frame the server could not accept; the connection stays up."""

    message: str


class Pong(_Frame, tag="pong"):
    pass


ServerFrame = (
    Hello | CycleStartedFrame | CycleSummaryFrame | MonitoringErrors | SessionNeeded | ErrorFrame | Pong
)


# --- client -> server ------------------------------------------------------------------------------


class Ping(_Frame, tag="ping"):
    pass


class RunCycle(_Frame, tag="run_cycle"):
    """Run a cycle now, unless one is running."""


class Subscribe(_Frame, tag="subscribe"):
    topics: tuple[str, ...] = ()


ClientFrame = Ping | RunCycle | Subscribe
