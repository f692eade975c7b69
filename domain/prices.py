"""What a price must be for the system of record to keep it exactly, DECIMAL(18,4): above zero, below 10^14, at
most 4 decimal places. Pure. The batch API adds the tick to it; a desk's fair prices are held to it alone."""

from __future__ import annotations

from decimal import Decimal

PRICE_LIMIT = Decimal(10) ** 14
"""DECIMAL(18,4) holds 14 digits before the point: every price is below this."""
PRICE_PLACES = 4
"""DECIMAL(18,4) keeps 4 places after the point."""


def price_problem(name: str, price: Decimal) -> str | None:
    """Why `price` (called `name`) cannot be kept as given, or None. Checked in this order, so that no
    arithmetic ever meets an unbounded number (1e1000000, 1e-1000000)."""
    if not price.is_finite() or price <= 0:
        return f"{name} must be a price above zero"
    if price >= PRICE_LIMIT:
        return f"{name} must be below {PRICE_LIMIT:f}"
    if price != round(price, PRICE_PLACES):
        return f"{name} has more than {PRICE_PLACES} decimal places"
    return None
