"""Typed broker results and requests, broker-neutral: Decimal money, int quantities, aware datetimes.

The XTS adapter decodes wire rows into these; the store persists them as the account's snapshot; the
cycle's pure steps read them. Field meanings follow BROKER_XTS.md (the XTS name is noted where it differs).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec

from domain.status import OrderStatus
from domain.time import UtcDateTime

Side = Literal["BUY", "SELL"]
OrderType = Literal["MARKET", "LIMIT", "STOPLIMIT", "STOPMARKET"]


class BrokerOrder(msgspec.Struct, frozen=True, kw_only=True):
    """One row of an account's order book."""

    client_id: str                      # ClientID
    app_order_id: int                   # AppOrderID
    exchange_order_id: str = ""         # ExchangeOrderID
    exchange_segment: str               # ExchangeSegment, e.g. NSECM
    instrument_id: int                  # ExchangeInstrumentID
    symbol: str                         # TradingSymbol
    side: Side                          # OrderSide, upper-cased
    order_type: OrderType               # OrderType, normalised from the response's mixed case
    product_type: str                   # ProductType
    time_in_force: str = "DAY"          # TimeInForce
    quantity: int                       # OrderQuantity
    limit_price: Decimal = Decimal(0)   # OrderPrice
    stop_price: Decimal = Decimal(0)    # OrderStopPrice
    status: OrderStatus                 # OrderStatus, mapped by the adapter (an unknown one is refused)
    filled_qty: int = 0                 # CumulativeQuantity
    leaves_qty: int = 0                 # LeavesQuantity
    avg_price: Decimal | None = None    # OrderAverageTradedPrice ("" -> None)
    created_at: UtcDateTime | None = None   # OrderGeneratedDateTime
    updated_at: UtcDateTime | None = None   # LastUpdateDateTime
    reject_reason: str = ""             # CancelRejectReason
    tag: str = ""                       # OrderUniqueIdentifier


class BrokerPosition(msgspec.Struct, frozen=True, kw_only=True):
    """One row of an account's positions (`positionList`)."""

    client_id: str                      # AccountID
    symbol: str                         # TradingSymbol
    exchange_segment: str               # ExchangeSegment
    instrument_id: int                  # ExchangeInstrumentId (lower-case d on the wire)
    product_type: str                   # ProductType
    net_qty: int                        # Quantity (signed net)
    buy_avg_price: Decimal = Decimal(0)     # BuyAveragePrice
    sell_avg_price: Decimal = Decimal(0)    # SellAveragePrice
    open_buy_qty: int = 0               # OpenBuyQuantity
    open_sell_qty: int = 0              # OpenSellQuantity
    net_amount: Decimal = Decimal(0)    # NetAmount
    mtm: Decimal = Decimal(0)           # MTM
    realized_mtm: Decimal = Decimal(0)  # RealizedMTM
    unrealized_mtm: Decimal = Decimal(0)    # UnrealizedMTM
    multiplier: Decimal = Decimal(1)    # Multiplier


class BrokerTrade(msgspec.Struct, frozen=True, kw_only=True):
    """One fill of an account's trade book."""

    client_id: str                      # ClientID
    app_order_id: int                   # AppOrderID
    execution_id: str                   # ExecutionID
    exchange_segment: str               # ExchangeSegment
    instrument_id: int                  # ExchangeInstrumentID
    symbol: str                         # TradingSymbol
    side: Side                          # OrderSide, upper-cased
    product_type: str                   # ProductType
    quantity: int                       # LastTradedQuantity
    price: Decimal                      # LastTradedPrice
    traded_at: UtcDateTime | None = None    # LastExecutionTransactTime
    tag: str = ""                       # OrderUniqueIdentifier


MAX_TAG_LENGTH = 20
"""The longest order tag a broker takes (XTS `orderUniqueIdentifier`, Kite `tag`): every tag fits it."""


class OrderTerms(msgspec.Struct, frozen=True, kw_only=True):
    """What a new order and a change to a live one both state. `tag` (at most MAX_TAG_LENGTH characters)
    makes a new order idempotent."""

    order_type: OrderType
    quantity: int
    tag: str
    product_type: str = "NRML"
    limit_price: Decimal = Decimal(0)
    stop_price: Decimal = Decimal(0)
    time_in_force: str = "DAY"
    disclosed_qty: int = 0


class OrderRequest(OrderTerms, frozen=True, kw_only=True):
    """A new order of an instrument: XTS names it by segment and instrument id, Kite by exchange and trading
    symbol, so a request carries both. `symbol` defaults to empty only so that requests in event logs written
    before it existed still decode; an adapter that needs it refuses a request without it, sending nothing."""

    exchange_segment: str
    instrument_id: int
    symbol: str = ""
    side: Side


class ModifyRequest(OrderTerms, frozen=True, kw_only=True):
    """A change to a live order (XTS `modified*` fields)."""

    app_order_id: int


class PlaceAck(msgspec.Struct, frozen=True, kw_only=True):
    """The broker accepted a request: its AppOrderID and the tag it recorded."""

    app_order_id: int
    tag: str


class BrokerAccount(msgspec.Struct, frozen=True, kw_only=True):
    """Where and as whom to reach one account. `token`, `app_key`, `secret_key` are secrets: never logged.
    `broker` is a name of the broker registry (`registry.BROKER_NAMES`); a name it has no adapter for fails
    that account's calls with `UnknownBroker` and leaves the other accounts alone."""

    account_id: int
    user_id: int
    """The user whose account it is: a request changing its orders goes out only under that user's lease."""
    broker: str
    base_url: str
    client_id: str
    token: str = ""
    app_key: str = ""
    secret_key: str = ""

    def __repr__(self) -> str:
        return (
            f"BrokerAccount(account_id={self.account_id}, broker={self.broker!r}, "
            f"client_id={self.client_id!r})"
        )
