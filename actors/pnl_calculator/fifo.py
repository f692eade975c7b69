"""FIFO profit and loss of one account: fills in, closed matches and marked open lots out (DESIGN.md, Data).

Owns the `Fill`, `Match`, `OpenLot` and `FifoResult` structs, the rule that turns a fetched order book into
fills (`fills_from_order_book`) and the FIFO matching itself (`match_fifo`). Pure: no I/O, no clock, no
actor, web or database imports; the caller passes the marks and persists the result.

The rule: fills are taken in (time, order_id) order (a stable sort, so fills equal on both keep their
input order). A fill first closes the symbol's opposite lots oldest first; whatever is left of it opens a
lot, so a position may flip through zero within one fill. All open lots of a symbol therefore share one
direction. LONG realized = (exit - entry) x qty, SHORT realized = (entry - exit) x qty. Open lots are marked
to `marks[symbol]`; a symbol without a mark gets `mark=None, unrealized_pnl=None`, never a guess.

Money arithmetic runs in a decimal context that traps inexact results: a PnL figure is exact or the call
raises `decimal.Inexact`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from decimal import Context, Decimal, Inexact, localcontext
from itertools import repeat
from operator import attrgetter, mul, neg, sub
from typing import Literal

import msgspec

from adapters.broker.types import BrokerOrder, Side
from messages.common import UtcDateTime

Direction = Literal["LONG", "SHORT"]

_BUY: Side = "BUY"
_SELL: Side = "SELL"
_DIRECTION_OF_ENTRY_SIDE: dict[str, Direction] = {_BUY: "LONG", _SELL: "SHORT"}

_EXACT = Context(prec=60, traps=[Inexact])
"""Wide enough for any price x quantity a desk trades; `Inexact` turns a rounding into an error."""


class Fill(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A quantity of one order executed at one price: one order's filled qty at its average price."""

    order_id: int
    symbol: str
    side: Side
    qty: int
    price: Decimal
    time: UtcDateTime


class Match(msgspec.Struct, frozen=True, gc=False):
    """`qty` units of the entry order's lot closed by the exit order."""

    symbol: str
    entry_order_id: int
    exit_order_id: int
    direction: Direction
    qty: int
    entry_price: Decimal
    exit_price: Decimal
    realized_pnl: Decimal


class OpenLot(msgspec.Struct, frozen=True, gc=False):
    """What is still open of one order's fill; `mark` and `unrealized_pnl` are None without a mark."""

    symbol: str
    order_id: int
    direction: Direction
    qty: int
    entry_price: Decimal
    mark: Decimal | None
    unrealized_pnl: Decimal | None


class FifoResult(msgspec.Struct, frozen=True):
    """Matches in the order they closed; open lots by symbol, oldest first within a symbol."""

    matches: tuple[Match, ...]
    open_lots: tuple[OpenLot, ...]


def fills_from_order_book(orders: Iterable[BrokerOrder]) -> list[Fill]:
    """One fill per order with a filled quantity: its `filled_qty` at `avg_price`, timed `updated_at`
    (else `created_at`).

    Orders with nothing filled are not fills. An order with a filled quantity but no average price, or no
    time at all, raises ValueError: its place in FIFO order (or its price) would be a guess, and a PnL
    built on a guess is worse than a failed PnL step.
    """
    fills: list[Fill] = []
    for order in orders:
        if order.filled_qty == 0:
            continue
        if order.filled_qty < 0:
            raise ValueError(f"order {order.app_order_id} ({order.symbol}): negative filled qty "
                             f"{order.filled_qty}")
        if order.avg_price is None:
            raise ValueError(f"order {order.app_order_id} ({order.symbol}): filled qty {order.filled_qty} "
                             "but no average price")
        time = order.updated_at if order.updated_at is not None else order.created_at
        if time is None:
            raise ValueError(f"order {order.app_order_id} ({order.symbol}): filled qty {order.filled_qty} "
                             "but neither updated_at nor created_at, so its FIFO position is unknown")
        fills.append(Fill(order_id=order.app_order_id, symbol=order.symbol, side=order.side,
                          qty=order.filled_qty, price=order.avg_price, time=time))
    return fills


_by_order_id = attrgetter("order_id")
_by_time = attrgetter("time")
_ZERO = Decimal(0)


