"""The shell every worker shares: take a command, run its coroutine on the I/O loop, tell the events back.

Stateless and shared by all users; every command is answered (a handler that raises becomes the step's failure
event). A handler still running `CANCEL_GRACE_S` after its deadline is cancelled, so abandoned work cannot pile
up; safe at any await: a transaction rolls back, an ambiguous broker request is settled by the next order book.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple, get_args

import pykka

from actors.io_loop import IoLoop, ReplyTo
from domain.errors import AdapterError, ErrorKind
from domain.ports.clock import Clock
from messages.commands import Command
from messages.common import Step
from messages.events import Event, StepFailed

log = logging.getLogger(__name__)

StepHandler = Callable[[Any], Awaitable[Sequence[Event]]]
"""A coroutine function taking one command and returning the events that answer it."""

FAILURE_EVENT: dict[Step, type] = {cls.step: cls for cls in get_args(StepFailed)}


CANCEL_GRACE_S = 1.0
"""How long after its deadline a step's work is cancelled (the monitor has recorded the timeout by then)."""


class Request(NamedTuple):
    """A command on its way to a worker, with the actor to tell its outcome to (never logged) and the
    step's deadline."""

    command: Command
    reply_to: ReplyTo
    deadline_s: float


def failure_event(command: Command, error: BaseException, clock: Clock) -> Event:
    """The step's failure event for every account of `command`, from an exception a handler raised."""
    if isinstance(error, AdapterError):
        kind, message = error.kind, error.message
    elif isinstance(error, TimeoutError):
        kind, message = ErrorKind.TIMEOUT, "timed out"
    else:
        log.error("step %s failed unexpectedly for user %s cycle %s", command.step, command.user_id,
                  command.cycle_id, exc_info=error)
        kind, message = ErrorKind.INTERNAL, f"internal error ({type(error).__name__})"
    return FAILURE_EVENT[command.step](
        user_id=command.user_id, cycle_id=command.cycle_id, at=clock.now(),
        account_ids=command.account_ids, kind=kind, message=message,
    )


class Worker(pykka.ThreadingActor):
    """A room's actor: routes each `Request` to the handler for its command type and tells the outcome to
    `reply_to`. `ANSWERS` names the commands the room answers; the handlers come from the one table of them."""

    ANSWERS: ClassVar[tuple[type[Command], ...]] = ()

    def __init__(self, io: IoLoop, clock: Clock, handlers: Mapping[type[Command], StepHandler]) -> None:
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
            message.reply_to.tell(failure_event(command, LookupError(type(command).__name__), self._clock))
            return None
        self._io.tell_outcome(
            handler(command),
            reply_to=message.reply_to,
            on_error=lambda error: failure_event(command, error, self._clock),
            timeout_s=message.deadline_s + CANCEL_GRACE_S,
        )
        return None
