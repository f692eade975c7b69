"""The pure rules of everything the cycle sends: SL/TP legs with OCO (the protect step) and fair-price
modifications of entries and stop-losses (the modify-entries and modify-stop-losses steps).

Each rule looks at one internal order and the fresh order book and returns the actions to take; it sends nothing
and reads no clock. Each function's docstring states the guarantee it keeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Literal

import msgspec

from domain.book import BookIndex
from domain.broker import BrokerOrder, BrokerPosition, ModifyRequest, OrderRequest
from domain.records import FairPrice, Leg, OrderRow
from domain.status import IN_FLIGHT_STATUSES, OPEN_STATUSES, OrderStatus, TradeStatus
from domain.tags import order_tag, parse_tag
from domain.trade import direction, fresh_fair_price

TICK = Decimal("0.05")
MAX_LEG_PLACEMENTS_A_DAY = 20
"""However a leg keeps ending (cancelled, expired, dropped), it is placed at most this many times a day."""
STOP_TYPES = frozenset({"STOPLIMIT", "STOPMARKET"})
ExitLeg = Literal["sl", "tp"]


class PlaceLeg(msgspec.Struct, frozen=True, kw_only=True):
    """Record `tag` on the order (intent), then send `request`."""

    order_id: int
    account_id: int
    leg: ExitLeg
    attempt: int
    request: OrderRequest
    resend: bool = False
    rejections: int = 0
    """The leg's rejections so far, this attempt's predecessor included: recorded with a new attempt's intent."""


class _LegAction(msgspec.Struct, frozen=True, kw_only=True):
    """A request about one leg of one order, and why it is made."""

    order_id: int
    account_id: int
    leg: Leg
    reason: str


class ModifyLeg(_LegAction, frozen=True, kw_only=True):
    """Send `request`, a change to the leg's live order."""

    request: ModifyRequest


class CancelLeg(_LegAction, frozen=True, kw_only=True):
    """Cancel the leg's live order `app_order_id`, placed with `tag`."""

    app_order_id: int
    tag: str


class PositionMismatch(msgspec.Struct, frozen=True, kw_only=True):
    """A carried trade whose open quantity on record the broker's positions do not bear out: its net
    position is smaller (the exits are sized to it), or no NRML position of the instrument is listed (the
    exits stay sized to the record). Reported as an error every cycle until someone reconciles the order."""

    order_id: int
    account_id: int
    reason: str


class EntryNotSeen(msgspec.Struct, frozen=True, kw_only=True):
    """An entry whose request no order book fetched long enough after it lists: the broker never took it.
    Nothing is sent again (a late entry is a new decision); reported every cycle until someone acts."""

    order_id: int
    account_id: int
    reason: str


class Unprotected(msgspec.Struct, frozen=True, kw_only=True):
    """A leg that cannot be placed any more; reported as an error every cycle until someone acts."""

    order_id: int
    account_id: int
    leg: ExitLeg
    reason: str


Action = PlaceLeg | ModifyLeg | CancelLeg | EntryNotSeen | PositionMismatch | Unprotected


def to_tick(price: Decimal, side: str) -> Decimal:
    """Round to the 0.05 tick so that the order stays marketable: up for a BUY, down for a SELL."""
    rounding = ROUND_CEILING if side == "BUY" else ROUND_FLOOR
    return (price / TICK).to_integral_value(rounding=rounding) * TICK


def exit_side(order: OrderRow) -> Literal["BUY", "SELL"]:
    return "SELL" if order.side == "BUY" else "BUY"


def _is_live(row: BrokerOrder | None) -> bool:
    return row is not None and row.status in OPEN_STATUSES


def _is_changeable(row: BrokerOrder | None) -> bool:
    """A live row that a modify or a cancel may act on: not one whose cancel is already under way
    (`PendingCancel`), which can still fill, so it is live and no other is placed beside it, but is neither
    changed nor cancelled again."""
    return _is_live(row) and row.status != OrderStatus.PENDING_CANCEL


# --- The protect step: protective legs and OCO ---------------------------------------------------