def match_fifo(fills: Iterable[Fill], marks: Mapping[str, Decimal]) -> FifoResult:
    """Match `fills` FIFO per symbol and mark the open lots to `marks` (see the module docstring).

    Raises ValueError naming the offending fill when a qty is not a positive int, a side is not BUY or
    SELL, a price is not a finite positive Decimal or a time is naive; and when a mark is not a Decimal.
    """
    ordered = list(fills)
    try:
        # Two stable single-key sorts give (time, order_id) order, several times faster than a tuple key.
        ordered.sort(key=_by_order_id)
        ordered.sort(key=_by_time)
    except TypeError:
        raise ValueError(_unorderable_fills_reason(ordered)) from None

    # symbol -> [side of its open lots, deque of open lots (qty, price, order_id), oldest first]
    books: dict[str, list] = {}
    matches: list[Match] = []
    add_match = matches.append
    with localcontext(_EXACT):
        for fill in ordered:
            qty = fill.qty
            price = fill.price
            side = fill.side
            if (
                type(qty) is not int
                or qty <= 0
                or type(price) is not Decimal
                or not price.is_finite()
                or price <= _ZERO
                or (side != _BUY and side != _SELL)
                or fill.time.tzinfo is None
            ):
                raise ValueError(_invalid_fill_reason(fill))
            symbol = fill.symbol
            book = books.get(symbol)
            if book is None:
                book = books[symbol] = [side, deque()]
            lot_side, lots = book
            if lots and lot_side != side:
                exit_id = fill.order_id
                closes_long = lot_side == _BUY
                direction = "LONG" if closes_long else "SHORT"
                while lots:
                    lot_qty, lot_price, lot_id = lots[0]
                    if lot_qty > qty:
                        lots[0] = (lot_qty - qty, lot_price, lot_id)
                        lot_qty = qty
                    else:
                        lots.popleft()
                    gain = price - lot_price if closes_long else lot_price - price
                    add_match(Match(symbol, lot_id, exit_id, direction, lot_qty, lot_price, price,
                                    gain * lot_qty))
                    qty -= lot_qty
                    if not qty:
                        break
                if not qty:
                    continue
            book[0] = side
            lots.append((qty, price, fill.order_id))
        open_lots = _build_open_lots(books, marks)
    return FifoResult(matches=tuple(matches), open_lots=open_lots)


def _build_open_lots(books: dict[str, list], marks: Mapping[str, Decimal]) -> tuple[OpenLot, ...]:
    open_lots: list[OpenLot] = []
    for symbol in sorted(books):
        side, lots = books[symbol]
        if not lots:
            continue
        lot_qtys, lot_prices, lot_ids = zip(*lots, strict=True)
        direction = _DIRECTION_OF_ENTRY_SIDE[side]
        mark = marks.get(symbol)
        if mark is None:
            unrealized: Iterable[Decimal | None] = repeat(None)
        elif type(mark) is not Decimal or not mark.is_finite():
            raise ValueError(f"mark of {symbol} must be a finite Decimal, got {mark!r}")
        else:
            gains = map(mul, map(sub, repeat(mark), lot_prices), lot_qtys)
            unrealized = gains if direction == "LONG" else map(neg, gains)
        open_lots += map(OpenLot, repeat(symbol), lot_ids, repeat(direction), lot_qtys, lot_prices,
                         repeat(mark), unrealized)
    return tuple(open_lots)


def _unorderable_fills_reason(fills: list[Fill]) -> str:
    for fill in fills:
        if fill.time.tzinfo is None:
            return _invalid_fill_reason(fill)
    return "fills cannot be ordered by (time, order_id): times must be aware datetimes, order ids ints"


def _invalid_fill_reason(fill: Fill) -> str:
    if type(fill.qty) is not int or fill.qty <= 0:
        reason = f"qty must be a positive int, got {fill.qty!r}"
    elif fill.side not in (_BUY, _SELL):
        reason = f"side must be BUY or SELL, got {fill.side!r}"
    elif type(fill.price) is not Decimal or not fill.price.is_finite() or fill.price <= 0:
        reason = f"price must be a finite positive Decimal, got {fill.price!r}"
    else:
        reason = f"time must be timezone-aware, got {fill.time!r}"
    return f"invalid fill of order {fill.order_id!r} ({fill.symbol}): {reason}"
