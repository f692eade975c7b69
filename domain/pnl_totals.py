"""An account's PnL totals over its FIFO result: realized over the matches, unrealized over the open lots
that have a price to mark them, and how many open lots have none (unmarked, never guessed as zero)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Protocol


class _Matched(Protocol):
    realized_pnl: Decimal


class _Open(Protocol):
    unrealized_pnl: Decimal | None


def pnl_totals(matches: Iterable[_Matched], open_lots: Iterable[_Open]) -> tuple[Decimal, Decimal, int]:
    """(realized, unrealized of the marked lots, how many lots are unmarked)."""
    realized = sum((match.realized_pnl for match in matches), Decimal(0))
    marks = [lot.unrealized_pnl for lot in open_lots]
    unrealized = sum((mark for mark in marks if mark is not None), Decimal(0))
    return realized, unrealized, sum(1 for mark in marks if mark is None)
