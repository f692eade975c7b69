"""The whole actor system on real threads: scheduler ticks, pykka actors, the asyncio loop, supervision.

Step handlers here are small scripted coroutines (the real ones are tested with MariaDB and the paper
broker); everything else is the production wiring.
"""

import threading
import time
from typing import get_args

import msgspec
import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from actors.error_reporter.actor import ErrorReporter
from actors.io_loop import IoLoop
from actors.user_monitor.actor import UserMonitor
from actors.user_monitor.config import CycleConfig
from actors.user_monitor.window import TradingWindow
from actors.worker import failure_event
from domain.entries import EntryResult
from domain.errors import AdapterError, ErrorKind
from messages.commands import PlaceEntries
from messages.common import Step
from messages.control import Tick
from messages.events import CycleFinished, CycleStarted, EntriesPlaced, MonitorRestarted, StepSucceeded
from messages.frames import CycleSummaryFrame, MonitoringErrors, SessionNeeded
from service.actor_system import ROOMS, MonitoringSystem
from service.clock import SystemClock
from tests.doubles import InMemoryEventLog, RecordingNotifier

SUCCESS = {cls.step: cls for cls in get_args(StepSucceeded)}


class SessionExpired(AdapterError):
    kind = ErrorKind.SESSION_EXPIRED


def scripted_handlers(clock, accounts=(1, 2), expired=(2,)):
    """A handler for every command of the rooms but the ErrorReporter's (the system's own): the context gives
    `accounts`, the fetch fails with an expired session for `expired`, every other step succeeds."""
    def answer(step):
        async def handler(command):
            if step is Step.FETCH and set(expired) & set(command.account_ids):
                ok = tuple(a for a in command.account_ids if a not in expired)
                events = [SUCCESS[step](user_id=command.user_id, cycle_id=command.cycle_id, at=clock.now(),
                                        account_ids=ok)] if ok else []
                failed = tuple(a for a in command.account_ids if a in expired)
                events.append(failure_event(msgspec.structs.replace(command, account_ids=failed),
                                            SessionExpired("log in again"), clock))
                return events
            extra = {"account_ids": accounts} if step is Step.CONTEXT else {"account_ids": command.account_ids}
            return (SUCCESS[step](user_id=command.user_id, cycle_id=command.cycle_id, at=clock.now(), **extra),)
        return handler

    async def place_entries(command):
        results = tuple(EntryResult(order_id=None, tag="", outcome="not_placed", reason="scripted")
                        for _ in command.entries)
        return (EntriesPlaced(user_id=command.user_id, account_id=command.account_id, results=results),)

    return {PlaceEntries: place_entries, **{command: answer(command.step) for room in ROOMS if room is not ErrorReporter
                                            for command in room.ANSWERS if command is not PlaceEntries}}


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@pytest.fixture
def system_factory():
    started = []

    def build(monitor_type=UserMonitor, interval_s=0.3, **config):
        io = IoLoop()
        clock = SystemClock(io.loop)
        log, notifier = InMemoryEventLog(), RecordingNotifier()
        system = MonitoringSystem(
            io=io, clock=clock,
            config=CycleConfig(interval_s=interval_s, window=TradingWindow(enabled=False), **config),
            event_log=log, notifier=notifier, handlers=scripted_handlers(clock),
            scheduler=BackgroundScheduler(timezone="UTC"), monitor_type=monitor_type)
        started.append((system, io))
        return system, log, notifier

    yield build
    for system, io in started:
        system.stop()
        io.stop()


def summaries(notifier, user_id):
    return [f for u, f in notifier.sent if u == user_id and isinstance(f, CycleSummaryFrame)]


