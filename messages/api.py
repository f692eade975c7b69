"""HTTP API payloads (JSON bodies and answers) as msgspec Structs, with the bounds of the columns they are
stored in. No logic. The OpenAPI document (`GET /api/openapi.json`) is built from these types."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

import msgspec

from domain.broker import OrderType, Side
from domain.time import UtcDateTime

INT_MAX = 2**31 - 1
"""The largest SQL INT (`orders.quantity`)."""
BIGINT_MAX = 2**63 - 1
"""The largest SQL BIGINT (ids, `orders.instrument_id`)."""
MAX_BATCH_ORDERS = 200
MAX_DESK_PRICES = 5000
"""Fair prices one `POST /api/fair-prices` carries at most (well within the 1 MiB body at 64-character symbols)."""
SESSION_TOKEN_MAX_CHARS = 1024
"""`accounts.token` is VARCHAR(1024)."""

Id = Annotated[int, msgspec.Meta(ge=1, le=BIGINT_MAX)]
Quantity = Annotated[int, msgspec.Meta(ge=1, le=INT_MAX)]
Price = Annotated[Decimal, msgspec.Meta(
    description="above zero, below 10^14, at most 4 decimal places (DECIMAL(18,4)) and on the 0.05 tick; "
                "checked per order by the API, as a string or a number")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Outcome = Literal["placed", "rejected", "in_flight", "not_placed", "invalid"]


class BatchOrder(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One entry of `POST /api/algo-place-batch-orders`: an entry order with its future SL and TP."""

    account_id: Id
    strategy: Name
    symbol: Name
    exchange_segment: Literal["NSECM", "NSEFO", "NSECD", "MCXFO", "BSECM", "BSEFO"]
    instrument_id: Id
    side: Side
    quantity: Quantity
    entry_type: OrderType
    entry_stop_price: Price | None = None
    entry_limit_price: Price | None = None
    sl_stop_price: Price | None = None
    tp_price: Price | None = None
    product_type: Literal["MIS", "NRML", "CNC"] = "NRML"


class BatchRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The batch: 1 to 200 orders. An order that does not match `BatchOrder` is answered `invalid` alone."""

    orders: Annotated[tuple[BatchOrder, ...], msgspec.Meta(min_length=1, max_length=MAX_BATCH_ORDERS)]


class BatchResult(msgspec.Struct, frozen=True, kw_only=True):
    """What happened to one order of the batch (see README, *Batch outcomes*)."""

    index: int
    outcome: Outcome
    order_id: int | None = None
    tag: str = ""
    broker_order_id: int | None = None
    reason: str = ""


class BatchAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """One result per order, in the order of the request."""

    results: tuple[BatchResult, ...]


class ErrorAnswer(msgspec.Struct, frozen=True, kw_only=True):
    error: str


class SessionRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`POST /api/accounts/{id}/session`: a session token from the broker's own login (`token`), the request
    token a login by hand gave (`request_token`, Kite: the service turns it into the session token), or
    neither to log in with the account's stored app key and secret key (XTS). Not both."""

    token: Annotated[str, msgspec.Meta(min_length=1, max_length=SESSION_TOKEN_MAX_CHARS)] | None = None
    request_token: Annotated[str, msgspec.Meta(min_length=1, max_length=SESSION_TOKEN_MAX_CHARS)] | None = None


class SessionAnswer(msgspec.Struct, frozen=True, kw_only=True):
    account_id: int
    session_needed: bool


class LoginNeededAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """The account's broker starts a session only with a login by hand at `login_url` (Kite, once a day);
    the request token it gives is then sent as `request_token`. Nothing was sent to the broker."""

    error: str
    login_url: str


class PauseRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`POST /api/pause`: any reason is taken; one longer than the stored column (255) is cut to it."""

    reason: str = "paused by the user"


DeskPrice = Annotated[Decimal, msgspec.Meta(
    description="above zero, below 10^14, at most 4 decimal places (DECIMAL(18,4)); a string or a number, "
                "decoded exactly")]


class DeskFairPrice(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One instrument's fair prices as the desk sets them: the price to buy at and the price to sell at."""

    symbol: Name
    buy_fair_price: DeskPrice
    sell_fair_price: DeskPrice


class DeskFairPricesRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`POST /api/fair-prices` (an admin token): 1 to 5,000 prices, each symbol once; all are written, in one
    transaction, or none is (a 400 names the first entry refused)."""

    prices: Annotated[tuple[DeskFairPrice, ...], msgspec.Meta(min_length=1, max_length=MAX_DESK_PRICES)]


class DeskFairPricesAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """How many prices were written, each with this `updated_at`."""

    written: int
    updated_at: UtcDateTime


class DeskFairPriceCleared(msgspec.Struct, frozen=True, kw_only=True):
    """The desk's price of `symbol` is removed: the feed prices it from its next write."""

    symbol: str
