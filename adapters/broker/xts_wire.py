"""The XTS wire format (BROKER_XTS.md): response envelopes, row structs named exactly as XTS names its
fields, and their conversion to the broker-neutral types of `domain/broker.py`.

Owns decoding only what the broker sends and encoding what the adapter sends: numbers are accepted as
numbers or strings (money becomes `Decimal` straight from the JSON text, never through float), blank
numbers are None, the two XTS time formats are Asia/Kolkata local times turned into aware UTC, response
order types in mixed case are normalised to the request spelling, order statuses become `OrderStatus`. A
value that does not decode raises `WireError` naming the XTS field; the adapter turns that into
`BrokerProtocolError`. No I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, TypeVar, get_args

import msgspec

from adapters.broker import json_rows
from adapters.broker.json_rows import EXCHANGE_TZ, Row, WireError, decode_json
from domain.broker import BrokerOrder, BrokerPosition, BrokerTrade, OrderType, Side
from domain.status import OPEN_STATUSES, SERVICE_STATUSES, OrderStatus

API_ORDER_SOURCE = "WEBAPI"
"""A placement's `apiOrderSource`. The official Python SDK sends the field with every placement since its
"apiOrderSource field added in placeorder" change (its example passes ""); the value is the source this
adapter logs in with, as every official SDK's configuration has it (`source=WEBAPI`)."""
SESSION_EXPIRED_CODE = "e-session-0007"
NO_DATA_CODES = frozenset({"e-orders-0005", "e-tradebook-0005", "e-portfolio-0005"})
"""In lower case. XTS spells the trade book's `e-tradeBook-0005`; public XTS clients (for XTS brokers such as
IIFL and Jainam) also see `e-tradebook-0005`, and match these codes in any letter case or by the description
"Data Not Available"."""
NO_DATA_DESCRIPTION = "data not available"

_ORDER_TYPES: dict[str, OrderType] = {
    "market": "MARKET",
    "limit": "LIMIT",
    "stoplimit": "STOPLIMIT",
    "stopmarket": "STOPMARKET",
    "sl": "STOPLIMIT",
    "slm": "STOPMARKET",
    "MARKET": "MARKET", "Market": "MARKET", "LIMIT": "LIMIT", "Limit": "LIMIT",
    "STOPLIMIT": "STOPLIMIT", "StopLimit": "STOPLIMIT", "STOPMARKET": "STOPMARKET", "StopMarket": "STOPMARKET",
}
"""By letters in lower case; also each type's two usual spellings as they come (`LIMIT`, `StopLimit`), found
without normalising."""
_SIDES: dict[str, Side] = {"buy": "BUY", "sell": "SELL", "BUY": "BUY", "SELL": "SELL", "Buy": "BUY", "Sell": "SELL"}
_STATUSES: dict[str, OrderStatus] = {status.value: status for status in OrderStatus if status not in SERVICE_STATUSES}
"""XTS's `OrderStatus` spellings are the enum's values; the service's own states are never the broker's."""
_DMY_TIME = "%d-%m-%Y %H:%M:%S"
Mapped = TypeVar("Mapped")
_json_encoder = msgspec.json.Encoder(decimal_format="number")


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """`{"type", "code", "description", "result"}`; `result` is decoded once the route says what it is."""

    type: str
    code: str = ""
    description: str = ""
    result: Any = None

    @property
    def succeeded(self) -> bool:
        return self.type == "success"


def is_no_data(envelope: Envelope) -> bool:
    """XTS's answer to a list route with nothing to list (HTTP 400): a `NO_DATA_CODES` code in any letter case,
    or the description "Data Not Available" whatever the code."""
    return (envelope.code.strip().lower() in NO_DATA_CODES
            or envelope.description.strip().lower() == NO_DATA_DESCRIPTION)


def is_invalid_session(envelope: Envelope) -> bool:
    """XTS's answer to a token it no longer accepts: `e-session-0007` / "Invalid Token", sent with HTTP 400
    (market-data routes have sent it with 200), so read from the body whatever the status."""
    return (envelope.code.strip().lower() == SESSION_EXPIRED_CODE
            or envelope.description.strip().lower() == "invalid token")


Quantity = Annotated[int, msgspec.Meta(ge=0)]
"""A quantity XTS reports that cannot be negative (a position's net `Quantity` can: a short)."""


class XtsOrderRow(msgspec.Struct, frozen=True, kw_only=True):
    """A row of `GET /interactive/orders`."""

    ClientID: str = ""
    AppOrderID: int
    ExchangeOrderID: str | int = ""
    ExchangeSegment: str
    ExchangeInstrumentID: int
    TradingSymbol: str = ""
    OrderSide: str
    OrderType: str
    ProductType: str = ""
    TimeInForce: str = "DAY"
    OrderPrice: Decimal | None = None
    OrderQuantity: Quantity
    OrderStopPrice: Decimal | None = None
    OrderStatus: str
    OrderAverageTradedPrice: Decimal | None = None
    LeavesQuantity: Quantity | None = None
    CumulativeQuantity: Quantity | None = None
    OrderGeneratedDateTime: str = ""
    LastUpdateDateTime: str = ""
    CancelRejectReason: str = ""
    OrderUniqueIdentifier: str = ""


