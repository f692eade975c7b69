"""How Python values cross into SQL parameters, common to both dialects.

Owns the rules every write obeys: money is a `Decimal` rounded half-up to the 4 places of DECIMAL(18,4)
and inside its range, times are timezone-aware (stored as UTC), booleans are 0/1, and a float is refused
outright (money must never pass through binary floating point). A `JsonDocument` is UTF-8 JSON for a text
column, which each dialect binds in its cheapest safe way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from domain.errors import DatabaseError

MONEY_PLACES = Decimal("0.0001")
MONEY_LIMIT = Decimal(10) ** 14
"""DECIMAL(18,4) holds 14 integer digits."""


class JsonDocument:
    """UTF-8 encoded JSON for a text column (the event log's payloads). MySQL receives it as a hex literal:
    a kilobyte of JSON costs no per-character escaping, and nothing in it can end the literal."""

    __slots__ = ("utf8",)

    def __init__(self, utf8: bytes) -> None:
        self.utf8 = utf8


def money(value: Decimal) -> Decimal:
    """`value` rounded to DECIMAL(18,4), or DatabaseError if it does not fit."""
    try:
        rounded = value.quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise DatabaseError("a money value is not a finite number within DECIMAL(18,4)") from None
    if not rounded.is_finite() or abs(rounded) >= MONEY_LIMIT:
        raise DatabaseError("a money value is out of the range of DECIMAL(18,4)")
    return rounded if rounded else rounded.copy_abs()


def utc(value: datetime) -> datetime:
    """`value` in UTC; a naive datetime is a bug (its zone is unknown) and is refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise TypeError("naive datetime passed to the store: times must be timezone-aware")
    return value.astimezone(UTC)


def common_param(value: Any) -> Any:
    """The dialect-neutral part of parameter conversion; datetimes are left to the dialect."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        raise TypeError("float passed to the store: money must be Decimal, quantities int")
    if isinstance(value, Decimal):
        return money(value)
    return value
