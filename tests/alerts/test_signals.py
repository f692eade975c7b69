"""What the alerts read off events and hooks: given an event (or a kill switch, a monitor's stop), then the
alerts it raises and the conditions it ends, exactly."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.errors import ErrorKind
from messages.events import (
    CycleContextLoaded,
    CycleFinished,
    CycleStarted,
    FetchFailed,
    MonitorRestarted,
    OrderAttention,
    PnlFailed,
    ProtectiveOrdersFailed,
    ProtectiveOrdersPlaced,
    SnapshotFetched,
)
from service.alerts.alert import Alert, AlertKind, Cleared
from service.alerts.signals import (
    monitor_started_signals,
    monitor_stopped_alert,
    signals_of_event,
    signals_of_kill_switch,
)

AT = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
ON = {"user_id": 7, "cycle_id": "c1", "at": AT}
SL_REASON = "SL rejected 3 times, placed 3 times today (last: RMS: margin exceeds); the position is unprotected"


def test_a_fetch_failing_with_an_expired_session_says_the_account_needs_one():
    event = FetchFailed(**ON, account_ids=(12,), kind=ErrorKind.SESSION_EXPIRED,
                        message="order book for P1: session expired (Invalid Token)")
    assert signals_of_event(event) == (Alert(
        kind=AlertKind.SESSION_NEEDED, user_id=7, account_id=12, at=AT,
        message="the broker session expired (order book for P1: session expired (Invalid Token)); cycles skip "
                "the account until it logs in again"),)


def test_a_fetch_failing_otherwise_raises_nothing():
    assert signals_of_event(FetchFailed(**ON, account_ids=(12,), kind=ErrorKind.TIMEOUT, message="slow")) == ()
    assert signals_of_event(PnlFailed(**ON, account_ids=(12,), kind=ErrorKind.SESSION_EXPIRED, message="x")) == ()


def test_accounts_a_cycle_skips_for_want_of_a_session_still_need_one():
    event = CycleContextLoaded(**ON, account_ids=(11,), awaiting_session=(12, 13))
    assert [(s.kind, s.account_id) for s in signals_of_event(event)] == [
        (AlertKind.SESSION_NEEDED, 12), (AlertKind.SESSION_NEEDED, 13)]


def test_a_successful_fetch_ends_the_accounts_session_condition():
    assert signals_of_event(SnapshotFetched(**ON, account_ids=(12,))) == (
        Cleared(kind=AlertKind.SESSION_NEEDED, user_id=7, account_id=12),)


def test_a_trade_left_without_a_stop_loss_is_alerted_and_ends_the_accounts_others():
    event = ProtectiveOrdersFailed(**ON, account_ids=(12,), kind=ErrorKind.REJECTED, message=f"order 5: {SL_REASON}",
                                   unprotected=(OrderAttention(order_id=5, account_id=12, symbol="SBIN",
                                                               reason=SL_REASON),))
    assert signals_of_event(event) == (
        Cleared(kind=AlertKind.STOP_LOSS_MISSING, user_id=7, account_id=12, keep_orders=frozenset({5})),
        Alert(kind=AlertKind.STOP_LOSS_MISSING, user_id=7, account_id=12, order_id=5, at=AT,
              message=f"order 5 SBIN runs without a stop-loss: {SL_REASON}"),
    )


def test_a_protect_step_that_succeeded_still_alerts_a_trade_it_leaves_without_a_stop_loss():
    event = ProtectiveOrdersPlaced(**ON, account_ids=(12,), unprotected=(
        OrderAttention(order_id=9, account_id=12, symbol="INFY", reason="it was sent without a stop-loss price"),))
    assert signals_of_event(event) == (
        Cleared(kind=AlertKind.STOP_LOSS_MISSING, user_id=7, account_id=12, keep_orders=frozenset({9})),
        Alert(kind=AlertKind.STOP_LOSS_MISSING, user_id=7, account_id=12, order_id=9, at=AT,
              message="order 9 INFY runs without a stop-loss: it was sent without a stop-loss price"),
    )


def test_a_protect_step_failing_before_it_judged_the_legs_ends_nothing():
    event = ProtectiveOrdersFailed(**ON, account_ids=(12,), kind=ErrorKind.DB, message="database unavailable")
    assert signals_of_event(event) == ()


def test_a_protect_step_that_succeeded_ends_the_accounts_stop_loss_conditions():
    assert signals_of_event(ProtectiveOrdersPlaced(**ON, account_ids=(12,))) == (
        Cleared(kind=AlertKind.STOP_LOSS_MISSING, user_id=7, account_id=12),)


def test_the_daily_loss_limit_pausing_is_alerted_with_its_reason():
    reason = "daily loss limit 50.00 reached (day PnL -89.80)"
    event = CycleContextLoaded(**ON, account_ids=(12,), paused=True, pause_reason=reason, paused_by_loss_limit=True)
    assert signals_of_event(event) == (
        Cleared(kind=AlertKind.RESUMED, user_id=7),
        Alert(kind=AlertKind.DAILY_LOSS_LIMIT, user_id=7, at=AT, message=f"automation paused: {reason}"))


def test_a_cycle_of_a_user_already_paused_raises_nothing():
    event = CycleContextLoaded(**ON, account_ids=(12,), paused=True, pause_reason="daily loss limit 50.00 reached")
    assert signals_of_event(event) == ()


def test_a_pause_ends_the_resumed_condition_and_a_resume_ends_both_pauses():
    assert signals_of_kill_switch(7, True, "lunch", AT) == (
        Cleared(kind=AlertKind.RESUMED, user_id=7),
        Alert(kind=AlertKind.PAUSED, user_id=7, at=AT, message="the user paused automation: lunch"))
    assert signals_of_kill_switch(7, True, "", AT)[1].message == "the user paused automation"
    assert signals_of_kill_switch(7, False, "", AT) == (
        Cleared(kind=AlertKind.PAUSED, user_id=7), Cleared(kind=AlertKind.DAILY_LOSS_LIMIT, user_id=7),
        Alert(kind=AlertKind.RESUMED, user_id=7, at=AT, message="the user resumed automation"))


def test_a_crashed_monitor_is_alerted_as_restarted_or_as_stopped():
    restarted = MonitorRestarted(**ON, reason="RuntimeError: bug; restarted")
    stopped = MonitorRestarted(**ON, reason="RuntimeError: bug; restart budget spent, monitoring stopped", stopped=True)
    assert signals_of_event(restarted) == (Alert(kind=AlertKind.MONITOR_RESTARTED, user_id=7, at=AT,
                                                 message="the user's monitor crashed: RuntimeError: bug; restarted"),)
    assert [s.kind for s in signals_of_event(stopped)] == [AlertKind.MONITOR_STOPPED]


def test_a_finished_cycle_ends_the_crash_condition_and_a_started_monitor_the_stop():
    assert signals_of_event(CycleFinished(**ON)) == (Cleared(kind=AlertKind.MONITOR_RESTARTED, user_id=7),)
    assert monitor_started_signals(7) == (Cleared(kind=AlertKind.MONITOR_STOPPED, user_id=7),)


def test_a_monitor_stopped_for_want_of_a_client_says_so():
    assert monitor_stopped_alert(7, AT) == Alert(
        kind=AlertKind.MONITOR_STOPPED, user_id=7, at=AT,
        message="the user's monitor in this service stopped: no client left, so it runs no cycle of the user "
                "until one connects")


def test_other_events_raise_nothing():
    assert signals_of_event(CycleStarted(**ON)) == ()


def test_an_alert_reads_title_user_account_and_message():
    told = Alert(kind=AlertKind.SESSION_NEEDED, user_id=7, account_id=12, at=AT, message="log in again")
    assert told.text() == "Session needed (user 7, account 12): log in again"
    assert Alert(kind=AlertKind.PAUSED, user_id=7, at=AT, message="m").text() == "Automation paused (user 7): m"