class XtsTradeRow(msgspec.Struct, frozen=True, kw_only=True):
    """A row of `GET /interactive/orders/trades`."""

    ClientID: str = ""
    AppOrderID: int
    ExecutionID: str | int = ""
    ExchangeSegment: str
    ExchangeInstrumentID: int
    TradingSymbol: str = ""
    OrderSide: str
    ProductType: str = ""
    LastTradedPrice: Decimal
    LastTradedQuantity: Quantity
    LastExecutionTransactTime: str = ""
    OrderUniqueIdentifier: str = ""


class XtsPositionRow(msgspec.Struct, frozen=True, kw_only=True):
    """A row of `result.positionList` of `GET /interactive/portfolio/positions`. The instrument comes as
    `ExchangeInstrumentId` (what the answers the public clients read carry, e.g. `xts-api-client`'s
    `helper.py`) or `ExchangeInstrumentID` (the official Java SDK's `PositionList` model): either is read."""

    AccountID: str = ""
    TradingSymbol: str = ""
    ExchangeSegment: str
    ExchangeInstrumentId: int | None = None
    ExchangeInstrumentID: int | None = None
    ProductType: str = ""
    Quantity: int
    BuyAveragePrice: Decimal | None = None
    SellAveragePrice: Decimal | None = None
    OpenBuyQuantity: Quantity | None = None
    OpenSellQuantity: Quantity | None = None
    NetAmount: Decimal | None = None
    MTM: Decimal | None = None
    RealizedMTM: Decimal | None = None
    UnrealizedMTM: Decimal | None = None
    Multiplier: Decimal | None = None


class XtsPositions(msgspec.Struct, frozen=True, kw_only=True):
    positionList: list[Any]


class XtsLoginResult(msgspec.Struct, frozen=True, kw_only=True):
    token: str
    userID: str = ""
    isInvestorClient: bool = True
    clientCodes: list[str] = msgspec.field(default_factory=list)


class XtsOrderAck(msgspec.Struct, frozen=True, kw_only=True):
    """`result` of place, modify and cancel."""

    AppOrderID: int
    OrderUniqueIdentifier: str = ""
    ClientID: str = ""


_BLANK_AVERAGE = (b'"OrderAverageTradedPrice":""', b'"OrderAverageTradedPrice":null')
"""The blank XTS sends most (every order with no fill), made JSON's null before the rows are decoded in one go."""


def order_rows(rows: list[tuple[int, bytes]], what: str) -> list[BrokerOrder]:
    """New order-book rows (each with its index in the answer) as `BrokerOrder`s."""
    return _mapped_rows(rows, XtsOrderRow, to_order, what)


def trade_rows(rows: list[tuple[int, bytes]], what: str) -> list[BrokerTrade]:
    """New trade-book rows (each with its index in the answer) as `BrokerTrade`s."""
    return _mapped_rows(rows, XtsTradeRow, to_trade, what)


def _mapped_rows(rows: list[tuple[int, bytes]], row_type: type[Row], to_port: Callable[[Row], Mapped],
                 what: str) -> list[Mapped]:
    """The rows decoded together straight from their bytes; when that fails, row by row, and a row that does not
    decode so is converted as `convert` does (blanks as None), which names the field at fault. Either way the
    first row at fault, in the answer's order, is the one refused."""
    joined = b"[" + b",".join(row for _, row in rows) + b"]"
    try:
        decoded = _row_decoders[row_type].decode(joined.replace(*_BLANK_AVERAGE))
    except msgspec.DecodeError:
        return [to_port(_typed_row(index, row, row_type, what)) for index, row in rows]
    return [to_port(_finite(row, what, index)) for (index, _), row in zip(rows, decoded, strict=True)]


def _typed_row(index: int, row: bytes, row_type: type[Row], what: str) -> Row:
    try:
        return _finite(_row_decoders[row_type].decode(b"[" + row.replace(*_BLANK_AVERAGE) + b"]")[0], what, index)
    except msgspec.DecodeError:
        return convert(decode_json(row), row_type, f"{what} row {index}")


def _finite(row: Row, what: str, index: int) -> Row:
    for field in _MONEY_FIELDS[type(row)]:
        amount = getattr(row, field)
        if amount is not None and not amount.is_finite():
            raise WireError(field, f"{what} row {index}: {field} is {amount}, not a finite number")
    return row


