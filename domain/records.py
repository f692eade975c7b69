"""Typed rows of the system of record, as the Store returns and accepts them (no SQL, no I/O).

Money is `Decimal` (DECIMAL(18,4) in SQL), quantities `int`, times aware UTC `datetime`. The column
allow-list for optimistic order updates lives here, next to the row it describes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal, NamedTuple

import msgspec

from domain.broker import BrokerOrder, BrokerPosition, OrderType, Side
from domain.errors import ErrorKind
from domain.pnl import Match, OpenLot
from domain.status import OrderStatus, TradeStatus
from domain.time import UtcDateTime

Leg = Literal["entry", "sl", "tp"]
LegField = Literal["tag", "order_id", "orderstatus", "rejections", "qty"]
RegenerationStatus = Literal["PLACED", "FAILED"]


class ExitFill(msgspec.Struct, frozen=True, kw_only=True):
    """What one broker row of an order's SL or TP had filled when a sync last saw it."""

    app_order_id: int
    qty: int
    avg_price: Decimal


_EXIT_FILLS_DECODER = msgspec.json.Decoder(tuple[ExitFill, ...])


def exit_fills_json(fills: tuple[ExitFill, ...]) -> str:
    """An order's record of exit fills as the `exit_fills` column and the order's events hold it."""
    return msgspec.json.encode(fills).decode()


def exit_fills_from_json(text: str) -> tuple[ExitFill, ...]:
    return _EXIT_FILLS_DECODER.decode(text)


def leg_column(leg: Leg, field: LegField) -> str:
    """The `orders` column holding `field` of `leg` (`sl_tag`, `entry_order_id`, ...): the one place a leg's
    columns are named."""
    return f"{leg}_{field}"


def leg_fields(leg: Leg, **values: Any) -> dict[str, Any]:
    """An update of `leg`'s columns, keyed by column: `leg_fields("sl", tag=t)` is `{"sl_tag": t}`."""
    return {leg_column(leg, field): value for field, value in values.items()}


class TradePlan(msgspec.Struct, frozen=True, kw_only=True):
    """What a strategy asks to trade: the instrument, side and size, the entry, and the prices of its future
    stop-loss and take-profit. A new entry, a regeneration and an order's row are each one."""

    strategy: str
    symbol: str
    exchange_segment: str
    instrument_id: int
    side: Side
    quantity: int
    entry_type: OrderType
    entry_stop_price: Decimal | None = None
    entry_limit_price: Decimal | None = None
    sl_stop_price: Decimal | None = None
    tp_price: Decimal | None = None


def plan_fields(trade: Any) -> dict[str, Any]:
    """The `TradePlan` fields of any trade (an order's row, a regeneration, a new entry), by name."""
    return {field: getattr(trade, field) for field in TradePlan.__struct_fields__}


class OrderRow(TradePlan, frozen=True, kw_only=True):
    """One `orders` row: a strategy trade (its plan) with its entry, stop-loss and take-profit legs."""

    id: int | None = None
    user_id: int
    account_id: int
    entry_order_id: int | None = None
    entry_tag: str | None = None
    entry_orderstatus: OrderStatus | None = None
    filled_qty: int = 0
    avg_entry_price: Decimal | None = None
    entry_modifications: int = 0
    sl_order_id: int | None = None
    sl_tag: str | None = None
    sl_orderstatus: OrderStatus | None = None
    sl_qty: int = 0
    tp_order_id: int | None = None
    tp_tag: str | None = None
    tp_orderstatus: OrderStatus | None = None
    tp_qty: int = 0
    status: TradeStatus = TradeStatus.PENDING
    exit_price: Decimal | None = None
    realized_pnl: Decimal = Decimal(0)
    """This trade's own: its entry against its own SL and TP exits, every day's (not the account's FIFO per
    symbol, which matches fills across trades: `bo_live_history`, `GET /api/pnl`)."""
    unrealized_pnl: Decimal | None = Decimal(0)
    """This trade's open quantity marked to the fair price it would exit at; None while it runs unmarked (no
    fresh fair price, or no average entry price yet); 0 with nothing open."""
    ltp: Decimal | None = None
    reject_reason: str | None = None
    regenerated_from: int | None = None
    regeneration_attempt: int = 0
    version: int = 1
    created_at: UtcDateTime | None = None
    updated_at: UtcDateTime | None = None
    legs_changed_at: UtcDateTime | None = None
    """When a leg's request or answer was last recorded (intent, acknowledgement, rejection, ambiguity)."""
    sl_rejections: int = 0
    """How many of the SL's attempts the broker rejected: only these use up `max_leg_attempts`."""
    tp_rejections: int = 0
    """The same for the TP."""
    exit_fills: tuple[ExitFill, ...] = ()
    """Every exit fill counted so far, one per broker row, by app order id: it outlives the order book of the
    day the fill happened in, so the PnL and the open quantity count the exits of every day."""

    def of_leg(self, leg: Leg, field: LegField) -> Any:
        """`field` of `leg`: `row.of_leg("sl", "tag")` is `row.sl_tag`."""
        return getattr(self, leg_column(leg, field))


