"""The user's recent cycles and errors, read back from the event log: the `recent` frame a page gets on
connect and on `subscribe`, and the intraday PnL history behind `GET /api/pnl/history`.

Both come from what the cycles logged (the summary and the errors each cycle sent, each account's PnL
step), so a page opened at any time shows what a page open all along was sent.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import msgspec

from adapters.store.port import EventLog
from domain.time import UtcDateTime
from messages.commands import ReportErrors, SendSummary
from messages.common import CycleSummary
from messages.events import CommandIssued, PnlComputed
from messages.frames import RecentError, RecentFrame

RECENT_CYCLES = 20
RECENT_ERRORS = 50
LOOKBACK = timedelta(days=1)
"""How far back a recent cycle may have started."""
MARKET_ZONE = ZoneInfo("Asia/Kolkata")
_LATE = timedelta(minutes=1)
"""Events are read up to now plus this, for an event stamped by a clock slightly ahead."""


async def recent_frame(event_log: EventLog, user_id: int, now: datetime) -> RecentFrame:
    records = await event_log.cycles(user_id, limit=RECENT_CYCLES, since=now - LOOKBACK)
    if not records:
        return RecentFrame(cycles=(), errors=())
    wanted = {record.cycle_id for record in records}
    since = min(record.started_at for record in records)
    summaries: list[CycleSummary] = []
    errors: list[RecentError] = []
    for logged in await event_log.read_events_of_type(user_id, "command_issued", since, now + _LATE):
        event = logged.event
        if not isinstance(event, CommandIssued) or event.cycle_id not in wanted:
            continue
        match event.command:
            case SendSummary(summary=summary):
                summaries.append(summary)
            case ReportErrors(cycle_id=cycle_id, errors=cycle_errors):
                errors.extend(RecentError(cycle_id=cycle_id, **msgspec.structs.asdict(error))
                              for error in cycle_errors)
    return RecentFrame(cycles=tuple(summaries), errors=tuple(errors[-RECENT_ERRORS:]))


class PnlPoint(msgspec.Struct, frozen=True, kw_only=True):
    """One account's PnL as one cycle computed it; `unrealized` is over its marked lots only."""

    at: UtcDateTime
    account_id: int
    realized: Decimal
    unrealized: Decimal
    unmarked_lots: int | None


class PnlHistory(msgspec.Struct, frozen=True, kw_only=True):
    day: str
    """The Asia/Kolkata trading day, YYYY-MM-DD."""
    points: tuple[PnlPoint, ...]


async def pnl_history(event_log: EventLog, user_id: int, now: datetime) -> PnlHistory:
    """Every PnL the user's cycles computed since midnight in Asia/Kolkata, oldest first."""
    day = now.astimezone(MARKET_ZONE).date()
    since = datetime.combine(day, time(0), MARKET_ZONE)
    points = [
        PnlPoint(at=event.at, account_id=account_id, realized=event.realized_pnl,
                 unrealized=event.unrealized_pnl, unmarked_lots=event.unmarked_lots)
        for logged in await event_log.read_events_of_type(user_id, "pnl_computed", since, now + _LATE)
        if isinstance(event := logged.event, PnlComputed)
        for account_id in event.account_ids
    ]
    return PnlHistory(day=day.isoformat(), points=tuple(points))
