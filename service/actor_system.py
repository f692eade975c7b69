"""Assembles the running actor system: workers, the Supervisor, the registry and the tick scheduler.

`run.py` builds the adapters and the step handlers, then starts a `MonitoringSystem` with them; tests do
the same with their own handlers. Stopping it stops ticks first, then monitors, then workers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence

import pykka
from apscheduler.schedulers.base import BaseScheduler

from actors.broker_fetcher.actor import BrokerFetcher
from actors.error_reporter.actor import ErrorReporter
from actors.error_reporter.report import AccountFrames, LoginUrls, ReportCycleErrors, SendCycleSummary
from actors.io_loop import IoLoop, ReplyTo
from actors.monitor_registry import MonitorRegistry
from actors.notifier import Notifier
from actors.order_placer.actor import OrderPlacer
from actors.order_syncer.actor import OrderSyncer
from actors.pnl_calculator.actor import PnlCalculator
from actors.supervisor import MonitorObserver, Supervisor
from actors.user_monitor.actor import UserMonitor
from actors.user_monitor.config import CycleConfig
from actors.user_monitor.host import MonitorHost, MonitorRef, StartMonitor
from actors.worker import Request, StepHandler, Worker
from adapters.store.port import EventLog
from domain.ports.clock import Clock
from messages import commands as c
from messages.common import CycleTrigger
from messages.control import ClientConnected, ClientDisconnected, RunCycleNow
from service.scheduler import TickScheduler

ROOMS: tuple[type[Worker], ...] = (BrokerFetcher, PnlCalculator, OrderSyncer, OrderPlacer, ErrorReporter)
"""The five rooms; each answers the commands its `ANSWERS` names, so a command's room is written once."""

StepHandlers = Mapping[type[c.WorkerCommand], StepHandler]
"""The one table of step handlers, by the command each answers (the ErrorReporter's are the system's own)."""


class MonitoringSystem:
    def __init__(
        self,
        *,
        io: IoLoop,
        clock: Clock,
        config: CycleConfig,
        event_log: EventLog,
        notifier: Notifier,
        handlers: StepHandlers,
        scheduler: BaseScheduler,
        monitor_type: type[UserMonitor] = UserMonitor,
        account_frames: AccountFrames | None = None,
        monitor_observers: Sequence[MonitorObserver] = (),
        login_urls: LoginUrls | None = None,
        lease_held: Callable[[int], bool] | None = None,
    ) -> None:
        """`account_frames` builds the frames each cycle's summary is followed by; `login_urls` names the login
        page of an account whose session needs a login by hand, for the `session_needed` frame; `lease_held`
        (a replica's) says whether this process still holds a user's lease, which a tick needs to begin a
        cycle."""
        self._io, self._clock, self._config = io, clock, config
        self._event_log = event_log
        self._scheduler = scheduler
        self._monitor_type = monitor_type
        self.registry = MonitorRegistry()
        handlers = {c.ReportErrors: ReportCycleErrors(notifier, clock, login_urls),
                    c.SendSummary: SendCycleSummary(notifier, event_log, clock, account_frames), **handlers}
        rooms = {room: room.start(io, clock, handlers) for room in ROOMS}
        self._workers = tuple(rooms.values())
        self._routes = {command: rooms[room] for room in ROOMS for command in room.ANSWERS}
        cycles_per_host = config.max_cycles_in_flight // config.monitor_threads
        self._hosts = tuple(MonitorHost.start(self._make_monitor, cycles_per_host)
                            for _ in range(config.monitor_threads))
        self._incarnations = itertools.count(1)
        self.ticks = TickScheduler(scheduler, self.registry, clock, config.interval_s, lease_held=lease_held)
        self.supervisor = Supervisor.start(
            start_monitor=self._start_monitor, ticks=self.ticks, registry=self.registry,
            event_log=event_log, clock=clock, monitor_observers=monitor_observers)
        if not scheduler.running:
            scheduler.start()

    def _start_monitor(self, user_id: int, supervisor: pykka.ActorRef) -> MonitorRef:
        host = self._hosts[user_id % len(self._hosts)]
        incarnation = next(self._incarnations)
        host.tell(StartMonitor(user_id, incarnation, supervisor))
        return MonitorRef(host, user_id, incarnation)

    def _make_monitor(self, user_id: int, ref: MonitorRef, supervisor: pykka.ActorRef) -> UserMonitor:
        return self._monitor_type(user_id, ref=ref, routes=self._routes, event_log=self._event_log,
                                  clock=self._clock, config=self._config, supervisor=supervisor)

    def client_connected(self, user_id: int, connection_id: str) -> None:
        self.supervisor.tell(ClientConnected(user_id=user_id, connection_id=connection_id))

    def client_disconnected(self, user_id: int, connection_id: str) -> None:
        self.supervisor.tell(ClientDisconnected(user_id=user_id, connection_id=connection_id))

    def run_cycle_now(self, user_id: int, trigger: CycleTrigger = "manual") -> None:
        """Tick the user's monitor now (it skips the tick if a cycle is running); `trigger` says why (a client's
        `run_cycle` or a pause: manual).

        Goes through the Supervisor, so a request right after a client connects finds the monitor started."""
        self.supervisor.tell(RunCycleNow(user_id=user_id, trigger=trigger))

    def send(self, command: c.WorkerCommand, reply_to: ReplyTo, deadline_s: float | None) -> bool:
        """Tell `command` to the room that answers it, its answer to go to `reply_to` (see `Request` for the
        deadline); False when that room has stopped (the service is stopping) and the command was not delivered."""
        try:
            self._routes[type(command)].tell(Request(command, reply_to, deadline_s))
        except pykka.ActorDeadError:
            return False
        return True

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        self.supervisor.stop(block=True, timeout=30)
        for actor in (*self._hosts, *self._workers):
            actor.stop(block=True, timeout=10)
