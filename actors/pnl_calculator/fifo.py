"""FIFO profit and loss of one account: fills in, closed matches and marked open lots out (DESIGN.md, Data).

Owns `fills_from_order_book` and `match_fifo`; pure. Money runs in a decimal context that traps inexact results:
a figure is exact or the call raises `decimal.Inexact`. The compiled loop (`_fifo_match.c`) runs first where it
was built; this module's Python loop is its reference (tests/pnl/test_fifo_compiled.py).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from decimal import Context, Decimal, Inexact, localcontext
from operator import attrgetter
from typing import TYPE_CHECKING

from domain.broker import BrokerOrder, Side
from domain.pnl import Direction, FifoResult, Fill, Match, OpenLot

if TYPE_CHECKING:
    from actors.pnl_calculator._fifo_match import Matcher

_BUY: Side = "BUY"
_SELL: Side = "SELL"
_DIRECTION_OF_ENTRY_SIDE: dict[str, Direction] = {_BUY: "LONG", _SELL: "SHORT"}

_EXACT = Context(prec=60, traps=[Inexact])
"""Wide enough for any price x quantity a desk trades; `Inexact` turns a rounding into an error."""


def fills_from_order_book(orders: Iterable[BrokerOrder]) -> list[Fill]:
    """One fill per order with a filled quantity: its `filled_qty` at `avg_price`, timed `updated_at`
    (else `created_at`).

    Orders with nothing filled are not fills. An order with a filled quantity but no average price, or no
    time at all, raises ValueError: its place in FIFO order (or its price) would be a guess, and a PnL
    built on a guess is worse than a failed PnL step.
    """
    fills: list[Fill] = []
    for order in orders:
        if order.filled_qty < 0:
            raise ValueError(f"order {order.app_order_id} ({order.symbol}): negative filled qty "
                             f"{order.filled_qty}")
        if order.filled_qty == 0:
            continue
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
_CLOSER_OF_ENTRY_SIDE: dict[str, Side] = {_BUY: _SELL, _SELL: _BUY}


def match_fifo(fills: Iterable[Fill], marks: Mapping[str, Decimal]) -> FifoResult:
    """Match `fills` FIFO per symbol and mark the open lots to `marks` (None, never a guess, without a mark).

    Fills go in (time, order_id) order, stably; a fill closes the symbol's opposite lots oldest first and its rest
    opens a lot, so a position may flip within one fill. ValueError names the first invalid fill (qty, side,
    price or naive time) or a mark that is not a Decimal. The compiled loop runs first, or declines to Python.
    """
    given = fills if isinstance(fills, list | tuple) else list(fills)  # read an iterator once
    with localcontext(_EXACT):
        matched = _COMPILED.match(given) if _COMPILED is not None else None
        books, matches = matched if matched is not None else _match_in_order(_in_fifo_order(given))
        return _fifo_result(books, matches, marks)


def match_fifo_in_python(fills: Iterable[Fill], marks: Mapping[str, Decimal]) -> FifoResult:
    """`match_fifo` on the Python loop alone: the reference the compiled loop is tested against."""
    with localcontext(_EXACT):
        return _fifo_result(*_match_in_order(_in_fifo_order(fills)), marks)


def _fifo_result(books: OpenBooks, matches: Sequence[Match], marks: Mapping[str, Decimal]) -> FifoResult:
    """The result of matched fills: `matches` as they closed, the open lots marked. Runs inside the exact
    decimal context."""
    return FifoResult(matches=tuple(matches), open_lots=_open_lots(books, marks))


def _in_fifo_order(fills: Iterable[Fill]) -> list[Fill]:
    """`fills` in (time, order_id) order, their times checked to be aware.

    Two stable single-key sorts (order id, then time): faster than one sort on a (time, order_id) key,
    whose tuples cost more to build and compare than the second pass costs. The time sort also settles
    awareness for every fill at once: comparing a naive with an aware datetime raises TypeError, and a
    comparison sort that succeeds has compared every pair of neighbours in its result, so the times are
    then all naive or all aware, and the first one tells which. When they are all naive, the first fill
    is the first invalid one in (time, order_id) order.
    """
    ordered = list(fills)
    try:
        ordered.sort(key=_by_order_id)
        ordered.sort(key=_by_time)
    except TypeError:
        raise ValueError(_unorderable_fills_reason(ordered)) from None
    if ordered and ordered[0].time.utcoffset() is None:
        raise ValueError(_invalid_fill_reason(ordered[0]))
    return ordered


class _Book:
    """One symbol's open lots, oldest first, all entered on `side`: `head`, of which `head_qty` is left
    open, then `rest`, each open for its fill's whole qty.

    A lot is the fill that opened it: only the oldest lot can be partly closed, so only its remaining
    qty is kept apart. A book is never empty; a position back at zero drops its book, a flip replaces it.
    """

    __slots__ = ("closer", "direction", "head", "head_qty", "is_long", "rest", "side")

    def __init__(self, fill: Fill, qty: int) -> None:
        self.side = fill.side
        self.closer = _CLOSER_OF_ENTRY_SIDE[fill.side]
        self.direction = _DIRECTION_OF_ENTRY_SIDE[fill.side]
        self.is_long = fill.side == _BUY
        self.head = fill
        self.head_qty = qty
        self.rest: deque[Fill] = deque()

    def lots(self) -> list[tuple[int, Fill]]:
        """(open qty, fill) of each lot, oldest first."""
        return [(self.head_qty, self.head), *((fill.qty, fill) for fill in self.rest)]


OpenBooks = dict[str, tuple[Side, list[tuple[int, Fill]]]]
"""Per symbol with open lots: the side they were entered on and (open qty, fill) of each, oldest first."""


def _match_in_order(ordered: list[Fill]) -> tuple[OpenBooks, list[Match]]:
    """Validate each fill (times are checked by `_in_fifo_order`) and match it against its symbol's book,
    in order; the books left are the open lots. Runs inside the exact decimal context.

    One loop with the closing written inline: it runs once per fill, and a function call per closing
    fill costs about 6 % of the whole (docs/BENCHMARKS.md, FIFO PnL). A side is checked where it is
    compared with the book's (a fill either opens a book, adds to it or closes it), so every fill's side
    is still checked, at its turn. Realized PnL is (exit - entry) x qty for a LONG lot and
    (entry - exit) x qty for a SHORT one, one subtraction and one multiplication per match.
    """
    books: dict[str, _Book] = {}
    matches: list[Match] = []
    for fill in ordered:
        qty = fill.qty
        price = fill.price
        if (
            type(qty) is not int
            or qty <= 0
            or type(price) is not Decimal
            or not price.is_finite()
            or price.is_signed()
            or not price
        ):
            raise ValueError(_invalid_fill_reason(fill))
        side = fill.side
        try:
            book = books[fill.symbol]
        except KeyError:
            if side != _BUY and side != _SELL:
                raise ValueError(_invalid_fill_reason(fill)) from None
            books[fill.symbol] = _Book(fill, qty)
            continue
        if side == book.side:
            book.rest.append(fill)
            continue
        if side != book.closer:
            raise ValueError(_invalid_fill_reason(fill))
        is_long = book.is_long
        lot = book.head
        lot_qty = book.head_qty
        lot_price = lot.price
        if lot_qty > qty:  # the common case: the fill closes part of the oldest lot and nothing more
            matches.append(Match(fill.symbol, lot.order_id, fill.order_id, book.direction, qty, lot_price,
                                 price, (price - lot_price if is_long else lot_price - price) * qty))
            book.head_qty = lot_qty - qty
            continue
        symbol = fill.symbol
        exit_id = fill.order_id
        direction = book.direction
        rest = book.rest
        while True:  # close the oldest lot whole, then look at the next one
            matches.append(Match(symbol, lot.order_id, exit_id, direction, lot_qty, lot_price, price,
                                 (price - lot_price if is_long else lot_price - price) * lot_qty))
            qty -= lot_qty
            if not rest:
                if qty:
                    books[symbol] = _Book(fill, qty)  # the position flips: what is left of the fill opens a lot
                else:
                    del books[symbol]
                break
            lot = rest.popleft()
            lot_qty = lot.qty
            lot_price = lot.price
            if lot_qty > qty:
                if qty:
                    matches.append(Match(symbol, lot.order_id, exit_id, direction, qty, lot_price, price,
                                         (price - lot_price if is_long else lot_price - price) * qty))
                book.head = lot
                book.head_qty = lot_qty - qty
                break
    return {symbol: (book.side, book.lots()) for symbol, book in books.items()}, matches


def _open_lots(books: OpenBooks, marks: Mapping[str, Decimal]) -> tuple[OpenLot, ...]:
    open_lots: list[OpenLot] = []
    for symbol in sorted(books):
        side, lots = books[symbol]
        direction = _DIRECTION_OF_ENTRY_SIDE[side]
        mark = marks.get(symbol)
        if mark is not None and (type(mark) is not Decimal or not mark.is_finite()):
            raise ValueError(f"mark of {symbol} must be a finite Decimal, got {mark!r}")
        for qty, fill in lots:
            if mark is None:
                unrealized = None
            elif side == _BUY:
                unrealized = (mark - fill.price) * qty
            else:
                unrealized = -((mark - fill.price) * qty)
            open_lots.append(OpenLot(symbol, fill.order_id, direction, qty, fill.price, mark, unrealized))
    return tuple(open_lots)


def _compiled_matcher() -> Matcher | None:
    """The compiled loop (`_fifo_match.c`), or None where it was not built (no C compiler at install)."""
    try:
        from actors.pnl_calculator import _fifo_match
    except ImportError:
        return None
    return _fifo_match.Matcher(fill_type=Fill, match_type=Match, decimal_type=Decimal, buy=_BUY, sell=_SELL,
                               long="LONG", short="SHORT")


_COMPILED = _compiled_matcher()
COMPILED = _COMPILED is not None
"""Whether `match_fifo` runs the compiled loop; `run.py serve` logs which at start."""


def _unorderable_fills_reason(fills: list[Fill]) -> str:
    for fill in fills:
        if fill.time.utcoffset() is None:
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