_row_decoders: dict[type, msgspec.json.Decoder[Any]] = {
    row_type: msgspec.json.Decoder(list[row_type], strict=False)  # type: ignore[valid-type]
    for row_type in (XtsOrderRow, XtsTradeRow)
}
_MONEY_FIELDS: dict[type, tuple[str, ...]] = {
    row_type: tuple(field.name for field in msgspec.structs.fields(row_type)
                    if Decimal in (field.type, *get_args(field.type)))
    for row_type in (XtsOrderRow, XtsTradeRow)
}


def _blank_is_none(row_type: type[msgspec.Struct]) -> frozenset[str]:
    """Fields of `row_type` that may be absent: XTS sends `""` for them when it has no value."""
    return frozenset(
        field.encode_name for field in msgspec.structs.fields(row_type) if type(None) in get_args(field.type)
    )


_BLANKABLE: dict[type, frozenset[str]] = {
    row_type: _blank_is_none(row_type) for row_type in (XtsOrderRow, XtsTradeRow, XtsPositionRow)
}


def encode_json(payload: Any) -> bytes:
    """Encode a request or response body; `Decimal` goes out as a JSON number."""
    return _json_encoder.encode(payload)


class _RowsEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    """A list route's envelope with its rows left as bytes: each is decoded only if it changed."""

    type: str
    code: str = ""
    description: str = ""
    result: list[msgspec.Raw]


_rows_envelope = msgspec.json.Decoder(_RowsEnvelope)


def decode_envelope(body: bytes, *, rows: bool = False) -> Envelope:
    """The envelope; with `rows`, a `result` that is a list is given as each row's bytes (`msgspec.Raw`), for
    `order_rows` and `trade_rows`, and any other `result` as parsed JSON."""
    if rows:
        try:
            listing = _rows_envelope.decode(body)
        except msgspec.DecodeError:
            pass
        else:
            return Envelope(type=listing.type, code=listing.code, description=listing.description,
                            result=listing.result)
    return convert(decode_json(body), Envelope, "envelope")


def convert(value: Any, row_type: type[Row], what: str) -> Row:
    """Convert decoded JSON to `row_type`, numbers accepted as strings, blanks as None; a failure names the
    field."""
    return json_rows.convert(value, row_type, what, blank_is_none=_BLANKABLE.get(row_type, frozenset()))


def convert_rows(rows: Any, row_type: type[Row], what: str) -> list[Row]:
    return json_rows.convert_rows(rows, row_type, what, listed_in="result",
                                  blank_is_none=_BLANKABLE.get(row_type, frozenset()))


def parse_time(value: str, field: str) -> datetime | None:
    """`dd-mm-yyyy HH:MM:SS` or ISO (up to 7 fractional digits), Asia/Kolkata unless an offset is given. Each
    text is parsed once: the answer is kept for the next row that carries it (up to `_TIMES_KEPT` texts)."""
    moment = _times.get(value)
    if moment is None:
        moment = _parse_time(value, field)
        if len(_times) >= _TIMES_KEPT:
            _times.clear()
        _times[value] = moment
    return moment or None


_TIMES_KEPT = 65_536
_times: dict[str, datetime | bool] = {}
"""Parsed times by their text (False: blank); cleared whole when full."""


def forget_parsed_times() -> None:
    """Drop every kept parsed time: the next rows parse theirs afresh (what a benchmark of new rows needs)."""
    _times.clear()
_KOLKATA_OFFSET = timedelta(hours=5, minutes=30)
_KOLKATA_FIXED_SINCE = datetime(1945, 10, 15)  # noqa: DTZ001 - a local time of the zone's own rules
"""Asia/Kolkata has been UTC+05:30, with no daylight saving, since 1945-10-15 (the tz database); a local time from
then on is turned to UTC by the offset, an earlier one by the zone's rules."""


def _parse_time(value: str, field: str) -> datetime | bool:
    text = value.strip()
    if not text:
        return False
    if len(text) == 19 and text[2] == text[5] == "-" and text[10] == " " and text[13] == text[16] == ":":
        iso = text[6:10] + "-" + text[3:5] + "-" + text[0:2] + "T" + text[11:]  # dd-mm-yyyy HH:MM:SS
    elif len(text) == 27 and text[19] == "." and text[26].isdigit():  # ISO with 7 fractional digits, no offset
        iso = text[:26]
    else:
        iso = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        raise WireError(field, f"unreadable time {text!r}") from None
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    if moment >= _KOLKATA_FIXED_SINCE:
        return (moment - _KOLKATA_OFFSET).replace(tzinfo=UTC)
    return moment.replace(tzinfo=EXCHANGE_TZ).astimezone(UTC)


def format_dmy_time(moment: datetime) -> str:
    """An aware time as XTS's `dd-mm-yyyy HH:MM:SS` in exchange local time."""
    return moment.astimezone(EXCHANGE_TZ).strftime(_DMY_TIME)


