"""The storage ports: `EventLog` (the append-only monitor_events log), `EventLogScan` (the audit's reads of
it), and the system of record by concern (leases, cycle context, accounts, snapshots, orders, archive and
regeneration, fair prices, admin, admin tokens, idempotency keys), which `Store` joins. `repository.SqlStore` implements
them over one pool (mysql.py or sqlite.py); `event_log.py` the event log."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import msgspec

from domain.broker import BrokerAccount, BrokerOrder, BrokerPosition
from domain.errors import ErrorKind
from domain.pnl import Match, OpenLot
from domain.quotes import WatchedInstrument
from domain.records import (
    AccountStatus,
    AdminTokenListing,
    ArchivedOrderRow,
    BrokerSnapshot,
    CycleRecord,
    FairPrice,
    Leg,
    LiveHistory,
    OrderRow,
    OrderUpdate,
    RegenerationRow,
    RegenerationStatus,
)
from domain.time import UtcDateTime
from messages.events import Event


class ChainLink(msgspec.Struct, frozen=True, kw_only=True):
    """A stored row's place in its user's hash chain (adapters/store/event_chain.py): the hash stored with it
    (None: written before the chain existed) and the canonical bytes of the row as read, which it must cover."""

    hash: str | None
    canonical: bytes


class LoggedEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event as stored: its per-user sequence number and the decoded event (`link` on the audit's scan)."""

    seq: int
    event: Event
    link: ChainLink | None = None


class UndecodableEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A stored row whose payload does not decode as any `Event` (tampered, or a type this version lacks)."""

    seq: int
    cycle_id: str
    at: UtcDateTime
    type: str
    error: str
    link: ChainLink | None = None


class UserEventSpan(msgspec.Struct, frozen=True, kw_only=True):
    """A user's events in a time range: the first and last sequence number there and how many rows."""

    user_id: int
    first_seq: int
    last_seq: int
    events: int


class EventLog(Protocol):
    def append(self, event: Event) -> None:
        """Queue `event` for the log without blocking; thread-safe. Durable once `flush()` returns."""

    async def flush(self) -> None:
        """Return when every event appended before the call is durable."""

    async def read_cycle(self, user_id: int, cycle_id: str) -> list[LoggedEvent]:
        """One cycle's events in sequence order."""

    async def cycles(
        self, user_id: int, limit: int = 50, since: datetime | None = None, until: datetime | None = None
    ) -> list[CycleRecord]:
        """The user's cycles with an event in [since, until), newest first."""

    async def read_events(self, user_id: int, since: datetime, until: datetime) -> list[LoggedEvent]:
        """Every event of the user whose time is in [since, until), in sequence order (the audit)."""

    async def read_events_of_type(self, user_id: int, event_type: str, since: datetime,
                                  until: datetime) -> list[LoggedEvent]:
        """The user's events tagged `event_type` whose time is in [since, until), in sequence order."""


class EventLogScan(Protocol):
    """The audit's reads: every user's events, page by page, each row decoded on its own."""

    async def spans(self, since: datetime | None = None, until: datetime | None = None) -> list[UserEventSpan]:
        """Every user with an event whose time is in [since, until) (unbounded if None), by user id."""

    async def scan(
        self, user_id: int, first_seq: int, last_seq: int, limit: int
    ) -> list[LoggedEvent | UndecodableEvent]:
        """Up to `limit` of the user's events with first_seq <= seq <= last_seq, in sequence order."""


class Lease(msgspec.Struct, frozen=True, kw_only=True):
    """Who monitors a user: `held` when it is this process; `owner` and its fencing token otherwise."""

    user_id: int
    held: bool
    owner: str
    fencing_token: int
    expires_at: datetime | None = None
    """Until when the lease holds unless renewed."""


class CycleContext(msgspec.Struct, frozen=True, kw_only=True):
    """What a cycle needs to know about its user before it starts (see CycleContextLoaded)."""

    account_ids: tuple[int, ...]
    awaiting_session: tuple[int, ...] = ()
    regeneration_strategies: tuple[str, ...] = ()
    paused: bool = False
    pause_reason: str = ""
    daily_loss_limit: Decimal | None = None
    loaded_at: UtcDateTime | None = None