def carried_exit_limits(orders: Sequence[OrderRow], book: BookIndex,
                        positions: Sequence[BrokerPosition]) -> dict[int, int | None]:
    """The most each carried trade may exit, by order id: the running trades whose entry this book does not
    list (a trade of an earlier day, whose exits filled after the last sync that saw its legs are on no
    record) share the account's NRML net position in the instrument, in the trade's direction, after what
    the trades the book does list still hold open; in order id order. None where the positions list no NRML
    position of the instrument: nothing can be told from an absence (a delivery trade becomes a holding),
    and the trade keeps exits for all it holds on record. The open quantity of a trade the book lists is
    exact."""
    net: dict[tuple[str, int, int], int] = {}
    for position in positions:
        if position.product_type == "NRML":
            for sign in (1, -1):
                key = (position.exchange_segment, position.instrument_id, sign)
                net[key] = net.get(key, 0) + max(0, position.net_qty * sign)
    carried: list[OrderRow] = []
    for order in orders:
        if order.status != TradeStatus.RUNNING:
            continue
        if book.leg(order, "entry") is None:
            carried.append(order)
        elif (key := _position_key(order)) in net:
            net[key] -= max(0, open_quantity(order, book))
    limits: dict[int, int | None] = {}
    for order in sorted(carried, key=lambda o: o.id):
        key = _position_key(order)
        if key not in net:
            limits[order.id] = None
            continue
        limits[order.id] = max(0, min(open_quantity(order, book), net[key]))
        net[key] -= limits[order.id]
    return limits


def open_quantity(order: OrderRow, book: BookIndex) -> int:
    """What the order holds open by the record and this book: its entry's fills less every exit fill known,
    those of earlier days on record included (`BookIndex.exit_fills`, as the sync step counts them)."""
    return order.filled_qty - sum(fill.qty for fill in book.exit_fills(order))


def _position_key(order: OrderRow) -> tuple[str, int, int]:
    """The instrument and the direction of the position the order holds."""
    return (order.exchange_segment, order.instrument_id, direction(order))


def plan_protection(order: OrderRow, book: BookIndex, *, oco_cancels_only: bool, max_attempts: int,
                    book_fetched_at: datetime | None, settle: timedelta,
                    carried: bool = False, exit_limit: int | None = None,
                    cancel_open_entries: bool = False) -> list[Action]:
    """For a `carried` trade (one of `carried_exit_limits`), `exit_limit` caps its exits; None: the positions
    list none of the instrument (reported every cycle, as a smaller position is). An entry request no book lists
    `settle` after it was sent is reported every cycle, never sent again. While paused (`cancel_open_entries`)
    an open entry is cancelled, and a trade that filled anyway is protected as any other."""
    entry, sl, tp = (book.leg(order, leg) for leg in ("entry", "sl", "tp"))
    if order.status == TradeStatus.CLOSED:
        return [CancelLeg(order_id=order.id, account_id=order.account_id, leg=leg, app_order_id=row.app_order_id,
                          tag=row.tag, reason="OCO: the trade is closed")
                for leg, row in (("sl", sl), ("tp", tp), ("entry", entry)) if _is_changeable(row)]
    if order.status == TradeStatus.PENDING and entry is None and order.entry_orderstatus in IN_FLIGHT_STATUSES \
            and book_fetched_at is not None and order.legs_changed_at is not None \
            and book_fetched_at >= order.legs_changed_at + settle:
        return [EntryNotSeen(order_id=order.id, account_id=order.account_id, reason=(
            f"the entry request (tag {order.entry_tag}) is not in an order book fetched {settle.total_seconds():g} s "
            "after it was sent: the broker never took it; nothing is sent again: place it anew or cancel the order"))]
    paused_cancel: list[Action] = [
        CancelLeg(order_id=order.id, account_id=order.account_id, leg="entry", app_order_id=entry.app_order_id,
                  tag=entry.tag, reason="automation paused: the open entry is cancelled")
    ] if cancel_open_entries and _is_changeable(entry) else []
    if order.status != TradeStatus.RUNNING or oco_cancels_only:
        return paused_cancel
    open_qty = open_quantity(order, book)
    product_type = entry.product_type if entry is not None else "NRML"
    actions: list[Action] = paused_cancel
    if carried and exit_limit is None and open_qty > 0:
        actions.append(PositionMismatch(order_id=order.id, account_id=order.account_id, reason=(
            f"{open_qty} open by the record, carried from an earlier day, but the broker lists no NRML position "
            f"in {order.symbol}: exits stay sized to {open_qty}; if it was closed or is a holding, reconcile it")))
    elif carried and exit_limit is not None and exit_limit < open_qty:
        actions.append(PositionMismatch(order_id=order.id, account_id=order.account_id, reason=(
            f"{open_qty} open by the record but the broker's net position leaves {exit_limit} for this trade "
            f"(the book no longer lists its earlier legs): exits sized to {exit_limit}; reconcile the order")))
        open_qty = exit_limit
    for leg, row, price in (("sl", sl, order.sl_stop_price), ("tp", tp, order.tp_price)):
        actions.extend(_duplicates(order, leg, row, book))
        if price is not None and (row is not None or _absence_is_known(order, leg, book_fetched_at, settle)):
            actions.extend(_protect_leg(order, leg, row, price, open_qty, product_type, max_attempts,
                                        book.exit_attempts(order.id, leg)))
    return actions


