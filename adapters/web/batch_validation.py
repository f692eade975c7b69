"""Whether an entry of the batch API can be sent as given: the order type's prices present (and only
those), every price above zero and on the tick, the stop-loss and take-profit on their sides of the entry.
Pure: it reads only the order, so it knows nothing of accounts, sessions or the broker.
"""

from __future__ import annotations

from decimal import Decimal

from messages.api import BatchOrder

TICK = Decimal("0.05")


def order_problem(order: BatchOrder) -> str | None:
    """Why an entry cannot be sent as given, in a trader's words, or None."""
    needs_limit = order.entry_type in ("LIMIT", "STOPLIMIT")
    needs_stop = order.entry_type in ("STOPLIMIT", "STOPMARKET")
    if needs_limit != (order.entry_limit_price is not None):
        return f"{order.entry_type} entry {'needs' if needs_limit else 'takes no'} entry_limit_price"
    if needs_stop != (order.entry_stop_price is not None):
        return f"{order.entry_type} entry {'needs' if needs_stop else 'takes no'} entry_stop_price"
    for name in ("entry_stop_price", "entry_limit_price", "sl_stop_price", "tp_price"):
        price = getattr(order, name)
        if price is None:
            continue
        if not price.is_finite() or price <= 0:
            return f"{name} must be a price above zero"
        if price % TICK:
            return f"{name} {price} is not a multiple of the 0.05 tick"
    reference = order.entry_limit_price or order.entry_stop_price
    if reference is not None:
        below, above = (order.sl_stop_price, order.tp_price) if order.side == "BUY" else (order.tp_price,
                                                                                             order.sl_stop_price)
        if below is not None and below >= reference:
            return f"the {'stop-loss' if order.side == 'BUY' else 'take-profit'} must be below the entry {reference}"
        if above is not None and above <= reference:
            return f"the {'take-profit' if order.side == 'BUY' else 'stop-loss'} must be above the entry {reference}"
    return None
