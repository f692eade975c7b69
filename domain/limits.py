"""The limits on automation, as pure rules: the daily loss limit that pauses a user, and the budget and the
backoff of regenerating a rejected entry. No I/O and no clock: callers pass the figures and the time.

The store applies the regeneration rules to each archived candidate in the transaction that writes the
rows. Its query also drops candidates over the budget (`regeneration_attempt < max_regenerations`), only so
that the rows of every exhausted entry are not read again each cycle (its index does not cover the attempt);
a candidate is regenerated only when both let it through, so neither alone can send an attempt over the
budget, and tests/storage pins the query at the same boundary as `regeneration_allowed`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal


def total_day_pnl(lines: Iterable[tuple[Decimal | None, Decimal | None]]) -> Decimal:
    """Realized plus unrealized PnL over the (realized, unrealized) lines of a user's live history; a figure
    not computed yet (a lot with no price to mark it) counts as zero."""
    return sum((figure for line in lines for figure in line if figure is not None), Decimal(0))


def watched_loss_limit(limit: Decimal | None, paused: bool) -> Decimal | None:
    """The daily loss limit to hold the day's PnL to, or None when there is nothing to watch (no limit is
    set, or automation is already paused)."""
    return None if paused else limit


def daily_loss_pause_reason(limit: Decimal, day_pnl: Decimal) -> str | None:
    """Why automation pauses when the day's PnL has fallen to minus the limit, or None while it has not."""
    if day_pnl <= -limit:
        return f"daily loss limit {limit:.2f} reached (day PnL {day_pnl:.2f})"
    return None


def regeneration_allowed(attempt: int, max_regenerations: int) -> bool:
    """Whether regeneration number `attempt` (the first is 1) is within the budget of `max_regenerations`."""
    return attempt <= max_regenerations


def regeneration_due(archived_at: datetime, attempt: int, backoff_s: float, now: datetime) -> bool:
    """Whether regeneration number `attempt` has waited its backoff since the entry was archived: `backoff_s`
    before the first, doubled for each attempt before it."""
    return archived_at + timedelta(seconds=backoff_s * 2 ** (attempt - 1)) <= now