def protection_clock_view(order: OrderRow, book_fetched_at: datetime | None,
                          settle: timedelta) -> tuple[bool, bool] | None:
    """All that `plan_protection` reads of `book_fetched_at` for this order: the two comparisons on which
    `_absence_is_known` turns for either exit leg and on which a PENDING order's entry in flight is judged
    (None where the fetch time decides nothing; no fetch time
    decides as neither comparison holding does). A plan is the same while this, the order and the book are."""
    changed = order.legs_changed_at
    if changed is None or order.status not in (TradeStatus.RUNNING, TradeStatus.PENDING):
        return None
    if book_fetched_at is None:
        return (False, False)
    return (book_fetched_at > changed, book_fetched_at >= changed + settle)


def _absence_is_known(order: OrderRow, leg: ExitLeg, book_fetched_at: datetime | None, settle: timedelta) -> bool:
    """Whether a leg missing from this book is really missing at the broker, rather than newer than the book:
    the book was fetched after the leg last changed, or, for a request in flight, at least `settle` after it."""
    changed = order.legs_changed_at
    if order.of_leg(leg, "tag") is None or changed is None:
        return True
    if book_fetched_at is None:
        return False
    if order.of_leg(leg, "orderstatus") in IN_FLIGHT_STATUSES:
        return book_fetched_at >= changed + settle
    return book_fetched_at > changed


def _duplicates(order: OrderRow, leg: ExitLeg, kept: BrokerOrder | None, book: BookIndex) -> list[Action]:
    """Every live row at the broker for this order's leg, other than the one tracked, is cancelled (once: not
    while its cancel is under way)."""
    return [
        CancelLeg(order_id=order.id, account_id=order.account_id, leg=leg, app_order_id=row.app_order_id,
                  tag=row.tag, reason="duplicate live order for this leg")
        for row in book.live_by_leg.get((order.id, leg), ())
        if row is not kept and _is_changeable(row)
    ]


def _protect_leg(order: OrderRow, leg: ExitLeg, row: BrokerOrder | None, price: Decimal, open_qty: int,
                 product_type: str, max_attempts: int, attempts_today: Sequence[BrokerOrder]) -> list[Action]:
    """Keep one leg live at the open quantity: resize a live one (one whose cancel is under way is left to end);
    send one in flight or `NotSent` again under its own tag; place a dead one under a new attempt's tag until
    `max_attempts` rejections or MAX_LEG_PLACEMENTS_A_DAY placements today, then report the order `Unprotected`
    every cycle."""
    if _is_live(row):
        remaining = row.quantity - row.filled_qty
        if open_qty > 0 and remaining != open_qty and _is_changeable(row):
            return [ModifyLeg(order_id=order.id, account_id=order.account_id, leg=leg,
                              reason=f"resize to the open quantity {open_qty}",
                              request=ModifyRequest(app_order_id=row.app_order_id, order_type=row.order_type,
                                                    quantity=row.filled_qty + open_qty, tag=row.tag,
                                                    product_type=row.product_type, limit_price=row.limit_price,
                                                    stop_price=row.stop_price))]
        return []
    if open_qty <= 0:
        return []
    tag: str | None = order.of_leg(leg, "tag")
    status: OrderStatus | None = order.of_leg(leg, "orderstatus")
    parsed = parse_tag(tag)
    attempt = parsed[2] if parsed else 0
    if tag is not None and row is None and status in IN_FLIGHT_STATUSES | {OrderStatus.NOT_SENT}:
        return [_place(order, leg, attempt, price, open_qty, product_type, tag=tag)]
    rejected_now = status == OrderStatus.REJECTED or (row is not None and row.status == OrderStatus.REJECTED)
    rejections = order.of_leg(leg, "rejections") + (1 if rejected_now else 0)
    if rejections >= max_attempts or len(attempts_today) >= MAX_LEG_PLACEMENTS_A_DAY:
        why = row.reject_reason if row is not None and row.reject_reason else (status or "not placed")
        return [Unprotected(order_id=order.id, account_id=order.account_id, leg=leg,
                            reason=f"{leg.upper()} rejected {rejections} times, placed {len(attempts_today)} "
                                   f"times today (last: {why}); the position is unprotected")]
    return [msgspec.structs.replace(_place(order, leg, attempt + 1, price, open_qty, product_type),
                                    rejections=rejections)]


