"""HTTP API payloads (JSON bodies and answers) as msgspec Structs. No logic."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

import msgspec

from adapters.broker.types import OrderType, Side

Positive = Annotated[int, msgspec.Meta(gt=0)]
Price = Decimal
"""Validated above zero and on the tick by the API (msgspec bounds only numbers it parses as such)."""
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class BatchOrder(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One entry of `POST /api/algo-place-batch-orders`: an entry order with its future SL and TP."""

    account_id: int
    strategy: Name
    symbol: Name
    exchange_segment: Literal["NSECM", "NSEFO", "NSECD", "MCXFO", "BSECM", "BSEFO"]
    instrument_id: Positive
    side: Side
    quantity: Positive
    entry_type: OrderType
    entry_stop_price: Price | None = None
    entry_limit_price: Price | None = None
    sl_stop_price: Price | None = None
    tp_price: Price | None = None
    product_type: Literal["MIS", "NRML", "CNC"] = "NRML"


class BatchRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    orders: Annotated[tuple[BatchOrder, ...], msgspec.Meta(min_length=1, max_length=200)]


class BatchResult(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    outcome: Literal["placed", "rejected", "in_flight", "invalid"]
    order_id: int | None = None
    tag: str = ""
    broker_order_id: int | None = None
    reason: str = ""


class SessionRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`POST /api/accounts/{id}/session`: a token from the broker's own login, or none to log in with the
    account's stored app key and secret key."""

    token: Annotated[str, msgspec.Meta(min_length=1, max_length=4096)] | None = None


class PauseRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=200)] = "paused by the user"
