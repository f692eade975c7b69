"""Timelines and audit findings as text for people, or as JSON lines for machines.

Owns the presentation only: times shown to people are Asia/Kolkata with the offset written out; JSON
keeps aware UTC (ISO 8601 with `Z`) and money as decimal strings, one timeline object per line.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec

from messages.commands import Command
from messages.events import OrderAction, OrderChange
from replay.fold import CycleCheck, Divergence
from replay.timeline import Entry, Timeline, counted

PEOPLE_TZ = ZoneInfo("Asia/Kolkata")
_json = msgspec.json.Encoder()
_HEADER = ("#", "time", "step", "account", "event", "outcome", "took", "detail")
_WIDTHS = (3, 12, 18, 8, 28, 9, 8)


def json_line(timeline: Timeline) -> str:
    return _json.encode(timeline).decode("utf-8")


def local_time(at: datetime, with_date: bool = True) -> str:
    local = at.astimezone(PEOPLE_TZ)
    text = local.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if with_date else local.strftime("%H:%M:%S.%f")[:-3]
    return f"{text} {local.strftime('%z')[:3]}:{local.strftime('%z')[3:]}" if with_date else text


def timeline_text(timeline: Timeline, user_name: str = "") -> str:
    check = timeline.check
    user = f"{user_name} ({timeline.user_id})" if user_name else str(timeline.user_id)
    head = [f"cycle {timeline.cycle_id}  user {user}  accounts {_ids(timeline.account_ids)}"]
    when = [f"started {local_time(timeline.started_at)}" if timeline.started_at else "no start logged"]
    if timeline.duration_ms is not None:
        when.append(f"took {_duration(timeline.duration_ms)}")
    when.append(check.status)
    when.append(counted(check.error_count, "error"))
    when.append(f"replay: {verdict(check)}")
    head.append("  " + ", ".join(when))
    tz = timeline.started_at.astimezone(PEOPLE_TZ).strftime("%z") if timeline.started_at else "+0530"
    header = (*_HEADER[:1], f"time {tz[:3]}:{tz[3:]}", *_HEADER[2:])
    lines = [*head, _row(header)]
    for entry in timeline.entries:
        lines.extend(_entry_lines(entry))
    lines.extend(check_lines(check))
    return "\n".join(lines)


def verdict(check: CycleCheck) -> str:
    if check.clean:
        return "clean"
    parts = []
    if check.divergences:
        parts.append(counted(len(check.divergences), "divergence"))
    if check.problems:
        parts.append(counted(len(check.problems), "problem"))
    return "FAILED (" + ", ".join(parts) + ")"


def check_lines(check: CycleCheck, every_divergence: bool = True) -> list[str]:
    """Divergences (each with both commands in full, or only the first, in brief) and problems."""
    lines = []
    if every_divergence:
        for divergence in check.divergences:
            lines.extend(divergence_lines(divergence))
    elif check.divergences:
        first = check.divergences[0]
        lines.append(f"DIVERGES at {_where(first)}: decide gives {_brief(first.expected)}, "
                     f"log issued {_brief(first.issued)}")
        lines.extend("  " + difference for difference in command_differences(first.expected, first.issued))
        if len(check.divergences) > 1:
            lines.append(f"and {counted(len(check.divergences) - 1, 'more divergence')}: "
                         f"`run.py replay --user NAME --cycle {check.cycle_id}` shows them all")
    for problem in check.problems:
        where = f" at event {problem.index} (seq {problem.seq})" if problem.index is not None else ""
        lines.append(f"PROBLEM{where}: {problem.message}")
    return lines


def divergence_lines(divergence: Divergence) -> list[str]:
    return [
        f"DIVERGES at {_where(divergence)}:",
        f"  decide gives: {_command(divergence.expected)}",
        f"  log issued:   {_command(divergence.issued)}",
        *("  " + difference for difference in command_differences(divergence.expected, divergence.issued)),
    ]


def command_differences(expected: Command | None, issued: Command | None, limit: int = 5) -> list[str]:
    """Where two commands of the same type differ, field by field (`summary.steps[8].outcome: ...`)."""
    if expected is None or issued is None or type(expected) is not type(issued):
        return []
    found: list[str] = []

    def walk(decided: object, logged: object, path: str) -> None:
        if len(found) >= limit:
            return
        if isinstance(decided, dict) and isinstance(logged, dict):
            for key in [*decided, *(k for k in logged if k not in decided)]:
                walk(decided.get(key), logged.get(key), f"{path}.{key}" if path else key)
        elif isinstance(decided, list | tuple) and isinstance(logged, list | tuple) and len(decided) == len(logged):
            for i, (one, other) in enumerate(zip(decided, logged, strict=True)):
                walk(one, other, f"{path}[{i}]")
        elif decided != logged:
            found.append(f"differs at {path}: decide {_json.encode(decided).decode()}, "
                         f"log {_json.encode(logged).decode()}")

    walk(msgspec.to_builtins(expected), msgspec.to_builtins(issued), "")
    return found


def _where(divergence: Divergence) -> str:
    seq = f" (seq {divergence.seq})" if divergence.seq is not None else " (end of the log)"
    return f"event {divergence.index}{seq}"


def _brief(command: Command | None) -> str:
    if command is None:
        return "nothing"
    return f"{type(command).__struct_config__.tag} for accounts [{_ids(command.account_ids)}]"


def _entry_lines(entry: Entry) -> list[str]:
    step = entry.step or "-"
    accounts = _ids(entry.account_ids) if entry.account_ids else "-"
    event = f"-> {type(entry.command).__struct_config__.tag}" if entry.command is not None else entry.event
    detail = entry.detail
    if entry.error is not None:
        detail = f"{entry.error.kind}: {entry.error.message}" + (f"; {detail}" if detail else "")
    took = _duration(entry.duration_ms) if entry.duration_ms is not None else ""
    lines = [_row((str(entry.index), local_time(entry.at, with_date=False), step, accounts, event,
                   entry.outcome or "", took, detail))]
    pad = " " * (sum(_WIDTHS[:4]) + 4)
    lines.extend(pad + _change(change) for change in entry.changes)
    lines.extend(pad + _action(action) for action in entry.actions)
    lines.extend(pad + f"archived order {a.order_id} (account {a.account_id}): {a.reason}" for a in entry.archived)
    return lines


def _row(cells: tuple[str, ...]) -> str:
    padded = [cell.ljust(width) if i else cell.rjust(width) for i, (cell, width) in enumerate(zip(cells, _WIDTHS,
                                                                                                   strict=False))]
    return " ".join([*padded, *cells[len(_WIDTHS):]]).rstrip()


def _change(change: OrderChange) -> str:
    return (f"order {change.order_id} (account {change.account_id}) {change.field}: "
            f"{_value(change.before)} → {_value(change.after)}")


def _action(action: OrderAction) -> str:
    text = f"{action.action} {action.leg} of order {action.order_id} (account {action.account_id})"
    if action.quantity is not None:
        text += f" qty {action.quantity}"
    if action.price is not None:
        text += f" @ {format(action.price, 'f')}"
    text += f" tag {action.tag}"
    if action.broker_order_id is not None:
        text += f" → broker order {action.broker_order_id}"
    if action.detail:
        text += f" ({action.detail})"
    return text


def _value(value: str | int | None) -> str:
    return "∅" if value is None else str(value)


def _command(command: Command | None) -> str:
    return "nothing" if command is None else _json.encode(command).decode("utf-8")


def _duration(ms: int) -> str:
    return f"{ms} ms" if ms < 10_000 else f"{ms / 1000:.1f} s"


def _ids(ids: tuple[int, ...]) -> str:
    return ",".join(str(i) for i in ids) or "none"
