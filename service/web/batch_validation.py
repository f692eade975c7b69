"""Whether an entry of the batch API can be stored and sent as given: it decodes as a `BatchOrder` (types,
and the bounds of the columns it goes into), the order type's prices are present (and only those), every
price is above zero, fits DECIMAL(18,4) and is on the tick, and the stop-loss and take-profit sit on their
sides of the entry. Pure: it reads only the order, so it knows nothing of accounts, sessions or the broker.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from domain.prices import price_problem
from messages.api import BatchOrder

TICK = Decimal("0.05")

_order_decoder = msgspec.json.Decoder(BatchOrder)


def decode_order(raw: bytes) -> BatchOrder | str:
    """The order, or why it is not one (a wrong type, an unknown field, a bound of its column)."""
    try:
        return _order_decoder.decode(raw)
    except msgspec.DecodeError as error:
        return f"not a valid order: {error}"


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
        problem = None if price is None else _price_problem(name, price)
        if problem:
            return problem
    reference = order.entry_limit_price or order.entry_stop_price
    if reference is not None:
        below, above = (order.sl_stop_price, order.tp_price) if order.side == "BUY" else (order.tp_price,
                                                                                             order.sl_stop_price)
        if below is not None and below >= reference:
            return f"the {'stop-loss' if order.side == 'BUY' else 'take-profit'} must be below the entry {reference}"
        if above is not None and above <= reference:
            return f"the {'take-profit' if order.side == 'BUY' else 'stop-loss'} must be above the entry {reference}"
    return None


def _price_problem(name: str, price: Decimal) -> str | None:
    """The price's bounds first (`price_problem`), so that the tick's arithmetic never meets an unbounded number."""
    if problem := price_problem(name, price):
        return problem
    if price % TICK:
        return f"{name} {price.normalize():f} is not a multiple of the 0.05 tick"
    return None
