"""The paper broker's market data as XTS publishes it (MARKETDATA_XTS.md): an instrument's touchline (1501)
and five-level market depth (1502) in the Full JSON shape, the same text for a socket event and for a
`listQuotes` item of a subscription or quotes answer.

Owns rendering only: prices as JSON numbers (integers when whole), times as whole seconds from 1980-01-01
00:00 IST, XTS's own spellings (`LastTradedQunatity`). The paper has no market volume: its traded quantities
and values are 0. Every depth level holds `LEVEL_SIZE` units in one order; the best levels are the
instrument's bid and ask, deeper ones a tick apart, a level at or below zero empty (price and size 0).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from adapters.broker.paper.simulator import EXCHANGE_TZ, SEGMENT_CODES, TICK, Instrument

TOUCHLINE = 1501
MARKET_DEPTH = 1502
MESSAGE_CODES = (TOUCHLINE, MARKET_DEPTH)
DEPTH_LEVELS = 5
LEVEL_SIZE = 100
XTS_EPOCH = datetime(1980, 1, 1, tzinfo=EXCHANGE_TZ)
"""Market data times count seconds from here (unix time = value + 315513000)."""
_json = msgspec.json.Encoder(decimal_format="number")


def xts_seconds(moment: datetime | None) -> int:
    return 0 if moment is None else int((moment - XTS_EPOCH).total_seconds())


def _number(price: Decimal | None) -> int | Decimal:
    if price is None:
        return 0
    return int(price) if price == price.to_integral_value() else price.normalize()


def _level(price: Decimal | None, *, bid: bool) -> dict[str, Any]:
    size = LEVEL_SIZE if price is not None and price > 0 else 0
    level: dict[str, Any] = {"Size": size, "Price": _number(price) if size else 0, "TotalOrders": 1 if size else 0}
    if bid:
        level["BuyBackMarketMaker"] = 0
    return level


def _levels(best: Decimal | None, step: Decimal, *, bid: bool) -> list[dict[str, Any]]:
    return [_level(None if best is None else best + step * depth, bid=bid) for depth in range(DEPTH_LEVELS)]


def _touchline(instrument: Instrument, bids: list[dict[str, Any]], asks: list[dict[str, Any]]) -> dict[str, Any]:
    ltp, close = instrument.ltp, instrument.close
    change = (ltp - close) / close * 100 if ltp is not None and close else Decimal(0)
    return {
        "BidInfo": bids[0], "AskInfo": asks[0],
        "LastTradedPrice": _number(ltp), "LastTradedQunatity": 0, "TotalTradedQuantity": 0,
        "TotalBuyQuantity": sum(level["Size"] for level in bids),
        "TotalSellQuantity": sum(level["Size"] for level in asks),
        "AverageTradedPrice": 0, "PercentChange": _number(change.quantize(Decimal("0.01"))),
        "LastTradedTime": xts_seconds(instrument.traded_at), "LastUpdateTime": xts_seconds(instrument.quoted_at),
        "Open": _number(instrument.open), "High": _number(instrument.high), "Low": _number(instrument.low),
        "Close": _number(close), "TotalValueTraded": None,
    }


def quote_payload(instrument: Instrument, code: int) -> dict[str, Any]:
    """The Full payload of `code` for `instrument` now."""
    bids = _levels(instrument.bid, -TICK, bid=True)
    asks = _levels(instrument.ask, TICK, bid=False)
    payload: dict[str, Any] = {
        "MessageCode": code, "MessageVersion": 4, "ApplicationType": 0, "TokenID": 0,
        "ExchangeSegment": SEGMENT_CODES[instrument.segment], "ExchangeInstrumentID": instrument.instrument_id,
        "ExchangeTimeStamp": xts_seconds(instrument.quoted_at), "BookType": 1, "XMarketType": 1,
        "SequenceNumber": instrument.sequence,
    }
    if code == MARKET_DEPTH:
        payload["Bids"], payload["Asks"] = bids, asks
    payload["Touchline"] = _touchline(instrument, bids, asks)
    return payload


def quote_text(instrument: Instrument, code: int) -> str:
    """`quote_payload` as the JSON text a socket event's argument and a `listQuotes` item carry."""
    return _json.encode(quote_payload(instrument, code)).decode()
