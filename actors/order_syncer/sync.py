"""The sync step's pure core: from an account's orders, fresh order book and fair prices, the changes to make.

Mirrors each order's three legs from the book, moves its lifecycle (PENDING → ENTRY_OPEN → RUNNING → CLOSED, or
REJECTED / CANCELLED) and computes its PnL (unrealized None while unmarked); returns one optimistic update per
changed order (the version read is the version expected) and each field change with its before and after.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec

from domain.book import BookIndex, money
from domain.records import FairPrice, OrderRow, OrderUpdate, exit_fills_json, leg_fields
from domain.status import OPEN_STATUSES, OrderStatus, TradeStatus
from domain.trade import direction, exit_fair_price, fresh_fair_price
from messages.events import OrderChange

TERMINAL = frozenset({TradeStatus.CLOSED, TradeStatus.REJECTED, TradeStatus.CANCELLED})


class SyncPlan(msgspec.Struct, frozen=True):
    updates: tuple[OrderUpdate, ...]
    changes: tuple[OrderChange, ...]


def fresh_mark(order: OrderRow, fair: FairPrice | None, now: datetime, max_age: timedelta) -> Decimal | None:
    """The price an open position would exit at: sell fair price for a long, buy fair price for a short."""
    fair = fresh_fair_price(fair, now, max_age)
    if fair is None:
        return None
    return exit_fair_price(fair, long=order.side == "BUY")


def fresh_fair_prices(fair_prices: Mapping[str, FairPrice], symbols: Iterable[str], now: datetime,
                      max_age: timedelta) -> tuple[tuple[str, FairPrice | None], ...]:
    """What `plan_order_sync` can see of the fair prices of `symbols` at `now`: each symbol's fair price
    while it is fresh, else None, by symbol. Two calls that give equal answers make the plans of equal
    orders and books equal (the plan reads the clock for nothing else)."""
    return tuple((symbol, fresh_fair_price(fair_prices.get(symbol), now, max_age)) for symbol in sorted(set(symbols)))


def plan_order_sync(
    orders: Sequence[OrderRow],
    book: BookIndex,
    fair_prices: Mapping[str, FairPrice],
    now: datetime,
    fair_price_max_age: timedelta,
) -> SyncPlan:
    updates: list[OrderUpdate] = []
    changes: list[OrderChange] = []
    for order in orders:
        target = _target_fields(order, book, fair_prices.get(order.symbol), now, fair_price_max_age)
        changed = {k: v for k, v in target.items() if getattr(order, k) != v}
        if not changed:
            continue
        updates.append(OrderUpdate(order.id, order.version, changed))
        changes.extend(
            OrderChange(order_id=order.id, account_id=order.account_id, field=field,
                        before=_plain(getattr(order, field)), after=_plain(value))
            for field, value in changed.items()
        )
    return SyncPlan(updates=tuple(updates), changes=tuple(changes))


def _target_fields(
    order: OrderRow, book: BookIndex, fair: FairPrice | None, now: datetime, max_age: timedelta
) -> dict[str, Any]:
    target: dict[str, Any] = {}
    entry, sl, tp = (book.leg(order, leg) for leg in ("entry", "sl", "tp"))
    for leg, row in (("entry", entry), ("sl", sl), ("tp", tp)):
        # a leg missing from the book stays as it was: a new day's book drops yesterday's orders, and absence is
        # the protect step's to judge, never a reason to downgrade a status
        if row is not None:
            target.update(leg_fields(leg, order_id=row.app_order_id, orderstatus=row.status))
    if entry is not None:
        target["filled_qty"] = entry.filled_qty
        if entry.avg_price is not None:
            target["avg_entry_price"] = money(entry.avg_price)
        if entry.status == OrderStatus.REJECTED:
            target["reject_reason"] = entry.reject_reason or "rejected by the broker"
    filled = target.get("filled_qty", order.filled_qty)
    entry_status = target.get("entry_orderstatus", order.entry_orderstatus)
    avg_entry = target.get("avg_entry_price", order.avg_entry_price)
    exits = book.exit_fills(order)  # every SL/TP attempt's fills merged with those on record: every day's exits
    exit_qty = sum(fill.qty for fill in exits)
    status = _lifecycle(order.status, filled, entry_status, exit_qty)
    target["status"] = status
    target["exit_fills"] = exits
    if _exits_before_the_record(order, filled, exit_qty):
        return target
    if filled > 0 and avg_entry is not None and status in (TradeStatus.RUNNING, TradeStatus.CLOSED):
        sign = direction(order)
        target["realized_pnl"] = money(sum((sign * (fill.avg_price - avg_entry) * fill.qty for fill in exits),
                                           Decimal(0)))
        if status == TradeStatus.CLOSED:
            target["exit_price"] = money(sum(fill.avg_price * fill.qty for fill in exits) / exit_qty)
            target["unrealized_pnl"] = Decimal("0.0000")
        else:
            mark = fresh_mark(order, fair, now, max_age)
            target["unrealized_pnl"] = None if mark is None else money(sign * (mark - avg_entry) * (filled - exit_qty))
            if mark is not None:
                target["ltp"] = money(mark)
    elif filled > 0 and status == TradeStatus.RUNNING:
        target["unrealized_pnl"] = None
    return target


def _exits_before_the_record(order: OrderRow, filled: int, exit_qty: int) -> bool:
    """Whether the order's stored PnL counts exits that neither its record nor the book holds: an order that
    exited before its exit fills were recorded (migration 006), on a day whose book no longer lists them. It
    is closed with fewer exits known than it filled, or known to have exited with no exit known. Its PnL and
    exit price then stay as stored; recomputing them from the exits known would drop the earlier ones."""
    if order.status == TradeStatus.CLOSED:
        return exit_qty < filled
    return exit_qty == 0 and (order.realized_pnl != 0 or order.exit_price is not None)


def _lifecycle(status: TradeStatus, filled: int, entry_status: OrderStatus | None, exit_qty: int) -> TradeStatus:
    if status in TERMINAL:
        return status
    if filled > 0:
        entry_done = entry_status not in OPEN_STATUSES
        return TradeStatus.CLOSED if entry_done and exit_qty >= filled else TradeStatus.RUNNING
    if entry_status == OrderStatus.REJECTED:
        return TradeStatus.REJECTED
    if entry_status == OrderStatus.CANCELLED:
        return TradeStatus.CANCELLED
    if entry_status in OPEN_STATUSES:
        return TradeStatus.ENTRY_OPEN
    return status


def _plain(value: Any) -> str | int | None:
    if value is None or isinstance(value, int | str):
        return value
    if isinstance(value, tuple):
        return exit_fills_json(value)
    return str(value)