def _place(order: OrderRow, leg: ExitLeg, attempt: int, price: Decimal, qty: int, product_type: str,
           tag: str | None = None) -> PlaceLeg:
    if leg == "sl":
        request = OrderRequest(exchange_segment=order.exchange_segment, instrument_id=order.instrument_id,
                               symbol=order.symbol,
                               side=exit_side(order), order_type="STOPLIMIT", quantity=qty,
                               tag=tag or order_tag(order.id, leg, attempt), product_type=product_type,
                               limit_price=price, stop_price=price)
    else:
        request = OrderRequest(exchange_segment=order.exchange_segment, instrument_id=order.instrument_id,
                               symbol=order.symbol,
                               side=exit_side(order), order_type="LIMIT", quantity=qty,
                               tag=tag or order_tag(order.id, leg, attempt), product_type=product_type,
                               limit_price=price)
    return PlaceLeg(order_id=order.id, account_id=order.account_id, leg=leg, attempt=attempt, request=request,
                    resend=tag is not None)


# --- The modify-entries and modify-stop-losses steps: fair-price modifications -------------------


class FairPriceCheck(msgspec.Struct, frozen=True):
    """Why a modification rule could not judge an order: no fair price, or one too old."""

    reason: Literal["missing", "stale"]


def usable_fair_price(fair: FairPrice | None, now: datetime, max_age: timedelta) -> FairPrice | FairPriceCheck:
    if fair is None:
        return FairPriceCheck("missing")
    if fresh_fair_price(fair, now, max_age) is None:
        return FairPriceCheck("stale")
    return fair


def plan_entry_modification(order: OrderRow, book: BookIndex, fair: FairPrice | FairPriceCheck, *,
                            max_entry_modifications: int) -> ModifyLeg | FairPriceCheck | None:
    """An open, untriggered stop entry whose stop the fair price has crossed becomes a LIMIT at the fair price.

    An order that qualifies but has no usable fair price gets the check back, to be counted, never guessed.
    """
    entry = book.leg(order, "entry")
    if (order.status not in (TradeStatus.ENTRY_OPEN, TradeStatus.PENDING) or entry is None
            or entry.status != OrderStatus.TRIGGER_PENDING
            or entry.order_type not in STOP_TYPES or order.entry_stop_price is None
            or order.entry_modifications >= max_entry_modifications):
        return None
    if isinstance(fair, FairPriceCheck):
        return fair
    if order.side == "BUY":
        crossed, fair_price = fair.buy_fair_price >= order.entry_stop_price, fair.buy_fair_price
    else:
        crossed, fair_price = fair.sell_fair_price <= order.entry_stop_price, fair.sell_fair_price
    if not crossed:
        return None
    limit = to_tick(fair_price, order.side)
    return ModifyLeg(order_id=order.id, account_id=order.account_id, leg="entry",
                     reason=f"fair price {fair_price} crossed the entry stop {order.entry_stop_price}",
                     request=ModifyRequest(app_order_id=entry.app_order_id, order_type="LIMIT",
                                           quantity=entry.quantity, tag=entry.tag, product_type=entry.product_type,
                                           limit_price=limit))


def plan_stop_loss_modification(order: OrderRow, book: BookIndex,
                                fair: FairPrice | FairPriceCheck) -> ModifyLeg | FairPriceCheck | None:
    """A live stop-loss whose stop the fair price has crossed (a gap) becomes a LIMIT at the fair price."""
    sl = book.leg(order, "sl")
    if (order.status != TradeStatus.RUNNING or not _is_changeable(sl) or sl.order_type not in STOP_TYPES
            or order.sl_stop_price is None):
        return None
    if isinstance(fair, FairPriceCheck):
        return fair
    if order.side == "BUY":
        crossed, fair_price = fair.sell_fair_price <= order.sl_stop_price, fair.sell_fair_price
    else:
        crossed, fair_price = fair.buy_fair_price >= order.sl_stop_price, fair.buy_fair_price
    if not crossed:
        return None
    side = exit_side(order)
    return ModifyLeg(order_id=order.id, account_id=order.account_id, leg="sl",
                     reason=f"fair price {fair_price} crossed the stop-loss {order.sl_stop_price}",
                     request=ModifyRequest(app_order_id=sl.app_order_id, order_type="LIMIT",
                                           quantity=sl.quantity, tag=sl.tag, product_type=sl.product_type,
                                           limit_price=to_tick(fair_price, side)))