UPDATABLE_ORDER_COLUMNS: tuple[str, ...] = (
    "quantity",
    "entry_type",
    "entry_stop_price",
    "entry_limit_price",
    "entry_order_id",
    "entry_tag",
    "entry_orderstatus",
    "filled_qty",
    "avg_entry_price",
    "entry_modifications",
    "sl_stop_price",
    "sl_order_id",
    "sl_tag",
    "sl_orderstatus",
    "sl_qty",
    "tp_price",
    "tp_order_id",
    "tp_tag",
    "tp_orderstatus",
    "tp_qty",
    "status",
    "exit_price",
    "realized_pnl",
    "unrealized_pnl",
    "ltp",
    "reject_reason",
    "legs_changed_at",
    "sl_rejections",
    "tp_rejections",
    "exit_fills",
)
"""The only columns `apply_order_updates` may change, in the order of `sql/*/orders/update.sql`'s SET list.
Identity columns (user, account, strategy, instrument, side, lineage) and bookkeeping (version, times)
are not updatable."""


class OrderUpdate(NamedTuple):
    """One optimistic change to an order: applied only if the row still has `expected_version`."""

    order_id: int
    expected_version: int
    changes: dict[str, Any]


class ArchivedOrderRow(msgspec.Struct, frozen=True, kw_only=True):
    """One `orders_archive` row: the order as it was, why it was archived and when."""

    order: OrderRow
    archive_reason: str
    archived_at: UtcDateTime


class RegenerationRow(TradePlan, frozen=True, kw_only=True):
    """One `entry_regenerate` row: a rejected entry to place again (`status` None until tried)."""

    id: int
    user_id: int
    account_id: int
    archived_order_id: int
    attempt: int
    entry_orderstatus: OrderStatus
    status: RegenerationStatus | None = None
    new_order_id: int | None = None
    failure_reason: str | None = None
    created_at: UtcDateTime
    updated_at: UtcDateTime


class LiveHistory(msgspec.Struct, frozen=True, kw_only=True):
    """One account's FIFO result as last written, in the order it was computed; `computed_at` is when a
    computation last changed it (an unchanged result is not written again)."""

    version: int
    """The same while the rows are unchanged, never that of other rows: what results computed from them key on."""
    matches: tuple[Match, ...] = ()
    open_lots: tuple[OpenLot, ...] = ()
    computed_at: UtcDateTime | None = None


class BrokerSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """One account's stored order book and positions, in fetch order."""

    version: int
    """The same while the rows are unchanged, never that of other rows: what results computed from them key on."""
    orders: tuple[BrokerOrder, ...]
    positions: tuple[BrokerPosition, ...]


FairPriceSource = Literal["desk", "feed"]
"""Who wrote a fair price: the desk's own pricing, which takes precedence, or the market-data feed."""


class FairPrice(msgspec.Struct, frozen=True, kw_only=True):
    """One `mainapp_fairprice` row."""

    symbol: str
    buy_fair_price: Decimal
    sell_fair_price: Decimal
    updated_at: UtcDateTime
    source: FairPriceSource = "desk"
    """As read; the writers mark it themselves (`upsert_desk_prices`, `upsert_feed_prices`), whatever it says."""


class AccountStatus(msgspec.Struct, frozen=True, kw_only=True):
    """An active account's state as the account strip shows it: never its keys or token."""

    account_id: int
    broker: str
    client_id: str
    session_needed: bool
    snapshot_fetched_at: UtcDateTime | None
    """When a fetched snapshot was last stored (see `Store.snapshot_time`)."""
    fetch_failing_since: UtcDateTime | None
    """The first failed fetch of the current streak; None when the last fetch succeeded or none was tried."""
    fetch_error: str | None
    fetch_error_kind: ErrorKind | None = None
    """The kind of `fetch_error`; None with it, or for an error kept before the kind was."""


class CycleRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One cycle of a user as the event log knows it."""

    cycle_id: str
    first_seq: int
    last_seq: int
    started_at: UtcDateTime
    last_event_at: UtcDateTime
    events: int


class UserListing(msgspec.Struct, frozen=True, kw_only=True):
    """A user as `run.py users list` shows it: never its token or the token's hash."""

    id: int
    name: str
    active: bool
    paused: bool
    pause_reason: str | None
    accounts: int
    active_accounts: int


class AdminTokenListing(msgspec.Struct, frozen=True, kw_only=True):
    """An admin token as `run.py admin-tokens list` shows it: never the token or its hash."""

    name: str
    created_at: UtcDateTime


class AccountListing(msgspec.Struct, frozen=True, kw_only=True):
    """An account as `run.py accounts list` shows it: never its keys or session token."""

    id: int
    user_name: str
    broker: str
    base_url: str
    client_id: str
    active: bool
    session_needed: bool
