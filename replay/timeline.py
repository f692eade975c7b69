"""A cycle as a person reads it: one entry per logged event, with the replay's verdict attached.

Owns what a timeline says about each event: its time, step, accounts, the command issued, the outcome
(ok, failed, timed out, or ignored: a late reply the decider did not fold), how long the step took (from
its `CommandIssued` to this outcome), the error, and what changed — order fields before and after,
requests made at the broker, orders archived. Building it is pure; `cycle_timeline` only reads the log
through its port, for the API route and the CLI. Times stay aware UTC here; renderers convert for people.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Literal

import msgspec

from adapters.store.port import EventLog, LoggedEvent
from domain.errors import ErrorKind
from domain.time import UtcDateTime
from messages.commands import (
    Command,
    PlaceProtectiveOrders,
    RegenerateEntries,
    ReportErrors,
    SendSummary,
)
from messages.common import Step
from messages.events import (
    ArchivedOrder,
    CommandIssued,
    CycleContextLoaded,
    CycleFinished,
    CycleStarted,
    EntriesModified,
    EntriesRegenerated,
    ErrorsReported,
    Event,
    MonitorRestarted,
    OrderAction,
    OrderChange,
    OrdersSynced,
    PnlComputed,
    RejectedArchived,
    SnapshotFetched,
    StepTimedOut,
    StopLossesModified,
    SummarySent,
    TickSkipped,
)
from replay.fold import CycleCheck, check_cycle, is_step_outcome

Outcome = Literal["ok", "failed", "timed_out", "ignored"]


class StepError(msgspec.Struct, frozen=True, kw_only=True):
    kind: ErrorKind
    message: str


class Entry(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One logged event of the cycle; `index` is its position in the cycle (divergences refer to it)."""

    index: int
    seq: int
    at: UtcDateTime
    event: str
    step: Step | None = None
    account_ids: tuple[int, ...] = ()
    command: Command | None = None
    outcome: Outcome | None = None
    duration_ms: int | None = None
    error: StepError | None = None
    detail: str = ""
    changes: tuple[OrderChange, ...] = ()
    actions: tuple[OrderAction, ...] = ()
    archived: tuple[ArchivedOrder, ...] = ()


class Timeline(msgspec.Struct, frozen=True, kw_only=True):
    """One cycle, ready to show (`msgspec.json.encode` gives the API's JSON)."""

    user_id: int
    cycle_id: str
    started_at: UtcDateTime | None
    finished_at: UtcDateTime | None
    duration_ms: int | None
    account_ids: tuple[int, ...]
    entries: tuple[Entry, ...]
    check: CycleCheck


def build_timeline(events: Sequence[LoggedEvent], check: CycleCheck) -> Timeline:
    """The timeline of one cycle's decodable events (in sequence order) and its replay verdict."""
    issued_at: dict[Step, datetime] = {}
    ignored = set(check.ignored)
    entries: list[Entry] = []
    for index, logged in enumerate(events):
        event = logged.event
        if isinstance(event, CommandIssued) and event.command.step not in issued_at:
            issued_at[event.command.step] = event.at
        entries.append(_entry(index, logged, issued_at, index in ignored))
    started = next((e.event.at for e in events if isinstance(e.event, CycleStarted)), None)
    finished = next((e.event.at for e in events if isinstance(e.event, CycleFinished)), None)
    context = next((e.event for e in events if isinstance(e.event, CycleContextLoaded)), None)
    return Timeline(
        user_id=check.user_id,
        cycle_id=check.cycle_id,
        started_at=started,
        finished_at=finished,
        duration_ms=_ms(started, finished) if started and finished else None,
        account_ids=context.account_ids if context else (),
        entries=tuple(entries),
        check=check,
    )


async def cycle_timeline(event_log: EventLog, user_id: int, cycle_id: str, now: datetime) -> Timeline | None:
    """The user's cycle `cycle_id` as a checked timeline; None if the user has no such cycle.

    Only the user's own events are read, so another user's cycle id is simply not found. `now` (the
    service clock) tells a running cycle from an unfinished one.
    """
    events = await event_log.read_cycle(user_id, cycle_id)
    if not events:
        return None
    return build_timeline(events, check_cycle(user_id, cycle_id, events, now))