def format_iso7_time(moment: datetime) -> str:
    """An aware time as XTS's ISO form with 7 fractional digits in exchange local time, no offset."""
    local = moment.astimezone(EXCHANGE_TZ)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond:06d}0"


def _side(value: str) -> Side:
    side = _SIDES.get(value) or _SIDES.get(value.strip().lower())
    if side is None:
        raise WireError("OrderSide", f"unknown side {value!r}")
    return side


def _order_type(value: str) -> OrderType:
    order_type = _ORDER_TYPES.get(value) or _ORDER_TYPES.get(re.sub(r"[^a-z]", "", value.lower()))
    if order_type is None:
        raise WireError("OrderType", f"unknown order type {value!r}")
    return order_type


def _status(row: XtsOrderRow) -> OrderStatus:
    """An order's status; one XTS does not document is refused: whether such an order can still fill is
    unknown, so the book is not read as if it were finished."""
    status = _STATUSES.get(row.OrderStatus)
    if status is None:
        raise WireError("OrderStatus", f"unknown status {row.OrderStatus!r} of AppOrderID {row.AppOrderID}")
    return status


def to_order(row: XtsOrderRow) -> BrokerOrder:
    filled = row.CumulativeQuantity or 0
    status = _status(row)
    return BrokerOrder(
        client_id=row.ClientID,
        app_order_id=row.AppOrderID,
        exchange_order_id=str(row.ExchangeOrderID),
        exchange_segment=row.ExchangeSegment,
        instrument_id=row.ExchangeInstrumentID,
        symbol=row.TradingSymbol,
        side=_side(row.OrderSide),
        order_type=_order_type(row.OrderType),
        product_type=row.ProductType,
        time_in_force=row.TimeInForce,
        quantity=row.OrderQuantity,
        limit_price=row.OrderPrice or Decimal(0),
        stop_price=row.OrderStopPrice or Decimal(0),
        status=status,
        filled_qty=filled,
        leaves_qty=_leaves(row, filled, status),
        avg_price=row.OrderAverageTradedPrice or None,
        created_at=parse_time(row.OrderGeneratedDateTime, "OrderGeneratedDateTime"),
        updated_at=parse_time(row.LastUpdateDateTime, "LastUpdateDateTime"),
        reject_reason=row.CancelRejectReason,
        tag=row.OrderUniqueIdentifier,
    )


def _leaves(row: XtsOrderRow, filled: int, status: OrderStatus) -> int:
    if row.LeavesQuantity is not None:
        return row.LeavesQuantity
    return row.OrderQuantity - filled if status in OPEN_STATUSES else 0


def to_trade(row: XtsTradeRow) -> BrokerTrade:
    return BrokerTrade(
        client_id=row.ClientID,
        app_order_id=row.AppOrderID,
        execution_id=str(row.ExecutionID),
        exchange_segment=row.ExchangeSegment,
        instrument_id=row.ExchangeInstrumentID,
        symbol=row.TradingSymbol,
        side=_side(row.OrderSide),
        product_type=row.ProductType,
        quantity=row.LastTradedQuantity,
        price=row.LastTradedPrice,
        traded_at=parse_time(row.LastExecutionTransactTime, "LastExecutionTransactTime"),
        tag=row.OrderUniqueIdentifier,
    )


def _position_instrument(row: XtsPositionRow) -> int:
    """The row's instrument id, under either spelling; neither, or two that disagree, does not decode."""
    given = [found for found in (row.ExchangeInstrumentId, row.ExchangeInstrumentID) if found is not None]
    if not given or given[0] != given[-1]:
        has = f"both, {given[0]} and {given[-1]}" if given else "neither"
        raise WireError("ExchangeInstrumentId", f"a position of {row.TradingSymbol or row.ExchangeSegment} needs "
                                                f"ExchangeInstrumentId or ExchangeInstrumentID; it has {has}")
    return given[0]


def to_position(row: XtsPositionRow) -> BrokerPosition:
    zero = Decimal(0)
    return BrokerPosition(
        client_id=row.AccountID,
        symbol=row.TradingSymbol,
        exchange_segment=row.ExchangeSegment,
        instrument_id=_position_instrument(row),
        product_type=row.ProductType,
        net_qty=row.Quantity,
        buy_avg_price=row.BuyAveragePrice or zero,
        sell_avg_price=row.SellAveragePrice or zero,
        open_buy_qty=row.OpenBuyQuantity or 0,
        open_sell_qty=row.OpenSellQuantity or 0,
        net_amount=row.NetAmount or zero,
        mtm=row.MTM or zero,
        realized_mtm=row.RealizedMTM or zero,
        unrealized_mtm=row.UnrealizedMTM or zero,
        multiplier=row.Multiplier if row.Multiplier is not None else Decimal(1),
    )
