"""A desk's own fair prices as `POST /api/fair-prices` and `run.py fair-prices set` take them, one check for both:
the body decodes as a `DeskFairPricesRequest` (1 to 5,000 entries, symbols of 1 to 64 characters, prices decoded
exactly), no symbol comes twice, and every price can be kept as given (`domain.prices`). What passes becomes the
desk's `FairPrice` rows stamped with one time; anything refused is refused whole, naming its entry."""

from __future__ import annotations

from datetime import datetime

import msgspec

from domain.prices import price_problem
from domain.records import FairPrice
from messages.api import DeskFairPricesRequest

_decoder = msgspec.json.Decoder(DeskFairPricesRequest)


class DeskPricesRefused(ValueError):
    """The prices were not written; `message` says which entry, and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def desk_prices(body: bytes, now: datetime) -> list[FairPrice]:
    """The desk's prices in `body` (JSON), each `updated_at` `now`; DeskPricesRefused when any is refused."""
    try:
        request = _decoder.decode(body)
    except msgspec.DecodeError as error:
        raise DeskPricesRefused(f"invalid request: {error}") from None
    seen: set[str] = set()
    for index, entry in enumerate(request.prices):
        where = f"prices[{index}] ({entry.symbol!r})"
        if entry.symbol in seen:
            raise DeskPricesRefused(f"{where}: the symbol is given twice")
        seen.add(entry.symbol)
        for name in ("buy_fair_price", "sell_fair_price"):
            if problem := price_problem(name, getattr(entry, name)):
                raise DeskPricesRefused(f"{where}: {problem}")
    return [FairPrice(symbol=entry.symbol, buy_fair_price=entry.buy_fair_price,
                      sell_fair_price=entry.sell_fair_price, updated_at=now, source="desk")
            for entry in request.prices]
