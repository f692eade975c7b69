"""The engine's orders, fills and positions as Kite Connect v3 rows (BROKER_KITE.md): Kite's field names,
spellings and JSON types, with the tables from the engine's vocabulary to Kite's.

The paper models the broker on its own: these tables are the paper's, not imported from an adapter.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from adapters.broker.paper.simulator import EXCHANGE_TZ, Fill, Position, SimOrder

EXCHANGES: Mapping[str, str] = {
    "NSECM": "NSE", "NSEFO": "NFO", "BSECM": "BSE", "BSEFO": "BFO", "NSECD": "CDS", "MCXFO": "MCX",
}
"""Kite's exchange of each engine segment."""
SEGMENTS: Mapping[str, str] = {exchange: segment for segment, exchange in EXCHANGES.items()}
ORDER_TYPES: Mapping[str, str] = {"MARKET": "MARKET", "LIMIT": "LIMIT", "SL": "STOPLIMIT", "SL-M": "STOPMARKET"}
"""The engine's order type of each Kite order type."""
KITE_ORDER_TYPES: Mapping[str, str] = {engine: kite for kite, engine in ORDER_TYPES.items()}
STATUSES: Mapping[str, str] = {
    "New": "OPEN",
    "PartiallyFilled": "OPEN",
    "Trigger Pending": "TRIGGER PENDING",
    "Filled": "COMPLETE",
    "Cancelled": "CANCELLED",
    "Expired": "CANCELLED",
    "Rejected": "REJECTED",
    "Replaced": "OPEN",
    "PendingNew": "OPEN PENDING",
    "PendingCancel": "CANCEL PENDING",
    "PendingReplace": "MODIFY PENDING",
}
"""Kite's status of each engine status: no partial-fill status (OPEN with filled_quantity)."""
VARIETY = "regular"
"""The only variety the paper broker takes."""


def kite_time(moment: datetime) -> str:
    """An aware time as Kite's `YYYY-MM-DD HH:MM:SS`, IST, no zone."""
    return moment.astimezone(EXCHANGE_TZ).strftime("%Y-%m-%d %H:%M:%S")


def order_row(order: SimOrder) -> dict[str, Any]:
    """An order (or one state of its history) as Kite lists it; `order_timestamp` is the last modification's."""
    at_exchange = order.status != "Rejected"
    unfilled = order.quantity - order.filled_qty
    return {
        "placed_by": order.client_id,
        "order_id": str(order.app_order_id),
        "exchange_order_id": order.exchange_order_id if at_exchange else None,
        "parent_order_id": None,
        "status": STATUSES[order.status],
        "status_message": order.reject_reason or None,
        "order_timestamp": kite_time(order.modified_at or order.created_at),
        "exchange_timestamp": kite_time(order.created_at) if at_exchange else None,
        "exchange_update_timestamp": kite_time(order.updated_at) if at_exchange else None,
        "variety": VARIETY,
        "modified": order.modified_at is not None,
        "exchange": EXCHANGES[order.instrument.segment],
        "tradingsymbol": order.instrument.symbol,
        "instrument_token": order.instrument.instrument_id,
        "order_type": KITE_ORDER_TYPES[order.order_type],
        "transaction_type": order.side,
        "validity": order.time_in_force,
        "product": order.product_type,
        "quantity": order.quantity,
        "disclosed_quantity": order.disclosed_qty,
        "price": order.limit_price,
        "trigger_price": order.stop_price,
        "average_price": order.avg_price or Decimal(0),
        "filled_quantity": order.filled_qty,
        "pending_quantity": unfilled if order.is_open else 0,
        "cancelled_quantity": unfilled if order.status in ("Cancelled", "Expired") else 0,
        "meta": {},
        "tag": order.tag or None,
        "tags": [order.tag] if order.tag else [],
    }


def trade_row(fill: Fill) -> dict[str, Any]:
    order = fill.order
    return {
        "trade_id": fill.execution_id,
        "order_id": str(order.app_order_id),
        "exchange_order_id": order.exchange_order_id,
        "exchange": EXCHANGES[order.instrument.segment],
        "tradingsymbol": order.instrument.symbol,
        "instrument_token": order.instrument.instrument_id,
        "product": order.product_type,
        "transaction_type": order.side,
        "quantity": fill.quantity,
        "average_price": fill.price,
        "fill_timestamp": kite_time(fill.at),
        "exchange_timestamp": kite_time(fill.at),
        "order_timestamp": fill.at.astimezone(EXCHANGE_TZ).strftime("%H:%M:%S"),
    }


def positions_data(net: list[Position], day: list[Position]) -> dict[str, list[dict[str, Any]]]:
    """`{net, day}`: a net row's `day_*` fields are its instrument's day-wise trading, its
    `overnight_quantity` what it carried into today."""
    today = {_key(position): position for position in day}
    net_rows = []
    for position in net:
        traded_today = today.get(_key(position))
        carried = position.net_qty - (traded_today.net_qty if traded_today else 0)
        net_rows.append(_position_row(position, traded_today, carried))
    return {"net": net_rows, "day": [_position_row(position, position, 0) for position in day]}


def _key(position: Position) -> tuple[str, int, str]:
    return position.instrument.segment, position.instrument.instrument_id, position.product_type


def _position_row(position: Position, today: Position | None, overnight_quantity: int) -> dict[str, Any]:
    quantity, zero = position.net_qty, Decimal(0)
    return {
        "tradingsymbol": position.instrument.symbol,
        "exchange": EXCHANGES[position.instrument.segment],
        "instrument_token": position.instrument.instrument_id,
        "product": position.product_type,
        "quantity": quantity,
        "overnight_quantity": overnight_quantity,
        "multiplier": 1,
        "average_price": position.buy_avg if quantity > 0 else position.sell_avg if quantity < 0 else zero,
        "last_price": position.instrument.ltp or zero,
        "value": position.sell_value - position.buy_value,
        "pnl": position.mtm,
        "m2m": position.mtm,
        "realised": position.realized,
        "unrealised": position.unrealized,
        "buy_quantity": position.buy_qty,
        "buy_price": position.buy_avg,
        "buy_value": position.buy_value,
        "sell_quantity": position.sell_qty,
        "sell_price": position.sell_avg,
        "sell_value": position.sell_value,
        "day_buy_quantity": today.buy_qty if today else 0,
        "day_buy_price": today.buy_avg if today else zero,
        "day_buy_value": today.buy_value if today else zero,
        "day_sell_quantity": today.sell_qty if today else 0,
        "day_sell_price": today.sell_avg if today else zero,
        "day_sell_value": today.sell_value if today else zero,
    }
