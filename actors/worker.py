"""The shell every worker shares: take a command, run its coroutine on the I/O loop, tell the events back.

Stateless and shared by all users; every command is answered (a handler that raises becomes the step's failure
event, or `PlaceEntriesFailed`). A handler still running `CANCEL_GRACE_S` after its deadline is cancelled, so
abandoned work cannot pile up; safe at any await: a transaction rolls back, an ambiguous broker request is
settled by the next order book. A command sent without a deadline (the batch API's) runs to its end.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple, get_args

import pykka

from actors.io_loop import IoLoop, ReplyTo
from domain.errors import AdapterError, ErrorKind
from domain.ports.clock import Clock
from messages.commands import Command, PlaceEntries, WorkerCommand
from messages.common import Step
from messages.events import EntriesAnswer, Event, PlaceEntriesFailed, StepFailed

log = logging.getLogger(__name__)

StepHandler = Callable[[Any], Awaitable[Sequence[Event | EntriesAnswer]]]
"""A coroutine function taking one command and returning the events (or the answer) that answer it."""

FAILURE_EVENT: dict[Step, type] = {cls.step: cls for cls in get_args(StepFailed)}


CANCEL_GRACE_S = 1.0
"""How long after its deadline a step's work is cancelled (the monitor has recorded the timeout by then)."""


class Request(NamedTuple):
    """A command on its way to a worker, with the actor to tell its outcome to (never logged) and the
    step's deadline (None: the work runs to its end, never cancelled)."""

    command: WorkerCommand
    reply_to: ReplyTo
    deadline_s: float | None


def failure_event(command: Command, error: BaseException, clock: Clock) -> Event:
    """The step's failure event for every account of `command`, from an exception a handler raised."""
    kind, message = _failure(error, f"step {command.step} for user {command.user_id} cycle {command.cycle_id}")
    return FAILURE_EVENT[command.step](
        user_id=command.user_id, cycle_id=command.cycle_id, at=clock.now(),
        account_ids=command.account_ids, kind=kind, message=message,
    )


def failure_answer(command: WorkerCommand, error: BaseException, clock: Clock) -> Event | EntriesAnswer:
    """What answers `command` when its handler raised (or ran past its deadline)."""
    if isinstance(command, PlaceEntries):
        kind, message = _failure(error, f"placing entries for user {command.user_id} account {command.account_id}")
        return PlaceEntriesFailed(user_id=command.user_id, account_id=command.account_id, kind=kind, message=message)
    return failure_event(command, error, clock)


def _failure(error: BaseException, what: str) -> tuple[ErrorKind, str]:
    if isinstance(error, AdapterError):
        return error.kind, error.message
    if isinstance(error, TimeoutError):
        return ErrorKind.TIMEOUT, "timed out"
    log.error("%s failed unexpectedly", what, exc_info=error)
    return ErrorKind.INTERNAL, f"internal error ({type(error).__name__})"


class Worker(pykka.ThreadingActor):
    """A room's actor: routes each `Request` to the handler for its command type and tells the outcome to
    `reply_to`. `ANSWERS` names the commands the room answers; the handlers come from the one table of them."""

    ANSWERS: ClassVar[tuple[type[WorkerCommand], ...]] = ()

    def __init__(self, io: IoLoop, clock: Clock, handlers: Mapping[type[WorkerCommand], StepHandler]) -> None:
        super().__init__()
        missing = [command.__name__ for command in self.ANSWERS if command not in handlers]
        if missing:
            raise ValueError(f"{type(self).__name__} answers {', '.join(missing)} but no handler is given")
        self._io = io
        self._clock = clock
        self._handlers = {command: handlers[command] for command in self.ANSWERS}

    def on_receive(self, message: Any) -> None:
        if not isinstance(message, Request):
            return super().on_receive(message)
        command = message.command
        handler = self._handlers.get(type(command))
        if handler is None:
            message.reply_to.tell(failure_answer(command, LookupError(type(command).__name__), self._clock))
            return None
        self._io.tell_outcome(
            handler(command),
            reply_to=message.reply_to,
            on_error=lambda error: failure_answer(command, error, self._clock),
            timeout_s=None if message.deadline_s is None else message.deadline_s + CANCEL_GRACE_S,
        )
        return None
