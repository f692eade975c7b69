"""The Kite Connect v3 wire format (BROKER_KITE.md): the envelope, the rows as Kite names their fields, and
their conversion to the broker-neutral types of `domain/broker.py`; the maps between Kite's spellings and the
service's (statuses, order types, exchanges), order ids, times and the session checksum.

Owns decoding what Kite sends and the spellings the adapter sends: money is `Decimal` from the JSON text,
never through float; an order id is a string of digits on the wire and a BIGINT in the service; times are
Asia/Kolkata wall times turned into aware UTC. A value that does not decode raises `WireError` naming Kite's
field; the adapter turns that into `BrokerProtocolError`. No I/O here.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec

from adapters.broker.json_rows import EXCHANGE_TZ, WireError, convert, decode_json
from domain.broker import BrokerOrder, BrokerPosition, BrokerTrade, OrderType, Side
from domain.status import OPEN_STATUSES, OrderStatus

_STATUSES: dict[str, OrderStatus] = {
    "COMPLETE": OrderStatus.FILLED,
    "CANCELLED": OrderStatus.CANCELLED,
    "REJECTED": OrderStatus.REJECTED,
    "TRIGGER PENDING": OrderStatus.TRIGGER_PENDING,
    "PUT ORDER REQ RECEIVED": OrderStatus.PENDING_NEW,
    "AMO REQ RECEIVED": OrderStatus.PENDING_NEW,
    "VALIDATION PENDING": OrderStatus.PENDING_NEW,
    "OPEN PENDING": OrderStatus.PENDING_NEW,
    "MODIFY VALIDATION PENDING": OrderStatus.PENDING_REPLACE,
    "MODIFY PENDING": OrderStatus.PENDING_REPLACE,
    "MODIFIED": OrderStatus.REPLACED,
    "CANCEL PENDING": OrderStatus.PENDING_CANCEL,
}
"""Every order book status but `OPEN`, which says by its fills whether it is `New` or `PartiallyFilled`.
`UPDATE` (postbacks and WebSocket only) is not an order book status: refused like any other unknown."""
_ORDER_TYPES: dict[str, OrderType] = {"MARKET": "MARKET", "LIMIT": "LIMIT", "SL": "STOPLIMIT", "SL-M": "STOPMARKET"}
_KITE_ORDER_TYPES: dict[OrderType, str] = {ours: kite for kite, ours in _ORDER_TYPES.items()}
_EXCHANGES: dict[str, str] = {
    "NSECM": "NSE", "NSEFO": "NFO", "BSECM": "BSE", "BSEFO": "BFO", "NSECD": "CDS", "MCXFO": "MCX",
}
"""The service's exchange segments (XTS's names) and the Kite exchange of each."""
_SEGMENTS: dict[str, str] = {kite: ours for ours, kite in _EXCHANGES.items()}
_SIDES: dict[str, Side] = {"BUY": "BUY", "SELL": "SELL"}
_ORDER_ID = re.compile(r"[1-9][0-9]*")
_MAX_ORDER_ID = 2**63 - 1
"""The largest id a signed 64-bit BIGINT holds: the service stores `app_order_id` as one."""
_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")

Quantity = Annotated[int, msgspec.Meta(ge=0)]


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """`{"status", "data"}`, or on failure `{"status": "error", "message", "error_type"}`; `data` is decoded
    once the route says what it is."""

    status: str = ""
    data: Any = None
    message: str | None = None
    error_type: str | None = None

    @property
    def failed(self) -> bool:
        """An error, as the official SDK judges it: `status` "error" or any `error_type`, whatever the HTTP
        status."""
        return self.status == "error" or bool(self.error_type)


class KiteOrderRow(msgspec.Struct, frozen=True, kw_only=True):
    """A row of `GET /orders` (and of an order's history)."""

    order_id: str
    exchange_order_id: str | None = None
    status: str
    status_message: str | None = None
    order_timestamp: str | None = None
    exchange_timestamp: str | None = None
    exchange_update_timestamp: str | None = None
    exchange: str
    tradingsymbol: str
    instrument_token: int
    order_type: str
    transaction_type: str
    validity: str = "DAY"
    product: str
    quantity: Quantity
    price: Decimal = Decimal(0)
    trigger_price: Decimal = Decimal(0)
    average_price: Decimal = Decimal(0)
    filled_quantity: Quantity = 0
    pending_quantity: Quantity = 0
    tag: str | None = None


class KiteTradeRow(msgspec.Struct, frozen=True, kw_only=True):
    """A row of `GET /trades`; Kite's trade rows carry no tag."""

    trade_id: str
    order_id: str
    exchange: str
    tradingsymbol: str
    instrument_token: int
    product: str
    average_price: Decimal
    quantity: Quantity
    transaction_type: str
    fill_timestamp: str | None = None


class KitePositionRow(msgspec.Struct, frozen=True, kw_only=True):
    """A row of `data.net` or `data.day` of `GET /portfolio/positions`."""

    tradingsymbol: str
    exchange: str
    instrument_token: int
    product: str
    quantity: int
    multiplier: Decimal = Decimal(1)
    buy_quantity: Quantity = 0
    buy_price: Decimal = Decimal(0)
    sell_quantity: Quantity = 0
    sell_price: Decimal = Decimal(0)
    value: Decimal = Decimal(0)
    m2m: Decimal = Decimal(0)
    realised: Decimal = Decimal(0)
    unrealised: Decimal = Decimal(0)


class KitePositions(msgspec.Struct, frozen=True, kw_only=True):
    """`data` of `GET /portfolio/positions`: both views in one answer."""

    net: Any
    day: Any


class KiteSession(msgspec.Struct, frozen=True, kw_only=True):
    """`data` of `POST /session/token`; the profile fields beside the token are not read."""

    access_token: str


class KiteOrderAck(msgspec.Struct, frozen=True, kw_only=True):
    """`data` of place, modify and cancel."""

    order_id: str


def decode_envelope(body: bytes) -> Envelope:
    return convert(decode_json(body), Envelope, "envelope")


def checksum(api_key: str, request_token: str, api_secret: str) -> str:
    """`POST /session/token`'s checksum: hex SHA-256 of the three concatenated."""
    return hashlib.sha256(f"{api_key}{request_token}{api_secret}".encode()).hexdigest()


def order_id(text: str) -> int:
    """Kite's order id as the service's `app_order_id`: only a string of digits without a leading zero that
    a signed 64-bit BIGINT holds, so that `str(order_id(text)) == text` and the id goes back as Kite wrote it."""
    if not _ORDER_ID.fullmatch(text) or int(text) > _MAX_ORDER_ID:
        raise WireError("order_id", f"order id {text!r} is not digits without a leading zero up to {_MAX_ORDER_ID}")
    return int(text)


def kite_exchange(segment: str) -> str:
    """The Kite exchange of one of the service's exchange segments; another is refused."""
    exchange = _EXCHANGES.get(segment)
    if exchange is None:
        raise WireError("exchange_segment", f"no Kite exchange for segment {segment!r} "
                                            f"(Kite serves {', '.join(_EXCHANGES)})")
    return exchange


def segment(exchange: str) -> str:
    """The service's exchange segment of a Kite exchange; another is refused."""
    ours = _SEGMENTS.get(exchange)
    if ours is None:
        raise WireError("exchange", f"unknown exchange {exchange!r}")
    return ours


def kite_order_type(order_type: OrderType) -> str:
    return _KITE_ORDER_TYPES[order_type]


def _order_type(value: str) -> OrderType:
    order_type = _ORDER_TYPES.get(value)
    if order_type is None:
        raise WireError("order_type", f"unknown order type {value!r}")
    return order_type


def _side(value: str) -> Side:
    side = _SIDES.get(value)
    if side is None:
        raise WireError("transaction_type", f"unknown transaction type {value!r}")
    return side


def parse_time(value: str | None, field: str) -> datetime | None:
    """Kite's `YYYY-MM-DD HH:MM:SS`, an Asia/Kolkata wall time, as aware UTC; null is None."""
    if value is None:
        return None
    try:
        if not _TIME.fullmatch(value):
            raise ValueError(value)
        moment = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007 - exchange wall time, zoned below
    except ValueError:
        raise WireError(field, f"unreadable time {value!r}") from None
    return moment.replace(tzinfo=EXCHANGE_TZ).astimezone(UTC)


def status(row: KiteOrderRow) -> OrderStatus:
    """The row's status. `OPEN` has no partial-fill spelling: it is `PartiallyFilled` while some but not all
    of the quantity is filled, `New` otherwise. A status Kite's order book does not spell is refused: whether
    such an order can still fill is unknown."""
    if row.status == "OPEN":
        partly = 0 < row.filled_quantity < row.quantity
        return OrderStatus.PARTIALLY_FILLED if partly else OrderStatus.NEW
    mapped = _STATUSES.get(row.status)
    if mapped is None:
        raise WireError("status", f"unknown status {row.status!r} of order_id {row.order_id}")
    return mapped


def to_order(row: KiteOrderRow, client_id: str) -> BrokerOrder:
    """An order book row of the account `client_id` (Kite's rows name who placed it, not the account)."""
    mapped = status(row)
    created = parse_time(row.order_timestamp, "order_timestamp")
    updated = (parse_time(row.exchange_update_timestamp, "exchange_update_timestamp")
               or parse_time(row.exchange_timestamp, "exchange_timestamp") or created)
    return BrokerOrder(
        client_id=client_id,
        app_order_id=order_id(row.order_id),
        exchange_order_id=row.exchange_order_id or "",
        exchange_segment=segment(row.exchange),
        instrument_id=row.instrument_token,
        symbol=row.tradingsymbol,
        side=_side(row.transaction_type),
        order_type=_order_type(row.order_type),
        product_type=row.product,
        time_in_force=row.validity,
        quantity=row.quantity,
        limit_price=row.price,
        stop_price=row.trigger_price,
        status=mapped,
        filled_qty=row.filled_quantity,
        leaves_qty=row.pending_quantity if mapped in OPEN_STATUSES else 0,
        avg_price=row.average_price or None,
        created_at=created,
        updated_at=updated,
        reject_reason=row.status_message or "",
        tag=row.tag or "",
    )


def to_trade(row: KiteTradeRow, client_id: str) -> BrokerTrade:
    return BrokerTrade(
        client_id=client_id,
        app_order_id=order_id(row.order_id),
        execution_id=row.trade_id,
        exchange_segment=segment(row.exchange),
        instrument_id=row.instrument_token,
        symbol=row.tradingsymbol,
        side=_side(row.transaction_type),
        product_type=row.product,
        quantity=row.quantity,
        price=row.average_price,
        traded_at=parse_time(row.fill_timestamp, "fill_timestamp"),
    )


def to_position(row: KitePositionRow, client_id: str) -> BrokerPosition:
    return BrokerPosition(
        client_id=client_id,
        symbol=row.tradingsymbol,
        exchange_segment=segment(row.exchange),
        instrument_id=row.instrument_token,
        product_type=row.product,
        net_qty=row.quantity,
        buy_avg_price=row.buy_price,
        sell_avg_price=row.sell_price,
        open_buy_qty=row.buy_quantity,
        open_sell_qty=row.sell_quantity,
        net_amount=row.value,
        mtm=row.m2m,
        realized_mtm=row.realised,
        unrealized_mtm=row.unrealised,
        multiplier=row.multiplier,
    )
