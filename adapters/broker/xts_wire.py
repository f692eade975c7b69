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
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, get_args

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
}
_SIDES: dict[str, Side] = {"buy": "BUY", "sell": "SELL"}
_STATUSES: dict[str, OrderStatus] = {status.value: status for status in OrderStatus if status not in SERVICE_STATUSES}
"""XTS's `OrderStatus` spellings are the enum's values; the service's own states are never the broker's."""
_DMY_TIME = "%d-%m-%Y %H:%M:%S"
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


def decode_envelope(body: bytes) -> Envelope:
    return convert(decode_json(body), Envelope, "envelope")


def convert(value: Any, row_type: type[Row], what: str) -> Row:
    """Convert decoded JSON to `row_type`, numbers accepted as strings, blanks as None; a failure names the
    field."""
    return json_rows.convert(value, row_type, what, blank_is_none=_BLANKABLE.get(row_type, frozenset()))


def convert_rows(rows: Any, row_type: type[Row], what: str) -> list[Row]:
    return json_rows.convert_rows(rows, row_type, what, listed_in="result",
                                  blank_is_none=_BLANKABLE.get(row_type, frozenset()))


def parse_time(value: str, field: str) -> datetime | None:
    """`dd-mm-yyyy HH:MM:SS` or ISO (up to 7 fractional digits), Asia/Kolkata unless an offset is given."""
    text = value.strip()
    if not text:
        return None
    try:
        if re.fullmatch(r"\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2}", text):
            moment = datetime.strptime(text, _DMY_TIME)  # noqa: DTZ007 - local exchange time, zoned below
        else:
            moment = datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", text))
    except ValueError:
        raise WireError(field, f"unreadable time {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=EXCHANGE_TZ)
    return moment.astimezone(UTC)


def format_dmy_time(moment: datetime) -> str:
    """An aware time as XTS's `dd-mm-yyyy HH:MM:SS` in exchange local time."""
    return moment.astimezone(EXCHANGE_TZ).strftime(_DMY_TIME)


def format_iso7_time(moment: datetime) -> str:
    """An aware time as XTS's ISO form with 7 fractional digits in exchange local time, no offset."""
    local = moment.astimezone(EXCHANGE_TZ)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond:06d}0"


def _side(value: str) -> Side:
    side = _SIDES.get(value.strip().lower())
    if side is None:
        raise WireError("OrderSide", f"unknown side {value!r}")
    return side


def _order_type(value: str) -> OrderType:
    order_type = _ORDER_TYPES.get(re.sub(r"[^a-z]", "", value.lower()))
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
