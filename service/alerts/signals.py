"""Reads alerts, and the end of their conditions, off the service's events and its two hooks (the kill switch, a
monitor's start and stop). Pure: what it returns depends only on what it is given.

Each signal and what ends it: session needed (a fetch succeeds); a trade without stop-loss (the protect step
reports its account without it; a failed protect step changes nothing); the kill switch (the opposite turn); a
monitor crashed or stopped (a cycle of the user finishes, or a monitor of the user starts).
"""

from __future__ import annotations

from datetime import datetime

from domain.errors import ErrorKind
from messages.events import (
    CycleContextLoaded,
    CycleFinished,
    Event,
    FetchFailed,
    MonitorRestarted,
    ProtectiveOrdersFailed,
    ProtectiveOrdersPlaced,
    SnapshotFetched,
)
from service.alerts.alert import Alert, AlertKind, Cleared, Signal


def signals_of_event(event: Event) -> tuple[Signal, ...]:
    user_id, at = event.user_id, event.at
    match event:
        case FetchFailed(kind=ErrorKind.SESSION_EXPIRED, message=message):
            return tuple(Alert(kind=AlertKind.SESSION_NEEDED, user_id=user_id, account_id=account_id, at=at,
                               message=f"the broker session expired ({message}); cycles skip the account "
                                       "until it logs in again")
                         for account_id in event.account_ids)
        case SnapshotFetched():
            return tuple(Cleared(kind=AlertKind.SESSION_NEEDED, user_id=user_id, account_id=account_id)
                         for account_id in event.account_ids)
        case CycleContextLoaded():
            return _context_signals(event)
        case ProtectiveOrdersPlaced():
            return _unprotected_signals(event)
        case ProtectiveOrdersFailed(unprotected=unprotected) if unprotected:
            return _unprotected_signals(event)
        case MonitorRestarted(stopped=stopped, reason=reason):
            return (Alert(kind=AlertKind.MONITOR_STOPPED if stopped else AlertKind.MONITOR_RESTARTED,
                          user_id=user_id, at=at, message=f"the user's monitor crashed: {reason}"),)
        case CycleFinished():
            return (Cleared(kind=AlertKind.MONITOR_RESTARTED, user_id=user_id),)
    return ()


def signals_of_kill_switch(user_id: int, paused: bool, reason: str, at: datetime) -> tuple[Signal, ...]:
    """The user turned the kill switch: paused (with `reason`, as stored) or resumed."""
    if paused:
        said = f": {reason}" if reason else ""
        return (Cleared(kind=AlertKind.RESUMED, user_id=user_id),
                Alert(kind=AlertKind.PAUSED, user_id=user_id, at=at,
                      message=f"the user paused automation{said}"))
    return (Cleared(kind=AlertKind.PAUSED, user_id=user_id), Cleared(kind=AlertKind.DAILY_LOSS_LIMIT, user_id=user_id),
            Alert(kind=AlertKind.RESUMED, user_id=user_id, at=at, message="the user resumed automation"))


def monitor_stopped_alert(user_id: int, at: datetime) -> Alert:
    """The user's monitor stopped because no client is left (and none started again since)."""
    return Alert(kind=AlertKind.MONITOR_STOPPED, user_id=user_id, at=at,
                 message="the user's monitor in this service stopped: no client left, so it runs no cycle of the "
                         "user until one connects")


def monitor_started_signals(user_id: int) -> tuple[Signal, ...]:
    return (Cleared(kind=AlertKind.MONITOR_STOPPED, user_id=user_id),)


def _context_signals(event: CycleContextLoaded) -> tuple[Signal, ...]:
    signals: list[Signal] = [
        Alert(kind=AlertKind.SESSION_NEEDED, user_id=event.user_id, account_id=account_id, at=event.at,
              message="the account waits for a new broker session; cycles skip it until it logs in again")
        for account_id in event.awaiting_session
    ]
    if event.paused_by_loss_limit:
        signals += [Cleared(kind=AlertKind.RESUMED, user_id=event.user_id),
                    Alert(kind=AlertKind.DAILY_LOSS_LIMIT, user_id=event.user_id, at=event.at,
                          message=f"automation paused: {event.pause_reason}")]
    return tuple(signals)


def _unprotected_signals(event: ProtectiveOrdersPlaced | ProtectiveOrdersFailed) -> tuple[Signal, ...]:
    signals: list[Signal] = [
        Cleared(kind=AlertKind.STOP_LOSS_MISSING, user_id=event.user_id, account_id=account_id,
                keep_orders=frozenset(trade.order_id for trade in event.unprotected
                                      if trade.account_id == account_id))
        for account_id in event.account_ids
    ]
    signals += [Alert(kind=AlertKind.STOP_LOSS_MISSING, user_id=event.user_id, account_id=trade.account_id,
                      order_id=trade.order_id, at=event.at,
                      message=f"order {trade.order_id} {trade.symbol} runs without a stop-loss: {trade.reason}")
                for trade in event.unprotected]
    return tuple(signals)
