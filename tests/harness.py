"""The scripted harness: drive one UserMonitor with ticks and worker events, synchronously, no threads.

The monitor is a real `UserMonitor`, outside any host: messages to it (the test's, and those it sends itself,
such as its deadlines) go into an inbox the harness hands to it one by one. Workers are recorders; the test
answers each command with events it builds (`ok`, `fail`) or lets the deadline pass (`advance`). Then it
asserts the commands issued and the events logged.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, get_args

from actors.user_monitor.actor import UserMonitor
from actors.user_monitor.config import CycleConfig
from actors.user_monitor.cycle import PIPELINE, CycleState
from actors.user_monitor.window import TradingWindow
from actors.worker import FAILURE_EVENT, Request
from domain.errors import ErrorKind
from messages.commands import Command, FinishCycle
from messages.common import Step
from messages.control import Tick
from messages.events import CommandIssued, Event, StepSucceeded
from tests.doubles import InMemoryEventLog, ListRef, ManualClock

SUCCESS_EVENT: dict[Step, type] = {cls.step: cls for cls in get_args(StepSucceeded)}
WEDNESDAY_NOON_IST = datetime(2026, 11, 25, 6, 30, tzinfo=UTC)
SILENT = "silent"
"""In a `run_cycle` failure plan: the worker never answers, so the step's deadline passes."""


class _Inbox:
    def __init__(self) -> None:
        self.messages: deque[Any] = deque()

    def tell(self, message: Any) -> None:
        self.messages.append(message)


class _WorkerRecorder:
    def __init__(self) -> None:
        self.requests: list[Request] = []

    def tell(self, request: Request) -> None:
        self.requests.append(request)


class ScriptedMonitor:
    def __init__(
        self,
        *,
        user_id: int = 7,
        config: CycleConfig | None = None,
        start: datetime = WEDNESDAY_NOON_IST,
        monitor: type[UserMonitor] = UserMonitor,
        clock: ManualClock | None = None,
        cycle_ids: Callable[[datetime], str] | None = None,
    ) -> None:
        self.user_id = user_id
        self.config = config or CycleConfig(window=TradingWindow(enabled=False))
        self.clock = clock or ManualClock(start)
        self.log = InMemoryEventLog()
        self.workers = _WorkerRecorder()
        self.supervisor = ListRef()
        counter = itertools.count(1)
        self.inbox = _Inbox()
        self.monitor = monitor(
            user_id,
            ref=self.inbox,
            routes={cls: self.workers for cls in get_args(Command) if cls is not FinishCycle},
            event_log=self.log,
            clock=self.clock,
            config=self.config,
            supervisor=self.supervisor,
            cycle_ids=cycle_ids or (lambda now: f"cycle-{next(counter)}"),
        )

    # --- driving ------------------------------------------------------------------------------

    def send(self, message: Any) -> None:
        self.inbox.tell(message)
        self.send_pending()

    def tick(self, trigger: str = "schedule") -> None:
        self.send(Tick(trigger=trigger))

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.send_pending()

    def send_pending(self) -> None:
        while self.inbox.messages:
            self.monitor.on_receive(self.inbox.messages.popleft())

    @property
    def pending(self) -> Command:
        """The last command a worker received (the one the monitor waits on)."""
        return self.workers.requests[-1].command

    def ok(self, accounts: tuple[int, ...] | None = None, command: Command | None = None, **fields: Any) -> None:
        command = command or self.pending
        account_ids = command.account_ids if accounts is None else accounts
        self.send(SUCCESS_EVENT[command.step](user_id=command.user_id, cycle_id=command.cycle_id,
                                              at=self.clock.now(), account_ids=account_ids, **fields))

    def fail(self, accounts: tuple[int, ...] | None = None, kind: ErrorKind = ErrorKind.UNAVAILABLE,
             message: str = "broker unavailable", command: Command | None = None) -> None:
        command = command or self.pending
        account_ids = command.account_ids if accounts is None else accounts
        self.send(FAILURE_EVENT[command.step](user_id=command.user_id, cycle_id=command.cycle_id,
                                              at=self.clock.now(), account_ids=account_ids, kind=kind,
                                              message=message))

    def run_cycle(
        self,
        accounts: tuple[int, ...] = (1,),
        failures: Mapping[Step, Mapping[int | None, ErrorKind | str]] | None = None,
        step_seconds: float = 0.05,
        **context: Any,
    ) -> None:
        """Tick, then answer every command: ok, unless `failures[step][account]` says an ErrorKind (a
        failure event) or SILENT (no reply: the deadline passes). User-level steps use the key None.
        Context fields (regeneration_strategies, paused, ...) go into the context reply."""
        failures = failures or {}
        self.tick()
        for _ in range(len(PIPELINE)):
            if not self.state.running:
                break
            command = self.pending
            self.clock.advance(step_seconds)
            if command.step is Step.CONTEXT and Step.CONTEXT not in failures:
                self.ok(accounts=accounts, command=command, **context)
                continue
            plan = failures.get(command.step, {})
            targets: tuple[int | None, ...] = command.account_ids or (None,)
            answered_ok = tuple(a for a in targets if a not in plan)
            if answered_ok:
                self.ok(accounts=tuple(a for a in answered_ok if a is not None), command=command)
            for target in targets:
                if target in plan and plan[target] != SILENT:
                    self.fail(accounts=() if target is None else (target,), kind=plan[target], command=command)
            if any(plan.get(t) == SILENT for t in targets):
                self.advance(self.config.timeout_for(command.step))
        assert not self.state.running, f"the cycle still runs after an answer to each of its {len(PIPELINE)} steps"

    # --- observing ----------------------------------------------------------------------------

    @property
    def state(self) -> CycleState:
        return self.monitor._state

    @property
    def events(self) -> list[Event]:
        return self.log.events

    def issued(self) -> list[Command]:
        return [e.command for e in self.events if isinstance(e, CommandIssued)]

    def issued_steps(self) -> list[tuple[Step, tuple[int, ...]]]:
        return [(c.step, c.account_ids) for c in self.issued()]

    def event_types(self) -> list[str]:
        return [type(e).__name__ for e in self.events]