class Transaction(Protocol):
    """One open database transaction; statements are named queries of the store's dialect."""

    async def execute(self, name: str, params: Sequence[Any] = (), counts: Sequence[int] = ()) -> int:
        """Run a statement; return the number of rows it matched."""

    async def insert(self, name: str, params: Sequence[Any] = ()) -> int:
        """Run a one-row INSERT; return the new row's id."""

    async def fetch_all(
        self, name: str, params: Sequence[Any] = (), counts: Sequence[int] = ()
    ) -> list[dict[str, Any]]:
        """Run a query; rows as dicts with Decimal money and aware UTC datetimes."""


class TransactionalStore(Protocol):
    """The database under the store: its dialect, transactions, and whether it answers."""

    dialect: str

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """Begin a transaction: committed when the block ends, rolled back if it raises."""

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Return when the database answers; raise DatabaseError when it does not."""


class LeaseStore(Protocol):
    """Which process may write for a user: its lease, taken, renewed, released, or held elsewhere."""

    async def acquire_lease(self, user_id: int, ttl_s: float) -> Lease:
        """Take, renew or take over (when expired) the user's lease; cycle writes are fenced by it."""

    async def release_lease(self, user_id: int) -> None:
        """Give up the user's lease if this process holds it."""

    async def lease_elsewhere(self, user_id: int) -> Lease | None:
        """The user's lease when another live process holds it (this one may not write for the user); None when
        this one may (it holds the lease, or nobody alive does)."""


class CycleContextStore(Protocol):
    """What a cycle starts from: the user's accounts and sessions, strategies, kill switch and loss limit."""

    async def load_cycle_context(self, user_id: int) -> CycleContext:
        """Active accounts with a live session, those awaiting one, permitted strategies, kill switch."""

    async def day_pnl(self, user_id: int) -> Decimal:
        """Realized plus unrealized PnL of all the user's accounts as the last cycle computed it (unmarked lots
        count as zero)."""

    async def set_daily_loss_limit(self, user_id: int, limit: Decimal | None) -> None:
        """Pause the user's automation when the day's PnL falls to minus `limit`; None removes the limit."""

    async def set_paused(self, user_id: int, paused: bool, reason: str = "") -> str:
        """Turn the user's kill switch; returns the reason as stored (cut to the column's length)."""


class AccountStore(Protocol):
    """The user's broker accounts: credentials, sessions and fetch state."""

    async def broker_base_urls(self) -> list[str]:
        """The distinct broker base URLs of active accounts (readiness checks)."""

    async def broker_accounts(self, user_id: int, account_ids: Sequence[int]) -> list[BrokerAccount]:
        """Credentials of the listed accounts that belong to the user (secrets included: never log them)."""

    async def set_session_needed(self, user_id: int, account_id: int) -> None:
        """Mark the account's session as needing a login by hand; fenced: refused (LeaseLost) where this process
        may not write the user (another replica holds the lease)."""

    async def record_fetch_outcome(self, user_id: int, account_id: int, at: datetime, error: str | None,
                                   kind: ErrorKind | None = None) -> None:
        """An account's fetch succeeded (`error` None) or failed with `error` of `kind` at `at`: keeps the
        failing streak (`AccountStatus.fetch_failing_since`, `fetch_error`, `fetch_error_kind`), writing only
        when it changes. Fenced, as every write of a cycle."""

    async def account_statuses(self, user_id: int) -> list[AccountStatus]:
        """The user's active accounts with their session and fetch state, by account id; no secrets."""

    async def set_account_token(self, user_id: int, account_id: int, token: str, *, fenced: bool = True) -> None:
        """Store a fresh session token and clear `session_needed`. Fenced unless `fenced` is False: a login the
        user made by hand is true whichever replica took it, and is stored from any."""


