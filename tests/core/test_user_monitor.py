"""The UserMonitor shell: tick pre-conditions, deadlines, late replies, draining — scripted, no threads."""

from datetime import UTC, date, datetime

from actors.user_monitor.config import CycleConfig
from actors.user_monitor.window import TradingWindow
from domain.errors import ErrorKind
from messages.commands import FetchSnapshots
from messages.common import Step
from messages.control import Drain, Resume, TickHeldBack
from messages.events import CommandIssued, SnapshotFetched, StepTimedOut, TickSkipped, TradingWindowChanged
from tests.harness import ScriptedMonitor

SATURDAY_NOON_IST = datetime(2026, 11, 28, 6, 30, tzinfo=UTC)
MONDAY_0925_IST = datetime(2026, 11, 30, 3, 55, tzinfo=UTC)


def windowed(**window) -> CycleConfig:
    return CycleConfig(window=TradingWindow(**window))


def start_cycle(monitor: ScriptedMonitor, accounts=(1, 2)) -> None:
    monitor.tick()
    monitor.ok(accounts=accounts)


def test_a_tick_during_a_running_cycle_is_recorded_as_skipped_and_changes_nothing():
    monitor = ScriptedMonitor()
    start_cycle(monitor)
    before = monitor.issued()
    monitor.tick()
    assert monitor.issued() == before
    skipped = [e for e in monitor.events if isinstance(e, TickSkipped)]
    assert [(e.reason, e.cycle_id) for e in skipped] == [("cycle_running", "cycle-1")]
    assert sum(type(e).__name__ == "CycleStarted" for e in monitor.events) == 1


def test_a_missing_reply_times_out_only_the_silent_account():
    monitor = ScriptedMonitor()
    start_cycle(monitor)
    monitor.ok(accounts=(1,))
    monitor.advance(monitor.config.timeout_for(Step.FETCH))
    timed_out = [e for e in monitor.events if isinstance(e, StepTimedOut)]
    assert [(e.step, e.account_ids) for e in timed_out] == [(Step.FETCH, (2,))]
    assert (monitor.pending.step, monitor.pending.account_ids) == (Step.PNL, (1,))
    assert [(e.account_id, e.kind) for e in monitor.state.errors] == [(2, ErrorKind.TIMEOUT)]


def test_a_reply_after_its_deadline_is_logged_and_ignored():
    monitor = ScriptedMonitor()
    start_cycle(monitor)
    fetch = monitor.pending
    monitor.ok(accounts=(1,))
    monitor.advance(monitor.config.timeout_for(Step.FETCH))
    pnl = monitor.pending
    monitor.ok(accounts=(2,), command=fetch)
    assert isinstance(monitor.events[-1], SnapshotFetched) and monitor.events[-1].account_ids == (2,)
    assert monitor.pending == pnl and pnl.account_ids == (1,)
    assert all(2 not in c.account_ids for c in monitor.issued() if c.step is Step.PNL)


def test_answered_commands_leave_no_deadline_behind():
    monitor = ScriptedMonitor()
    start_cycle(monitor)
    monitor.ok()
    assert monitor.clock.pending_timers() == 1  # only the deadline of the command now in flight
    while monitor.state.running:
        monitor.ok()
    assert monitor.clock.pending_timers() == 0
    monitor.advance(3600)
    assert not any(isinstance(e, StepTimedOut) for e in monitor.events)


def test_a_reply_of_an_older_cycle_is_ignored():
    monitor = ScriptedMonitor()
    monitor.run_cycle(accounts=(1,))
    old_fetch = next(c for c in monitor.issued() if isinstance(c, FetchSnapshots))
    start_cycle(monitor, accounts=(1,))
    current = monitor.pending
    monitor.ok(command=old_fetch)
    assert monitor.pending == current
    assert monitor.state.run_of(Step.FETCH).results == ()


def test_every_command_is_logged_right_after_the_event_that_caused_it():
    monitor = ScriptedMonitor()
    monitor.run_cycle(accounts=(1,))
    events = monitor.events
    for index, event in enumerate(events):
        if isinstance(event, CommandIssued) and index > 0:
            cause = events[index - 1]
            assert not isinstance(cause, CommandIssued), f"two commands in a row at {index}"


def test_ticks_outside_the_window_log_one_transition_and_nothing_else():
    monitor = ScriptedMonitor(config=windowed(), start=SATURDAY_NOON_IST)
    for _ in range(5):
        monitor.tick()
        monitor.advance(60)
    assert [type(e).__name__ for e in monitor.events] == ["TradingWindowChanged"]
    assert monitor.events[0].open is False
    monitor.clock.set(MONDAY_0925_IST)
    monitor.tick()
    assert len(monitor.events) == 1
    monitor.advance(60)
    monitor.tick()
    assert [type(e).__name__ for e in monitor.events[1:3]] == ["TradingWindowChanged", "CycleStarted"]
    assert monitor.events[1].open is True


def test_a_configured_holiday_keeps_the_window_closed_on_a_weekday():
    wednesday = date(2026, 11, 25)
    monitor = ScriptedMonitor(config=windowed(holidays=(wednesday,)))
    monitor.tick()
    assert [type(e) for e in monitor.events] == [TradingWindowChanged]
    assert monitor.workers.requests == []


def test_a_manual_run_is_recorded_as_such():
    monitor = ScriptedMonitor()
    monitor.tick(trigger="manual")
    assert monitor.events[0].trigger == "manual"


def test_draining_while_idle_reports_idle_at_once():
    monitor = ScriptedMonitor()
    monitor.send(Drain())
    assert [type(m).__name__ for m in monitor.supervisor.told] == ["MonitorIdle"]


def test_draining_mid_cycle_lets_the_cycle_finish_then_reports_idle_and_skips_ticks():
    monitor = ScriptedMonitor()
    start_cycle(monitor, accounts=(1,))
    monitor.send(Drain())
    assert monitor.supervisor.told == []
    while monitor.state.running:
        monitor.ok()
    assert [type(m).__name__ for m in monitor.supervisor.told] == ["MonitorIdle"]
    monitor.tick()
    assert isinstance(monitor.events[-1], TickSkipped) and monitor.events[-1].reason == "no_connection"
    monitor.send(Resume())
    monitor.tick()
    assert monitor.events[-2].__class__.__name__ == "CycleStarted"


def test_a_second_cycle_starts_fresh_after_the_first_finished():
    monitor = ScriptedMonitor()
    monitor.run_cycle(accounts=(1,), failures={Step.FETCH: {1: ErrorKind.UNAVAILABLE}})
    monitor.run_cycle(accounts=(1,))
    assert monitor.state.cycle_id == "cycle-2" and monitor.state.errors == ()
    assert not monitor.state.running


def test_a_tick_its_host_held_back_is_recorded_as_skipped_and_starts_nothing():
    monitor = ScriptedMonitor()
    monitor.monitor.on_receive(TickHeldBack())
    assert not monitor.monitor.cycle_running
    [skipped] = monitor.events
    assert isinstance(skipped, TickSkipped) and (skipped.reason, skipped.cycle_id) == ("waiting_for_capacity", "")
    start_cycle(monitor)
    assert monitor.monitor.cycle_running