def test_a_connected_user_gets_a_cycle_every_interval_with_errors_and_summaries(system_factory):
    system, log, notifier = system_factory()
    system.client_connected(1, "ws-a")
    wait_for(lambda: len(summaries(notifier, 1)) >= 2)
    frames = [f for u, f in notifier.sent if u == 1]
    assert any(isinstance(f, MonitoringErrors) and f.errors[0].kind is ErrorKind.SESSION_EXPIRED for f in frames)
    assert any(isinstance(f, SessionNeeded) and f.account_id == 2 for f in frames)
    summary = summaries(notifier, 1)[0].summary
    assert summary.account_ids == (1, 2) and summary.error_count == 1
    started = [e for e in log.events if isinstance(e, CycleStarted)]
    finished = [e for e in log.events if isinstance(e, CycleFinished)]
    assert len(started) >= 2 and len(finished) >= 2
    assert len({e.cycle_id for e in started}) == len(started)


def test_two_users_are_monitored_independently_and_a_manual_run_works(system_factory):
    system, log, notifier = system_factory(interval_s=30)
    system.client_connected(1, "a")
    system.client_connected(2, "b")
    system.run_cycle_now(2)
    wait_for(lambda: summaries(notifier, 2))
    assert all(u == 2 for u, f in notifier.sent if isinstance(f, CycleSummaryFrame))
    assert [e.trigger for e in log.events if isinstance(e, CycleStarted)] == ["manual"]


def test_the_last_disconnect_stops_the_monitor_and_its_ticks(system_factory):
    system, log, notifier = system_factory()
    system.client_connected(1, "a")
    system.client_connected(1, "b")
    wait_for(lambda: summaries(notifier, 1))
    system.client_disconnected(1, "a")
    time.sleep(0.5)
    assert system.registry.user_ids() == [1], "one client is still connected"
    system.client_disconnected(1, "b")
    wait_for(lambda: system.registry.user_ids() == [])
    count = len(log.events)
    time.sleep(0.8)
    system.run_cycle_now(1)
    time.sleep(0.3)
    last = log.events[count - 1:]
    assert not any(isinstance(e, CycleStarted) for e in last[1:]), "no cycle without a client, even on request"


class CrashOnFirstTick(UserMonitor):
    crashed = False

    def on_receive(self, message):
        if isinstance(message, Tick) and not CrashOnFirstTick.crashed:
            CrashOnFirstTick.crashed = True
            raise RuntimeError("bug in the shell")
        return super().on_receive(message)


def test_a_crashed_monitor_is_replaced_and_the_crash_is_logged(system_factory):
    system, log, notifier = system_factory(monitor_type=CrashOnFirstTick)
    system.client_connected(1, "a")
    wait_for(lambda: any(isinstance(e, MonitorRestarted) for e in log.events))
    wait_for(lambda: summaries(notifier, 1))
    restart = next(e for e in log.events if isinstance(e, MonitorRestarted))
    assert restart.user_id == 1 and "RuntimeError" in restart.reason and "restarted" in restart.reason
    assert system.registry.user_ids() == [1]


def test_hundreds_of_users_run_their_cycles_on_a_few_threads(system_factory):
    system, _, notifier = system_factory(interval_s=30)
    before = threading.active_count()
    for user_id in range(1, 301):
        system.client_connected(user_id, f"ws-{user_id}")
        system.run_cycle_now(user_id)
    wait_for(lambda: all(summaries(notifier, u) for u in range(1, 301)), timeout=30)
    assert threading.active_count() - before < 10, "monitors share their hosts' threads, none has its own"


def test_past_max_cycles_in_flight_ticks_wait_and_every_cycle_still_runs(system_factory):
    system, log, notifier = system_factory(interval_s=30, monitor_threads=2, max_cycles_in_flight=2)
    for user_id in range(1, 41):
        system.client_connected(user_id, f"ws-{user_id}")
        system.run_cycle_now(user_id)
    wait_for(lambda: all(summaries(notifier, u) for u in range(1, 41)), timeout=30)

    running = most = 0
    for event in log.events:
        running += isinstance(event, CycleStarted) - isinstance(event, CycleFinished)
        most = max(most, running)
    assert most == 2, "one cycle at a time on each of the two hosts"
