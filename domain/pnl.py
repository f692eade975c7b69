"""Profit and loss in the domain: a fill, a FIFO match that closed part of a lot, a lot still open (marked to a
price, or not marked), and the result of matching one account's fills."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec

from domain.broker import Side
from domain.time import UtcDateTime

Direction = Literal["LONG", "SHORT"]


class Fill(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A quantity of one order executed at one price: one order's filled qty at its average price."""

    order_id: int
    symbol: str
    side: Side
    qty: int
    price: Decimal
    time: UtcDateTime


class Match(msgspec.Struct, frozen=True, gc=False):
    """`qty` units of the entry order's lot closed by the exit order."""

    symbol: str
    entry_order_id: int
    exit_order_id: int
    direction: Direction
    qty: int
    entry_price: Decimal
    exit_price: Decimal
    realized_pnl: Decimal


class OpenLot(msgspec.Struct, frozen=True, gc=False):
    """What is still open of one order's fill; `mark` and `unrealized_pnl` are None without a mark."""

    symbol: str
    order_id: int
    direction: Direction
    qty: int
    entry_price: Decimal
    mark: Decimal | None = None
    unrealized_pnl: Decimal | None = None


class FifoResult(msgspec.Struct, frozen=True):
    """Matches in the order they closed; open lots by symbol, oldest first within a symbol."""

    matches: tuple[Match, ...]
    open_lots: tuple[OpenLot, ...]
