"""A Kite order request's form (or query) read into the engine's `OrderTicket` or `Amendment`, with Kite's
refusals (an InputException saying why): variety `regular` only, the tag rule, `market_protection` on MARKET
and SL-M, the prices each order type needs. No HTTP here: `kite_routes.py` answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.broker.paper.kite_rows import KITE_ORDER_TYPES, ORDER_TYPES, SEGMENTS, STATUSES, VARIETY
from adapters.broker.paper.simulator import MAX_TAG_LENGTH, PRODUCT_TYPES, Amendment, Instrument, OrderTicket, SimOrder


class Refused(Exception):
    """A request Kite refuses with an InputException; `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message



def _number(fields: Mapping[str, Any], name: str, default: Decimal) -> Decimal:
    raw = fields.get(name)
    if raw in (None, ""):
        return default
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise Refused(f"`{name}` must be a number") from None
    if not value.is_finite() or value < 0:
        raise Refused(f"`{name}` must be a number, not below 0")
    return value


def _whole(fields: Mapping[str, Any], name: str, default: int) -> int:
    value = _number(fields, name, Decimal(default))
    if value != value.to_integral_value():
        raise Refused(f"`{name}` must be a whole number")
    return int(value)


def _choice(fields: Mapping[str, Any], name: str, allowed: Mapping[str, str] | frozenset[str], default: str = ""
            ) -> str:
    value = str(fields.get(name) or default)
    if value not in allowed:
        raise Refused(f"`{name}` must be one of {', '.join(sorted(allowed))}")
    return value


def _order_type(fields: Mapping[str, Any], default: str = "") -> str:
    """The Kite order type; MARKET and SL-M need `market_protection` -1 (automatic) or 1 to 100 (percent)."""
    order_type = _choice(fields, "order_type", ORDER_TYPES, default)
    if order_type in ("MARKET", "SL-M") and ("order_type" in fields or not default):
        raw = str(fields.get("market_protection", ""))
        try:
            protection = Decimal(raw)
        except InvalidOperation:
            protection = Decimal(0)
        if not (protection == -1 or 1 <= protection <= 100):
            raise Refused(f"`market_protection` must be -1 or 1 to 100 for {order_type} orders")
    return order_type


def check_variety(variety: str) -> None:
    if variety != VARIETY:
        raise Refused(f"The paper broker supports the `{VARIETY}` variety only, not `{variety}`.")


def ticket(client_id: str, variety: str, fields: Mapping[str, Any],
           instruments: Callable[[str, str], Instrument | None]) -> OrderTicket:
    """What a place asks for, in the engine's vocabulary; `instruments` finds one by segment and symbol."""
    check_variety(variety)
    exchange = _choice(fields, "exchange", SEGMENTS)
    symbol = str(fields.get("tradingsymbol", ""))
    instrument = instruments(SEGMENTS[exchange], symbol)
    if instrument is None:
        raise Refused(f"Unknown instrument {exchange}:{symbol}.")
    tag = str(fields.get("tag", ""))
    if tag and not (len(tag) <= MAX_TAG_LENGTH and tag.isascii() and tag.isalnum()):
        raise Refused(f"`tag` must be at most {MAX_TAG_LENGTH} alphanumeric characters")
    order_type = _order_type(fields)
    return OrderTicket(
        client_id=client_id, segment=instrument.segment, instrument_id=instrument.instrument_id,
        side=_choice(fields, "transaction_type", frozenset({"BUY", "SELL"})),
        order_type=ORDER_TYPES[order_type], product_type=_choice(fields, "product", PRODUCT_TYPES),
        quantity=_positive(fields, "quantity", 0), limit_price=_price(fields, "price", order_type, ("LIMIT", "SL")),
        stop_price=_price(fields, "trigger_price", order_type, ("SL", "SL-M")), tag=tag,
        time_in_force=_choice(fields, "validity", frozenset({"DAY"}), "DAY"),
        disclosed_qty=_whole(fields, "disclosed_quantity", 0),
    )


def _positive(fields: Mapping[str, Any], name: str, default: int) -> int:
    value = _whole(fields, name, default)
    if value <= 0:
        raise Refused(f"`{name}` must be above 0")
    return value


def _price(fields: Mapping[str, Any], name: str, order_type: str, needed_by: tuple[str, ...],
           default: Decimal = Decimal(0)) -> Decimal:
    """A price the order type needs (above 0); 0 for one it does not."""
    if order_type not in needed_by:
        return Decimal(0)
    value = _number(fields, name, default)
    if value <= 0:
        raise Refused(f"`{name}` must be above 0 for {order_type} orders")
    return value


def amendment(variety: str, order: SimOrder, fields: Mapping[str, Any]) -> Amendment:
    """What a modify asks for; what it leaves out stays as the order has it (the product cannot change)."""
    check_variety(variety)
    if not order.is_open:
        raise Refused(f"Order cannot be modified: it is {STATUSES[order.status]}.")
    order_type = _order_type(fields, KITE_ORDER_TYPES[order.order_type])
    return Amendment(
        app_order_id=order.app_order_id, order_type=ORDER_TYPES[order_type], product_type=order.product_type,
        quantity=_positive(fields, "quantity", order.quantity),
        limit_price=_price(fields, "price", order_type, ("LIMIT", "SL"), order.limit_price),
        stop_price=_price(fields, "trigger_price", order_type, ("SL", "SL-M"), order.stop_price),
        time_in_force=_choice(fields, "validity", frozenset({"DAY"}), order.time_in_force),
        disclosed_qty=_whole(fields, "disclosed_quantity", order.disclosed_qty),
    )
