"""What the Supervisor tells the alerts, on the real actor system (scripted step handlers): each monitor
start and each stop for want of a client (not the shutdown's), and whether a crashed monitor was replaced or
monitoring of the user stopped, with a reason that says which."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from actors.io_loop import IoLoop
from actors.user_monitor.actor import UserMonitor
from actors.user_monitor.config import CycleConfig
from actors.user_monitor.window import TradingWindow
from messages.control import Drain, Tick
from messages.events import MonitorRestarted
from service.actor_system import MonitoringSystem
from service.clock import SystemClock
from tests.core.test_actor_system import scripted_handlers
from tests.cycle.conftest import wait_for
from tests.doubles import InMemoryEventLog, RecordingNotifier


class CrashOnDrain(UserMonitor):
    def on_receive(self, message):
        if isinstance(message, Drain):
            raise RuntimeError("bug while draining")
        return super().on_receive(message)


class CrashOnEveryTick(UserMonitor):
    def on_receive(self, message):
        if isinstance(message, Tick):
            raise RuntimeError("bug on every tick")
        return super().on_receive(message)


class Told:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: list[tuple[int, bool]] = []

    def __call__(self, user_id: int, running: bool) -> None:
        with self._lock:
            self.calls.append((user_id, running))


@pytest.fixture
def system() -> Iterator:
    built: list[tuple[MonitoringSystem, IoLoop]] = []

    def build(monitor_type: type[UserMonitor] = UserMonitor, told: Told | None = None):
        io = IoLoop()
        clock = SystemClock(io.loop)
        log = InMemoryEventLog()
        running = MonitoringSystem(
            io=io, clock=clock, config=CycleConfig(interval_s=0.2, window=TradingWindow(enabled=False)),
            event_log=log, notifier=RecordingNotifier(), handlers=scripted_handlers(clock),
            scheduler=BackgroundScheduler(timezone="UTC"), monitor_type=monitor_type,
            monitor_observers=(told,) if told else ())
        built.append((running, io))
        return running, log

    yield build
    for running, io in built:
        running.stop()
        io.stop()


def restarts(log: InMemoryEventLog) -> list[MonitorRestarted]:
    return [e for e in log.events if isinstance(e, MonitorRestarted)]


def test_observers_are_told_each_start_and_each_stop_for_want_of_a_client_and_not_the_shutdowns(system):
    told = Told()
    running, _ = system(told=told)

    running.client_connected(1, "a")
    wait_for(lambda: told.calls == [(1, True)])
    running.client_disconnected(1, "a")
    wait_for(lambda: told.calls == [(1, True), (1, False)])
    running.client_connected(1, "b")
    wait_for(lambda: told.calls == [(1, True), (1, False), (1, True)])
    running.stop()

    assert told.calls == [(1, True), (1, False), (1, True)]


def test_a_monitor_crashing_as_its_last_client_leaves_is_logged_as_stopped_not_restarted(system):
    running, log = system(monitor_type=CrashOnDrain)
    running.client_connected(1, "a")
    wait_for(lambda: running.registry.user_ids() == [1])

    running.client_disconnected(1, "a")

    wait_for(lambda: restarts(log))
    [crash] = restarts(log)
    assert (crash.stopped, crash.reason) == (True, "RuntimeError; not restarted: no client left")
    assert running.registry.user_ids() == []


def test_a_monitor_crashing_past_its_restart_budget_is_logged_as_stopped_and_the_ones_before_as_restarted(system):
    running, log = system(monitor_type=CrashOnEveryTick)

    running.client_connected(1, "a")

    wait_for(lambda: any(e.stopped for e in restarts(log)), timeout=30)
    crashes = restarts(log)
    assert [(e.stopped, e.reason) for e in crashes] == [(False, "RuntimeError; restarted")] * 5 + [
        (True, "RuntimeError; restart budget spent, monitoring stopped")]
    wait_for(lambda: running.registry.user_ids() == [])