def _entry(index: int, logged: LoggedEvent, issued_at: dict[Step, datetime], ignored: bool) -> Entry:
    event = logged.event
    base = {"index": index, "seq": logged.seq, "at": event.at, "event": _tag(event),
            "account_ids": event.account_ids}
    match event:
        case CommandIssued(command=command):
            return Entry(**base, step=command.step, command=command, detail=_command_detail(command, event))
        case StepTimedOut(step=step):
            return Entry(**base, step=step, outcome="timed_out", duration_ms=_since(issued_at, step, event.at),
                         error=StepError(kind=ErrorKind.TIMEOUT, message=f"no reply within {event.deadline_s:g} s"))
        case _ if is_step_outcome(event):
            step: Step = event.step  # type: ignore[union-attr]
            outcome: Outcome = "ignored" if ignored else "ok" if event.succeeded else "failed"  # type: ignore[union-attr]
            error = None if event.succeeded else StepError(kind=event.kind, message=event.message)  # type: ignore[union-attr]
            return Entry(**base, step=step, outcome=outcome, duration_ms=_since(issued_at, step, event.at),
                         error=error, detail=_outcome_detail(event, ignored),
                         changes=getattr(event, "changes", ()), actions=getattr(event, "actions", ()),
                         archived=getattr(event, "archived", ()))
    return Entry(**base, detail=_lifecycle_detail(event))


def _tag(value: Event | Command) -> str:
    return str(type(value).__struct_config__.tag)


def _ms(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() * 1000)


def _since(issued_at: dict[Step, datetime], step: Step, at: datetime) -> int | None:
    start = issued_at.get(step)
    return _ms(start, at) if start is not None else None


def _command_detail(command: Command, issued: CommandIssued) -> str:
    parts: list[str] = []
    match command:
        case PlaceProtectiveOrders(oco_cancels_only=True):
            parts.append("OCO cancels only (paused)")
        case RegenerateEntries(strategies=strategies):
            parts.append(f"strategies {', '.join(strategies)}")
        case ReportErrors(errors=errors):
            parts.append(counted(len(errors), "error"))
        case SendSummary(summary=summary):
            parts.append(f"summary with {counted(summary.error_count, 'error')}")
    if issued.deadline_s is not None:
        parts.append(f"deadline {issued.deadline_s:g} s")
    return ", ".join(parts)


def _outcome_detail(event: Event, ignored: bool) -> str:
    prefix = "late reply, ignored; " if ignored else ""
    match event:
        case CycleContextLoaded():
            parts = [f"accounts {_ids(event.account_ids)}"]
            if event.awaiting_session:
                parts.append(f"awaiting a session {_ids(event.awaiting_session)}")
            parts.append(f"regeneration {', '.join(event.regeneration_strategies) or 'off'}")
            if event.paused:
                parts.append(f"paused{': ' + event.pause_reason if event.pause_reason else ''}")
            detail = "; ".join(parts)
        case SnapshotFetched():
            detail = f"{counted(event.order_rows, 'order')}, {counted(event.position_rows, 'position')}"
        case PnlComputed():
            detail = (f"realized {_money(event.realized_pnl)}, unrealized {_money(event.unrealized_pnl)}, "
                      f"{counted(event.matches, 'match')}, {counted(event.open_lots, 'open lot')}")
        case OrdersSynced():
            detail = counted(len(event.changes), "field change")
        case EntriesModified() | StopLossesModified():
            detail = counted(len(event.actions), "request") + (
                f", {counted(event.stale_fair_prices, 'stale fair price')}" if event.stale_fair_prices else "")
        case RejectedArchived():
            detail = f"{len(event.archived)} archived"
        case EntriesRegenerated():
            detail = f"regenerated orders {_ids(event.regenerated_order_ids)}"
        case ErrorsReported() | SummarySent():
            detail = counted(event.clients, "client")
        case _:
            detail = counted(len(event.actions), "request") if hasattr(event, "actions") else ""
    return prefix + detail


def _lifecycle_detail(event: Event) -> str:
    match event:
        case CycleStarted(trigger=trigger, policy=policy):
            return f"{trigger}" + ("" if policy.isolate_account_failures else ", all-or-nothing")
        case CycleFinished(error_count=count):
            return counted(count, "error")
        case TickSkipped(reason=reason):
            return f"tick skipped: {reason}"
        case MonitorRestarted(reason=reason):
            return f"monitor restarted: {reason}"
    return ""


def counted(number: int, noun: str) -> str:
    """`1 order`, `2 orders`, `3 matches`."""
    if number == 1:
        return f"1 {noun}"
    return f"{number} {noun}{'es' if noun.endswith(('ch', 'sh', 's', 'x')) else 's'}"


def _ids(ids: Sequence[int]) -> str:
    return ", ".join(str(i) for i in ids) or "none"


def _money(amount: Decimal) -> str:
    return format(amount, "f")
