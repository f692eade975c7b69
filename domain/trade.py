"""What every room asks of a trade: its direction, the fair price an open position is marked at, and whether a
fair price is fresh enough to decide for it."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from domain.records import FairPrice, OrderRow


def direction(order: OrderRow) -> int:
    """+1 for a long trade (BUY entry), -1 for a short one."""
    return 1 if order.side == "BUY" else -1


def exit_fair_price(fair: FairPrice, long: bool) -> Decimal:
    """The side an open position would exit at: the sell fair price for a long (what selling fetches), the buy
    fair price for a short (what buying back costs)."""
    return fair.sell_fair_price if long else fair.buy_fair_price


def fresh_fair_price(fair: FairPrice | None, now: datetime, max_age: timedelta) -> FairPrice | None:
    """`fair` while it is at most `max_age` old at `now`, else None: the one rule of a usable fair price."""
    return fair if fair is not None and now - fair.updated_at <= max_age else None
