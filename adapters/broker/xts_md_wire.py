"""XTS Market Data's wire format (MARKETDATA_XTS.md), decoding only: the touchline and market-depth events of
its stream and the quote snapshots of its REST answers, as broker-neutral `Quote`s. No I/O; raises `WireError`
naming the field.

What bites, and is handled here: a snapshot in `listQuotes` is a JSON string inside the JSON answer (decoded
twice); the touchline's fields sit under `Touchline` but some clients and models put them at the root (both
are read); a price or size of 0 is an empty side (None, never the last price); times count seconds from
1980-01-01 00:00 IST; prices are JSON numbers, read as `Decimal` from their text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec

from adapters.broker.json_rows import EXCHANGE_TZ, WireError, convert, decode_json
from domain.quotes import Quote

SEGMENT_CODES: Mapping[str, int] = {
    "NSECM": 1, "NSEFO": 2, "NSECD": 3, "NSECO": 4, "BSECM": 11, "BSEFO": 12, "BSECD": 13, "NCDEX": 21,
    "MSECM": 41, "MSEFO": 42, "MSECD": 43, "MCXFO": 51,
}
"""The segments' numbers, as subscription bodies and every payload carry them (names elsewhere)."""
SEGMENT_NAMES: Mapping[int, str] = {code: name for name, code in SEGMENT_CODES.items()}
TOUCHLINE, MARKET_DEPTH = 1501, 1502
EPOCH_1980_IST = datetime(1980, 1, 1, tzinfo=EXCHANGE_TZ)
ALREADY_SUBSCRIBED_CODE = "e-session-0002"


class _Level(msgspec.Struct, frozen=True, kw_only=True):
    Price: Decimal = Decimal(0)
    Size: int = 0


class _Touchline(msgspec.Struct, frozen=True, kw_only=True):
    BidInfo: _Level | None = None
    AskInfo: _Level | None = None
    LastTradedPrice: Decimal | None = None
    LastUpdateTime: int | None = None


class _Event(_Touchline, frozen=True, kw_only=True):
    """A 1501 or 1502 full event, its touchline nested (`Touchline`) or at the root."""

    MessageCode: int
    ExchangeSegment: int
    ExchangeInstrumentID: int
    Touchline: _Touchline | None = None


def market_time(seconds: int) -> datetime:
    """A payload's time (seconds from 1980-01-01 00:00 IST) as aware UTC."""
    return (EPOCH_1980_IST + timedelta(seconds=seconds)).astimezone(UTC)


def decode_event(payload: str | bytes | Mapping[str, Any]) -> Quote:
    """One `1501-json-full` / `1502-json-full` event argument (a JSON string, or a snapshot already parsed)."""
    raw = decode_json(payload.encode() if isinstance(payload, str) else payload) \
        if isinstance(payload, str | bytes) else payload
    event = convert(raw, _Event, "market data event")
    if event.MessageCode not in (TOUCHLINE, MARKET_DEPTH):
        raise WireError("MessageCode", f"{event.MessageCode} is not a touchline (1501) or depth (1502) event")
    segment = SEGMENT_NAMES.get(event.ExchangeSegment)
    if segment is None:
        raise WireError("ExchangeSegment", f"unknown segment {event.ExchangeSegment} of instrument "
                                           f"{event.ExchangeInstrumentID}")
    line = event.Touchline or event
    if line.LastUpdateTime is None:
        raise WireError("LastUpdateTime", f"no update time for instrument {event.ExchangeInstrumentID}")
    return Quote(exchange_segment=segment, instrument_id=event.ExchangeInstrumentID, bid=_side(line.BidInfo),
                 ask=_side(line.AskInfo), ltp=line.LastTradedPrice or None, at=market_time(line.LastUpdateTime))


def decode_snapshots(result: Any, field: str = "listQuotes") -> list[Quote]:
    """The quotes of a subscription's or a quotes answer's `result`: each item of `listQuotes` is a JSON string
    shaped like a stream event."""
    items = result.get(field) if isinstance(result, Mapping) else None
    if items is None:
        return []
    if not isinstance(items, list):
        raise WireError(field, f"{field} is not a list")
    return [decode_event(item) for item in items]


def instruments_body(instruments: list[tuple[str, int]], code: int = TOUCHLINE) -> dict[str, Any]:
    """A subscription or quotes body for (segment name, instrument id) pairs."""
    return {"instruments": [{"exchangeSegment": SEGMENT_CODES[segment], "exchangeInstrumentID": instrument_id}
                            for segment, instrument_id in instruments],
            "xtsMessageCode": code}


def _side(level: _Level | None) -> Decimal | None:
    if level is None or level.Price <= 0 or level.Size <= 0:
        return None
    return level.Price
