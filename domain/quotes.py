"""A market quote and the fair prices a model makes of it: the buy fair price (what buying costs now) and the
sell fair price (what selling fetches now), as `mainapp_fairprice` holds them for Steps 5 and 6 and for marking
open lots.

Models, chosen per instrument, else per segment, else the default:
- `touch` (the default): buy at the best ask, sell at the best bid — the prices one could trade at now;
- `mid`: the mid-price, `ticks` ticks above it to buy and below it to sell;
- `ltp`: the last traded price for both (not a price one could trade at: for instruments with no book).
A quote the model cannot price (an empty side, a crossed book, no last price) gives no fair prices, never a
guess: the instrument keeps its last ones, whose age then tells they are stale. Pure; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

import msgspec

from domain.time import UtcDateTime

FOUR_PLACES = Decimal("0.0001")
"""`mainapp_fairprice` keeps prices to four decimals (DECIMAL(18,4))."""


class Quote(msgspec.Struct, frozen=True, kw_only=True):
    """One instrument's market as a feed last saw it. A side with no price (an empty book side) is None."""

    exchange_segment: str
    instrument_id: int
    bid: Decimal | None
    ask: Decimal | None
    ltp: Decimal | None
    at: UtcDateTime
    """When the exchange last updated it."""


class WatchedInstrument(msgspec.Struct, frozen=True, kw_only=True):
    """An instrument some monitored user has an open order or position in: what the feed prices."""

    exchange_segment: str
    instrument_id: int
    symbol: str


class FairModel(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["touch", "mid", "ltp"] = "touch"
    ticks: int = 0
    """`mid` only: how many ticks above the mid-price to buy and below it to sell (0 or more)."""
    tick: Decimal = Decimal("0.05")

    def __post_init__(self) -> None:
        if self.ticks < 0:
            raise ValueError(f"ticks must be 0 or more, not {self.ticks}")
        if self.tick <= 0:
            raise ValueError(f"tick must be positive, not {self.tick}")


class FairModels(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which model prices an instrument: `instruments` by trading symbol first, then `segments` by segment."""

    default: FairModel = FairModel()
    segments: Mapping[str, FairModel] = msgspec.field(default_factory=dict)
    instruments: Mapping[str, FairModel] = msgspec.field(default_factory=dict)

    def of(self, symbol: str, exchange_segment: str) -> FairModel:
        return self.instruments.get(symbol) or self.segments.get(exchange_segment) or self.default


def fair_prices(quote: Quote, model: FairModel) -> tuple[Decimal, Decimal] | None:
    """(buy, sell) fair prices of `quote` under `model`, to four decimals; None when it cannot price it."""
    if model.kind == "ltp":
        if quote.ltp is None or quote.ltp <= 0:
            return None
        return _four(quote.ltp), _four(quote.ltp)
    bid, ask = quote.bid, quote.ask
    if bid is None or ask is None or bid <= 0 or ask <= 0 or bid > ask:
        return None
    if model.kind == "touch":
        return _four(ask), _four(bid)
    mid, spread = (bid + ask) / 2, model.tick * model.ticks
    sell = mid - spread
    if sell <= 0:
        return None
    return _four(mid + spread), _four(sell)


def _four(price: Decimal) -> Decimal:
    return price.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)
