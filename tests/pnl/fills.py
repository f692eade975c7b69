"""Builders for the PnL tests: fills and broker orders with only the fields a test cares about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.broker import BrokerOrder
from domain.pnl import Fill

OPEN = datetime(2026, 1, 5, 3, 45, tzinfo=UTC)
"""09:15 IST, the session's open, in UTC."""


def at(minute: int) -> datetime:
    return OPEN + timedelta(minutes=minute)


def fill(order_id: int, side: str, qty: int, price: str, minute: int, symbol: str = "INFY") -> Fill:
    return Fill(order_id=order_id, symbol=symbol, side=side, qty=qty, price=Decimal(price), time=at(minute))


def broker_order(app_order_id: int, side: str, quantity: int, filled_qty: int, avg_price: str | None,
                 status: str = "Filled", symbol: str = "INFY", created_at: datetime | None = OPEN,
                 updated_at: datetime | None = None) -> BrokerOrder:
    return BrokerOrder(
        client_id="CLIENT1", app_order_id=app_order_id, exchange_segment="NSECM", instrument_id=1594,
        symbol=symbol, side=side, order_type="LIMIT", product_type="MIS", quantity=quantity,
        status=status, filled_qty=filled_qty, leaves_qty=quantity - filled_qty,
        avg_price=None if avg_price is None else Decimal(avg_price),
        created_at=created_at, updated_at=updated_at,
    )