class SnapshotStore(Protocol):
    """The last fetched order book and positions of each account, and its FIFO history."""

    async def replace_broker_snapshot(
        self,
        user_id: int,
        account_id: int,
        orders: Sequence[BrokerOrder],
        positions: Sequence[BrokerPosition],
        fetched_at: datetime,
    ) -> None:
        """Replace the account's order book and positions in one transaction."""

    async def broker_snapshot(self, user_id: int, account_id: int) -> BrokerSnapshot:
        """The account's stored snapshot, with the version of its rows."""

    async def snapshot_time(self, user_id: int, account_id: int) -> datetime | None:
        """When the account's stored snapshot was fetched; None before the first."""

    async def replace_live_history(
        self,
        user_id: int,
        account_id: int,
        matches: Sequence[Match],
        open_lots: Sequence[OpenLot],
        computed_at: datetime,
    ) -> None:
        """Replace the account's rows of `bo_live_history` in one transaction (never TRUNCATE)."""

    async def live_history(self, user_id: int, account_id: int) -> LiveHistory: ...


class OrderStore(Protocol):
    """The strategy trades (`orders`): inserted, read and updated under their versions."""

    async def insert_order(self, row: OrderRow, entry_tag: Callable[[int], str] | None = None) -> int:
        """Insert a new order of `row.user_id` on `row.account_id` (which must be that user's); its id. An order
        regenerated from an archived one claims that archived order's pending `entry_regenerate` row in the
        same transaction (StaleVersion, and no order, when there is none left to claim). `entry_tag(order_id)`,
        when given, is written as the entry's tag in that same transaction: the row never exists without it."""

    async def order(self, user_id: int, order_id: int) -> OrderRow | None: ...

    async def orders_for_accounts(self, user_id: int, account_ids: Sequence[int]) -> list[OrderRow]: ...

    async def apply_order_updates(
        self,
        user_id: int,
        account_id: int,
        updates: Sequence[OrderUpdate | tuple[int, int, Mapping[str, Any]]],
    ) -> dict[int, int]:
        """All updates in one transaction, each guarded by its expected version; the new versions.

        Raises StaleVersion (nothing written) if any row has moved on, DatabaseError on any failure.
        """

    async def record_leg_intent(
        self, user_id: int, order_id: int, leg: Leg, tag: str, expected_version: int
    ) -> int:
        """Write a leg's tag before the order is sent; the row's new version."""


class ArchiveStore(Protocol):
    """Rejected orders archived, and the regenerations of their entries."""

    async def archive_rejected(
        self, user_id: int, account_id: int, order_ids_with_reasons: Sequence[tuple[int, str]]
    ) -> list[dict[str, str | int | None]]:
        """Move the orders to `orders_archive` in one transaction; the archived rows as they were."""

    async def archived_orders(self, user_id: int, account_id: int) -> list[ArchivedOrderRow]: ...

    async def create_regenerations(
        self, user_id: int, account_ids: Sequence[int], strategies: Sequence[str], max_regenerations: int,
        backoff_s: float = 0.0,
    ) -> list[RegenerationRow]:
        """Archived rejected entries of these strategies, not yet regenerated, attempt < max, whose backoff
        (`backoff_s` doubled for each earlier attempt, counted from the archiving) has passed: new rows."""

    async def pending_regenerations(self, user_id: int, account_id: int) -> list[RegenerationRow]:
        """The account's rows still to place: not settled, and not yet claimed by an order (`insert_order`)."""

    async def mark_regeneration(
        self, user_id: int, regeneration_id: int, status: RegenerationStatus, detail: int | str
    ) -> None:
        """PLACED with the new order id, or FAILED with the reason; only a row still pending."""


