"""WebSocket frames: JSON objects with a `type`. `ServerFrame` goes to clients, `ClientFrame` comes back."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec

from domain.errors import ErrorKind
from domain.records import FairPriceSource, OrderRow
from domain.time import UtcDateTime
from messages.common import CycleError, CycleSummary, Step


class _Frame(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    pass


# --- server -> client ------------------------------------------------------------------------------


class Hello(_Frame, tag="hello"):
    user_id: int
    server_time: UtcDateTime
    monitoring: bool
    """A replica monitors the user and this connection gets its cycles' frames."""
    paused: bool = False
    pause_reason: str = ""
    interval_s: float = 60.0
    relayed: bool = False
    """The replica monitoring the user is another one: its frames reach this connection over the fan-out."""


class CycleStartedFrame(_Frame, tag="cycle_started"):
    cycle_id: str
    at: UtcDateTime
    trigger: Literal["schedule", "manual", "connect", "takeover"] = "schedule"


class CycleSummaryFrame(_Frame, tag="cycle_summary"):
    summary: CycleSummary


class MonitoringErrors(_Frame, tag="monitoring_errors"):
    """The report step's frame: every error of one cycle, in the order they happened."""

    cycle_id: str
    errors: tuple[CycleError, ...]


class SessionNeeded(_Frame, tag="session_needed"):
    """The broker session of `account_id` expired: the user must log in again. `login_url` is where, for a
    broker whose session starts only with a login by hand (Kite); its request token then goes to
    `POST /api/accounts/{id}/session`. Empty for a broker the service logs in to with the stored keys."""

    account_id: int
    message: str
    login_url: str = ""


class OrdersFrame(_Frame, tag="orders"):
    """Every order of the user's accounts as the last sync left it (entry, SL and TP legs)."""

    orders: tuple[OrderRow, ...]


class SymbolPnl(msgspec.Struct, frozen=True, kw_only=True):
    account_id: int
    symbol: str
    realized_pnl: Decimal
    unrealized_pnl: Decimal | None
    open_qty: int
    """Signed: positive long, negative short."""
    fair_price: Decimal | None = None
    """The fair price that marks the open quantity: the sell fair price for a long (what selling fetches), the
    buy fair price for a short. None when flat or when the symbol has no fair price."""
    fair_price_updated_at: UtcDateTime | None = None
    fair_price_source: FairPriceSource | None = None
    fair_price_stale: bool | None = None
    """With an open quantity: its fair price is older than `[rules] fair_price_max_age_s` at the frame's time,
    or there is none. None when flat (and in rows of a server from before it)."""


class PnlFrame(_Frame, tag="pnl"):
    """FIFO profit and loss per account and symbol, as of the last cycle, with the fair price of each open
    position as of the frame's time."""

    rows: tuple[SymbolPnl, ...]
    fair_price_max_age_s: float | None = None
    """`[rules] fair_price_max_age_s`: a fair price older than this is stale (None from a server before it)."""


class DayPnl(msgspec.Struct, frozen=True, kw_only=True):
    """The day's PnL of an account or of all of them. `unrealized` and `day_pnl` are None while an open lot
    has no price to mark it (unmarked, not guessed); `unmarked_lots` counts those lots."""

    realized: Decimal
    unrealized: Decimal | None
    day_pnl: Decimal | None
    unmarked_lots: int = 0


AccountHealth = Literal["ok", "session_needed", "misconfigured", "failing", "not_fetched"]
"""`misconfigured`: failing, and the last failure was a configuration error (a wrong base URL, keys the broker
refused): correcting the account's settings is what helps."""


class AccountView(msgspec.Struct, frozen=True, kw_only=True):
    """One account as the page shows it: its state, its last fetch and its day PnL."""

    account_id: int
    broker: str
    client_id: str
    state: AccountHealth
    failing_since: UtcDateTime | None = None
    """The first failed fetch of the current failing streak."""
    last_error: str = ""
    last_fetch_at: UtcDateTime | None = None
    """The last fetch whose snapshot was stored."""
    stale: bool
    """Its orders and PnL were not fetched by the latest cycle: they are the last known ones."""
    pnl: DayPnl


class AccountsFrame(_Frame, tag="accounts"):
    """Every active account of the user with its state and day PnL, the total, and the daily loss limit."""

    as_of: UtcDateTime
    accounts: tuple[AccountView, ...]
    total: DayPnl
    limit_pnl: Decimal
    """The day PnL the daily loss limit watches (unmarked lots count as zero there)."""
    daily_loss_limit: Decimal | None = None
    paused: bool = False
    pause_reason: str = ""


class RecentError(msgspec.Struct, frozen=True, kw_only=True):
    """An error of a recent cycle, with the cycle it happened in."""

    cycle_id: str
    step: Step
    account_id: int | None
    kind: ErrorKind
    message: str
    at: UtcDateTime


class RecentFrame(_Frame, tag="recent"):
    """The user's latest cycles and their errors from the event log, oldest first, so that a page opened at
    any time shows what one open all along would."""

    cycles: tuple[CycleSummary, ...]
    errors: tuple[RecentError, ...]


class PausedFrame(_Frame, tag="paused"):
    """The kill switch changed: automation is paused (with why) or running again."""

    paused: bool
    reason: str = ""


class FanOutFrame(_Frame, tag="fanout"):
    """Whether the frames of the replica monitoring the user (another one) reach this connection now (`up`),
    and why they stopped or what came back; when they come back, the current state follows."""

    up: bool
    message: str


class ErrorFrame(_Frame, tag="error"):
    """A frame the server could not accept; the connection stays up."""

    message: str


class Pong(_Frame, tag="pong"):
    pass


ServerFrame = (
    Hello | CycleStartedFrame | CycleSummaryFrame | MonitoringErrors | SessionNeeded | OrdersFrame | PnlFrame
    | AccountsFrame | RecentFrame | PausedFrame | FanOutFrame | ErrorFrame | Pong
)


# --- client -> server ------------------------------------------------------------------------------


class Ping(_Frame, tag="ping"):
    pass


class RunCycle(_Frame, tag="run_cycle"):
    """Run a cycle now, unless one is running."""


class Subscribe(_Frame, tag="subscribe"):
    """Ask for the current orders and PnL snapshots now, rather than after the next cycle."""

    topics: tuple[str, ...] = ()


class Pause(_Frame, tag="pause"):
    """Kill switch: stop sending orders (OCO cancels still go) until `resume`."""

    reason: str = "paused by the user"


class Resume(_Frame, tag="resume"):
    pass


ClientFrame = Ping | RunCycle | Subscribe | Pause | Resume
