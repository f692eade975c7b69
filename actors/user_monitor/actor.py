"""The UserMonitor: a thin shell around the pure cycle decider, one per monitored user.

Owns the user's cycle state and the decision loop: append the event, fold it with `evolve`, log `decide`'s next
command as `CommandIssued`, send it to its worker with a deadline; and a tick's pre-conditions. No business rule,
no blocking I/O. A `MonitorHost` runs it; its `ref` is where worker replies and deadlines come back.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import pykka

from actors.io_loop import ReplyTo
from actors.user_monitor.config import CycleConfig
from actors.user_monitor.cycle import decide, evolve, initial_state
from actors.user_monitor.failure_log import log_new_failures
from actors.worker import Request
from adapters.store.port import EventLog
from domain.ports.clock import Cancellable, Clock
from messages.commands import Command, FinishCycle
from messages.control import (
    DeadlinePassed,
    Drain,
    MonitorCrashed,
    MonitorIdle,
    Resume,
    StepOutcome,
    Tick,
    TickHeldBack,
)
from messages.events import (
    CommandIssued,
    CycleFinished,
    CyclePolicy,
    CycleStarted,
    Event,
    StepTimedOut,
    TickSkipped,
    TradingWindowChanged,
)

log = logging.getLogger(__name__)

EVENT_TYPES: tuple[type, ...] = Event.__args__  # type: ignore[attr-defined]


def new_cycle_id(now: datetime) -> str:
    """Sortable and unique: the start time to the second plus 6 random hex digits."""
    return f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


class UserMonitor:
    def __init__(
        self,
        user_id: int,
        *,
        ref: ReplyTo,
        routes: Mapping[type, ReplyTo],
        event_log: EventLog,
        clock: Clock,
        config: CycleConfig,
        supervisor: ReplyTo | None = None,
        cycle_ids: Callable[[datetime], str] = new_cycle_id,
    ) -> None:
        self.user_id = user_id
        self.ref = ref
        self._routes = dict(routes)
        self._event_log = event_log
        self._clock = clock
        self._config = config
        self._supervisor = supervisor
        self._cycle_ids = cycle_ids
        self._state = initial_state(user_id)
        self._deadline: Cancellable | None = None
        self._window_open: bool | None = None
        self._draining = False

    # --- messages -------------------------------------------------------------------------------

    def on_receive(self, message: Any) -> None:
        match message:
            case Tick():
                self._on_tick(message)
            case TickHeldBack():
                self._append(TickSkipped(user_id=self.user_id, cycle_id="", at=self._clock.now(),
                                         reason="waiting_for_capacity"))
            case DeadlinePassed():
                self._on_deadline(message)
            case Drain():
                self._draining = True
                self._report_idle_if_drained()
            case Resume():
                self._draining = False
            case StepOutcome():
                for event in message.events:
                    self._apply(event)
            case _ if isinstance(message, EVENT_TYPES):
                self._apply(message)
            case _:
                log.warning("monitor of user %s ignored a %s", self.user_id, type(message).__name__,
                            extra={"user_id": self.user_id})

    def on_failure(self, error: BaseException) -> None:
        """`on_receive` raised: this monitor is done; its deadline is cancelled and the Supervisor told."""
        if self._deadline is not None:
            self._deadline.cancel()
        if self._supervisor is not None:
            cycle_id = (self._state.cycle_id or "") if self._state.running else ""
            self._supervisor.tell(MonitorCrashed(user_id=self.user_id, cycle_id=cycle_id,
                                                 reason=type(error).__name__))

    @property
    def cycle_running(self) -> bool:
        return self._state.running

    # --- the tick's pre-conditions -------------------------------------------------------------

    def _on_tick(self, tick: Tick) -> None:
        now = self._clock.now()
        if self._state.running:
            self._append(TickSkipped(user_id=self.user_id, cycle_id=self._state.cycle_id or "", at=now,
                                     reason="cycle_running"))
            return
        if self._draining:
            self._append(TickSkipped(user_id=self.user_id, cycle_id="", at=now, reason="no_connection"))
            return
        window = self._config.window
        window_open = window.is_open(now)
        if window.enabled and window_open != self._window_open:
            self._window_open = window_open
            self._append(TradingWindowChanged(user_id=self.user_id, cycle_id="", at=now, open=window_open))
        if not window_open:
            return
        self._apply(CycleStarted(user_id=self.user_id, cycle_id=self._cycle_ids(now), at=now,
                                 trigger=tick.trigger, policy=self.cycle_policy()))

    def cycle_policy(self) -> CyclePolicy:
        """The settings a cycle starting now is decided by, logged with its start."""
        return CyclePolicy(isolate_account_failures=self._config.isolate_account_failures,
                           protect_while_paused=self._config.protect_while_paused,
                           cancel_entries_when_paused=self._config.cancel_entries_when_paused,
                           summary_from_step_events=True)

    # --- the decision loop ---------------------------------------------------------------------

    def _append(self, event: Event) -> None:
        self._event_log.append(event)

    def _apply(self, event: Event) -> None:
        self._append(event)
        before, self._state = self._state, evolve(self._state, event)
        log_new_failures(before, self._state)
        if self._deadline is not None and (not self._state.running or self._state.in_flight() is None):
            self._deadline.cancel()
            self._deadline = None
        command = decide(self._state)
        if command is not None:
            self._issue(command)
        elif self._state.finished:
            self._report_idle_if_drained()

    def _issue(self, command: Command) -> None:
        now = self._clock.now()
        if isinstance(command, FinishCycle):
            self._apply(CommandIssued(user_id=self.user_id, cycle_id=command.cycle_id, at=now,
                                      account_ids=command.account_ids, command=command))
            self._apply(CycleFinished(user_id=self.user_id, cycle_id=command.cycle_id, at=now,
                                      account_ids=command.account_ids, error_count=len(self._state.errors)))
            return
        deadline_s = self._config.timeout_for(command.step)
        self._apply(CommandIssued(user_id=self.user_id, cycle_id=command.cycle_id, at=now,
                                  account_ids=command.account_ids, command=command, deadline_s=deadline_s))
        expiry = DeadlinePassed(cycle_id=command.cycle_id, step=command.step)
        self._deadline = self._clock.call_later(deadline_s, lambda: self._tell_self(expiry))
        try:
            self._routes[type(command)].tell(Request(command=command, reply_to=self.ref, deadline_s=deadline_s))
        except pykka.ActorDeadError:
            log.error("worker for %s is not running; the step will time out",
                      type(command).__name__, extra={"user_id": self.user_id, "cycle_id": command.cycle_id})

    def _tell_self(self, message: Any) -> None:
        with contextlib.suppress(pykka.ActorDeadError):
            self.ref.tell(message)

    def _on_deadline(self, expiry: DeadlinePassed) -> None:
        state = self._state
        run = state.run_of(expiry.step)
        if not state.running or state.cycle_id != expiry.cycle_id or run is None or run.complete():
            return
        self._deadline = None
        self._apply(StepTimedOut(user_id=self.user_id, cycle_id=expiry.cycle_id, at=self._clock.now(),
                                 account_ids=run.pending(), step=expiry.step,
                                 deadline_s=self._config.timeout_for(expiry.step)))

    def _report_idle_if_drained(self) -> None:
        if self._draining and not self._state.running and self._supervisor is not None:
            self._supervisor.tell(MonitorIdle(user_id=self.user_id))
