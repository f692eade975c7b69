"""MonitorHost: one pykka actor running the UserMonitors of many users, so that 10,000 users are a few threads.

Owns the monitors of the users given to it and hands each `ToMonitor` to its user's monitor, one message at
a time, in the order sent (all of a user's messages go through the same host). A thread per user would make
every hand-off of a step a wake-up of one of thousands of threads, all taking turns at the one interpreter
lock with the I/O loop that does the work; a few hosts keep the loop's turn short.

Each start of a user's monitor is a new incarnation: a message addressed to an earlier one (a worker's reply
that arrives after its monitor was stopped or replaced) is dropped, as a message to a stopped actor would
be. A monitor that raises is dropped from the host and reports itself to the Supervisor (`on_failure`); the
host and its other monitors carry on. `MonitorRef` addresses one incarnation: what workers reply to, what
the registry holds.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

import msgspec
import pykka

from actors.user_monitor.actor import UserMonitor
from service.io_loop import ReplyTo

log = logging.getLogger(__name__)


class ToMonitor(msgspec.Struct, frozen=True):
    user_id: int
    incarnation: int
    message: Any


class StartMonitor(msgspec.Struct, frozen=True):
    user_id: int
    incarnation: int
    supervisor: Any
    """Where the monitor reports that it is idle or crashed (a ReplyTo)."""


class StopMonitor(msgspec.Struct, frozen=True):
    user_id: int
    incarnation: int


class MonitorRef:
    """One incarnation of one user's monitor, on its host."""

    __slots__ = ("host", "incarnation", "user_id")

    def __init__(self, host: pykka.ActorRef, user_id: int, incarnation: int) -> None:
        self.host = host
        self.user_id = user_id
        self.incarnation = incarnation

    def tell(self, message: Any) -> None:
        """Raises pykka.ActorDeadError only when the host itself has stopped."""
        self.host.tell(ToMonitor(self.user_id, self.incarnation, message))

    def stop(self) -> None:
        with contextlib.suppress(pykka.ActorDeadError):
            self.host.tell(StopMonitor(self.user_id, self.incarnation))


MonitorFactory = Callable[[int, MonitorRef, ReplyTo], UserMonitor]
"""Builds the monitor of a user: (user_id, its ref, its supervisor)."""


class MonitorHost(pykka.ThreadingActor):
    def __init__(self, make_monitor: MonitorFactory) -> None:
        super().__init__()
        self._make_monitor = make_monitor
        self._monitors: dict[int, tuple[int, UserMonitor]] = {}

    def on_receive(self, message: Any) -> None:
        match message:
            case ToMonitor(user_id=user_id, incarnation=incarnation, message=inner):
                found = self._monitors.get(user_id)
                if found is None or found[0] != incarnation:
                    log.debug("a %s for a stopped monitor of user %s was dropped", type(inner).__name__, user_id,
                              extra={"user_id": user_id})
                    return
                monitor = found[1]
                try:
                    monitor.on_receive(inner)
                except Exception as error:
                    log.error("monitor of user %s crashed", user_id, exc_info=error, extra={"user_id": user_id})
                    del self._monitors[user_id]
                    monitor.on_failure(error)
            case StartMonitor(user_id=user_id, incarnation=incarnation, supervisor=supervisor):
                ref = MonitorRef(self.actor_ref, user_id, incarnation)
                self._monitors[user_id] = (incarnation, self._make_monitor(user_id, ref, supervisor))
            case StopMonitor(user_id=user_id, incarnation=incarnation):
                found = self._monitors.get(user_id)
                if found is not None and found[0] == incarnation:
                    del self._monitors[user_id]
            case _:
                super().on_receive(message)
