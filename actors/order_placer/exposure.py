"""What the protect step leaves needing the trader, for the cycle summary's notices: running trades without a
live stop-loss, and entries the broker never took.

Pure: from the orders as the sync step left them, the protect step's planned actions and what became of its
requests. It decides nothing that is sent.
"""

from __future__ import annotations

from collections.abc import Sequence

from actors.order_placer.rules import Action, EntryNotSeen, PlaceLeg, Unprotected
from domain.records import OrderRow
from domain.status import IN_FLIGHT_STATUSES, OPEN_STATUSES, TradeStatus
from messages.events import OrderAction, OrderAttention

Planned = Sequence[tuple[OrderRow, Action]]


def unprotected_trades(orders: Sequence[OrderRow], planned: Planned, done: Sequence[OrderAction], *,
                       oco_cancels_only: bool) -> tuple[OrderAttention, ...]:
    """The running trades left without a live stop-loss, in the order of `orders`: those still holding a
    quantity by their record (filled less every exit fill on record). A stop-loss in flight is not reported:
    the next order book tells."""
    gave_up = {action.order_id: action.reason for _, action in planned
               if isinstance(action, Unprotected) and action.leg == "sl"}
    placed = {action.request.tag for _, action in planned if isinstance(action, PlaceLeg) and action.leg == "sl"}
    refused = {request.order_id: request.detail for request in done
               if request.action == "rejected" and request.tag in placed}
    found = []
    for order in orders:
        if order.status != TradeStatus.RUNNING or order.filled_qty <= sum(fill.qty for fill in order.exit_fills):
            continue
        reason = _why_unprotected(order, gave_up, refused, oco_cancels_only)
        if reason:
            found.append(OrderAttention(order_id=order.id, account_id=order.account_id, symbol=order.symbol,
                                        reason=reason))
    return tuple(found)


def _why_unprotected(order: OrderRow, gave_up: dict[int, str], refused: dict[int, str],
                     oco_cancels_only: bool) -> str:
    if order.sl_stop_price is None:
        return "it was sent without a stop-loss price"
    if order.id in gave_up:
        return gave_up[order.id]
    if order.id in refused:
        return f"its stop-loss was not placed ({refused[order.id]}); it is placed again next cycle"
    if oco_cancels_only and order.sl_orderstatus not in OPEN_STATUSES | IN_FLIGHT_STATUSES:
        return "automation is paused and places no stop-loss"
    return ""


def entries_not_seen(planned: Planned) -> tuple[OrderAttention, ...]:
    """The entries whose request no order book lists long after it was sent, as the rules found them."""
    return tuple(OrderAttention(order_id=order.id, account_id=order.account_id, symbol=order.symbol,
                                reason=action.reason)
                 for order, action in planned if isinstance(action, EntryNotSeen))
