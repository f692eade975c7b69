"""The cycle's settings (`[cycle]` of the service's TOML, loaded by service/config.py): the tick interval,
failure scoping, step deadlines, the trading window, the monitor threads and the paused-user rules."""

from __future__ import annotations

import msgspec

from actors.user_monitor.window import TradingWindow
from messages.common import Step

DEFAULT_STEP_TIMEOUTS_S: dict[Step, float] = {
    Step.CONTEXT: 10.0,
    Step.FETCH: 20.0,
    Step.PNL: 10.0,
    Step.SYNC: 15.0,
    Step.PROTECT: 20.0,
    Step.MODIFY_ENTRIES: 15.0,
    Step.MODIFY_STOP_LOSSES: 15.0,
    Step.ARCHIVE_REJECTED: 10.0,
    Step.REGENERATE: 10.0,
    Step.PLACE_REGENERATED: 20.0,
    Step.REPORT: 5.0,
    Step.SUMMARY: 10.0,
}


class CycleConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    interval_s: float = 60.0
    """Seconds between two ticks of one user."""
    isolate_account_failures: bool = True
    """True: an account failing the fetch or the PnL step stops alone. False: strict all-or-nothing per user."""
    step_timeouts_s: dict[Step, float] = msgspec.field(default_factory=lambda: dict(DEFAULT_STEP_TIMEOUTS_S))
    """Deadline per step; a reply later than this is recorded and ignored, the step counts as failed."""
    window: TradingWindow = TradingWindow()
    """When cycles may run (Asia/Kolkata, Mon-Fri 09:26-15:30, minus holidays)."""
    monitor_threads: int = 4
    """Threads the users' monitors share (each a MonitorHost actor; a user always on the same one)."""
    max_cycles_in_flight: int = 200
    """Cycles this process runs at once, shared evenly by the monitor threads (at least one each); a tick
    past it waits for a cycle to finish (in tick order) instead of starting one more, so an overload queues
    cycles rather than timing out every step of all of them."""

    protect_while_paused: bool = True
    """While the user is paused, each cycle still sends the orders that reduce risk: stop-losses and
    take-profits of running trades (placed, resized, OCO) and the modify-stop-losses step's rescue of a gapped
    stop-loss. False: only the OCO cancels and the entry cancels below, so a trade that fills while paused has
    no stop-loss until the user resumes."""
    cancel_entries_when_paused: bool = True
    """While the user is paused, each cycle cancels the entries still open at the broker (an entry that
    fills anyway still gets its stop-loss and take-profit). False: open entries are left to fill."""

    def __post_init__(self) -> None:
        for field in ("interval_s", "monitor_threads", "max_cycles_in_flight"):
            if getattr(self, field) <= 0:
                raise ValueError(f"{field} must be positive, got {getattr(self, field)}")
        if self.max_cycles_in_flight < self.monitor_threads:
            raise ValueError(f"max_cycles_in_flight ({self.max_cycles_in_flight}) must be at least monitor_threads "
                             f"({self.monitor_threads}): every monitor thread runs at least one cycle")
        if any(t <= 0 for t in self.step_timeouts_s.values()):
            raise ValueError("every step timeout must be positive")

    def timeout_for(self, step: Step) -> float:
        return self.step_timeouts_s.get(step, DEFAULT_STEP_TIMEOUTS_S.get(step, 30.0))