class FairPriceStore(Protocol):
    """The fair prices by symbol, each marked with its source: the desk's take precedence over the feed's."""

    async def fair_prices(self, symbols: Sequence[str]) -> dict[str, FairPrice]: ...

    async def list_fair_prices(self) -> list[FairPrice]:
        """Every stored fair price, by symbol."""

    async def upsert_desk_prices(self, prices: Sequence[FairPrice]) -> None:
        """Write the desk's prices in one transaction, marked `desk`, over any stored price (the feed's too)."""

    async def upsert_feed_prices(self, prices: Sequence[FairPrice]) -> None:
        """Write the market-data feed's prices in one transaction, marked `feed`, leaving every symbol the desk
        has priced as the desk wrote it."""

    async def clear_desk_price(self, symbol: str) -> bool:
        """Hand `symbol` back to the feed: remove the desk's price of it; False when the desk has none."""

    async def watched_instruments(self, user_ids: Sequence[int], brokers: Sequence[str]
                                  ) -> list[WatchedInstrument]:
        """The instruments of the open orders and non-flat positions of `user_ids`' active accounts of
        `brokers`, each once."""


class AdminStore(Protocol):
    """Users, their tokens, accounts and permissions, as the admin commands set them."""

    async def add_user(self, name: str) -> tuple[int, str]:
        """Create a user; its id and a new API token, returned once (only its SHA-256 is stored)."""

    async def user_for_token(self, token: str) -> int | None: ...

    async def active_token_hashes(self, user_ids: Sequence[int]) -> dict[int, str]:
        """The token hash of each of `user_ids` that is active; a user missing has lost its access."""

    async def user_id(self, name: str) -> int | None: ...

    async def add_account(
        self,
        user_id: int,
        broker: str,
        base_url: str,
        client_id: str,
        app_key: str = "",
        secret_key: str = "",
    ) -> int: ...

    async def set_permissions(self, user_id: int, strategies: Sequence[str]) -> None:
        """Replace the user's regeneration strategies; an empty list turns regeneration off."""


class AdminTokenStore(Protocol):
    """The admin tokens of a desk's pricing, by name: kept apart from the users' API tokens."""

    async def add_admin_token(self, name: str) -> str:
        """Create an admin token named `name`; the token, returned once (only its SHA-256 is stored)."""

    async def admin_for_token(self, token: str) -> str | None:
        """The name of the admin token `token` is, or None (a user's token is none)."""

    async def list_admin_tokens(self) -> list[AdminTokenListing]:
        """Every admin token's name and creation time, by name; never a token or its hash."""

    async def remove_admin_token(self, name: str) -> bool:
        """Remove the admin token named `name`; False when there is none."""


class IdempotencyStore(Protocol):
    """The batch API's idempotency keys."""

    async def claim_idempotency_key(self, user_id: int, key: str, request_sha256: str,
                                    expired_before: datetime) -> IdempotencyKey:
        """Claim the user's key for a new request (`claimed`), unless it is held: then the holder's record. A
        claim made before `expired_before` is taken over as if the key were new."""

    async def idempotency_key(self, user_id: int, key: str) -> IdempotencyKey | None:
        """The key's record as it is now; None when it is free."""

    async def answer_idempotency_key(self, user_id: int, claim: IdempotencyKey, status: int, answer: bytes) -> None:
        """Keep the answer of the request that holds `claim`."""

    async def release_idempotency_key(self, user_id: int, claim: IdempotencyKey) -> None:
        """Free a key whose request was refused before it wrote or sent anything."""


class Store(TransactionalStore, LeaseStore, CycleContextStore, AccountStore, SnapshotStore, OrderStore,
            ArchiveStore, FairPriceStore, AdminStore, AdminTokenStore, IdempotencyStore, Protocol):
    """The whole system of record, over one pool: every concern above. Every write is scoped to a user (and an
    account where it concerns one)."""


class IdempotencyKey(msgspec.Struct, frozen=True, kw_only=True):
    """One user's `Idempotency-Key`: who holds it (`claimed` when it is this call), for which request, and
    the answer once the request has one."""

    key: str
    claim_token: str
    request_sha256: str
    claimed_at: UtcDateTime
    claimed: bool = False
    answer_status: int | None = None
    answer: bytes | None = None
