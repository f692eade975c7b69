"""`SqlStore`: the Store port over a MySQL or SQLite database, one implementation for both dialects.

Owns the domain queries: which named statements run, in which transaction, scoped to which user and
account, and how rows become typed structs. It never builds SQL text (statements come from
`sql/<dialect>/`, chosen by name) and never formats a value into SQL. Writes are scoped by user, and by
account where one is concerned; replacing a snapshot or FIFO history is DELETE WHERE + INSERT in one
transaction, never TRUNCATE. The fair prices (`fair_prices.py`) and the admin tokens (`admin_tokens.py`) are
concerns of their own, mixed in.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple, Protocol, TypeVar

import msgspec

from adapters.store.admin_tokens import AdminTokenRows
from adapters.store.batched_read import ReadBatcher
from adapters.store.fair_prices import FairPriceRows
from adapters.store.kept import KeptRows, RowDiff, apply_diff, diff_rows, next_version
from adapters.store.lease_owner import is_dead_here, process_owner
from adapters.store.multi_row import chunks, insert_rows
from adapters.store.port import CycleContext, IdempotencyKey, Lease, Transaction
from adapters.store.rerun import RERUN_POLICY, RerunPolicy, rerun_when_aborted
from adapters.store.secrets import NO_KEY, Keyring, SecretKeyError
from adapters.store.tokens import hash_token, new_token, row_of_token
from adapters.store.values import money, utc
from domain.broker import BrokerAccount, BrokerOrder, BrokerPosition
from domain.errors import DatabaseError, ErrorKind, LeaseLost, StaleVersion
from domain.limits import regeneration_allowed, regeneration_due, total_day_pnl
from domain.pnl import Match, OpenLot
from domain.records import (
    UPDATABLE_ORDER_COLUMNS,
    AccountListing,
    AccountStatus,
    ArchivedOrderRow,
    BrokerSnapshot,
    Leg,
    LiveHistory,
    OrderRow,
    OrderUpdate,
    RegenerationRow,
    RegenerationStatus,
    UserListing,
    exit_fills_from_json,
    exit_fills_json,
)

S = TypeVar("S", BrokerOrder, BrokerPosition)

_ORDER_INSERT_FIELDS = tuple(f for f in OrderRow.__struct_fields__ if f != "id")
_UPDATABLE = frozenset(UPDATABLE_ORDER_COLUMNS)
_MARK_COLUMNS = frozenset({"ltp", "unrealized_pnl"})
"""An update that changes only these (a fair-price move of a running order) is written with the account's other
such updates in one statement (`orders/update_marks`), not one UPDATE each."""
_BROKER_ORDER_FIELDS = BrokerOrder.__struct_fields__
_BROKER_POSITION_FIELDS = BrokerPosition.__struct_fields__
_LEGS = ("entry", "sl", "tp")
PAUSE_REASON_MAX_CHARS = 255
FETCH_ERROR_CHARS = 255
"""accounts.fetch_error keeps this much of a fetch's error message."""
"""`users.pause_reason` is VARCHAR(255): a longer reason is cut to it, so a pause is never refused for its text."""


class Database(Protocol):
    """What `SqlStore` needs from a dialect adapter (mysql.MySqlDatabase, sqlite.SqliteDatabase)."""

    dialect: str
    statements: int
    """Statements sent so far, BEGIN and COMMIT included (the metrics and the benchmarks read it)."""

    def transaction(self) -> AbstractAsyncContextManager[Any]: ...

    def autocommit(self) -> AbstractAsyncContextManager[Any]:
        """Statements each autocommitted, outside any transaction: reads, or one idempotent write."""

    async def close(self) -> None: ...


async def _write_diff(tx: Transaction, delete_all: str, delete_ordinals: str, insert: str,
                      delete_head: tuple[int, int], diff: RowDiff, row_at: Callable[[int], Sequence[Any]]) -> None:
    """Apply `diff` to one account's rows: the deletes (by the account, or by the account and ordinals: an
    equality prefix of the index, never a range, so no scan locks another account's rows), then one
    multi-row INSERT of the new rows."""
    if diff.delete_all:
        await tx.execute(delete_all, delete_head)
    for chunk in chunks([(ordinal,) for ordinal in diff.delete]):
        await tx.execute(delete_ordinals, (*delete_head, *(row[0] for row in chunk)), counts=(len(chunk),))
    await insert_rows(tx, insert, [row_at(i) for i in diff.insert])


_HISTORY_COLUMNS = ("kind", "symbol", "direction", "qty", "entry_order_id", "exit_order_id", "entry_price",
                    "exit_price", "realized_pnl", "mark", "unrealized_pnl")


def _stored_values(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row's values as the database returns them: money rounded to its 4 places."""
    return tuple(money(value) if isinstance(value, Decimal) else value for value in row)


def _as_stored(row: S) -> S:
    """A broker row as the database returns it: money rounded to its 4 places, times in UTC."""
    changes = {field: money(value) if isinstance(value, Decimal) else utc(value)
               for field in row.__struct_fields__
               if isinstance(value := getattr(row, field), Decimal | datetime)}
    return msgspec.structs.replace(row, **changes)


def _history(rows: Sequence[Sequence[Any]], computed_at: datetime | None) -> LiveHistory:
    """`bo_live_history` rows (the `_HISTORY_COLUMNS`, in ordinal order) as matches and open lots, a new
    version."""
    matches, open_lots = [], []
    for kind, symbol, direction, qty, entry_id, exit_id, entry_price, exit_price, realized, mark, unrealized in rows:
        if kind == "MATCH":
            matches.append(Match(symbol=symbol, entry_order_id=entry_id, exit_order_id=exit_id,
                                    direction=direction, qty=qty, entry_price=entry_price, exit_price=exit_price,
                                    realized_pnl=realized))
        else:
            open_lots.append(OpenLot(symbol=symbol, order_id=entry_id, direction=direction, qty=qty,
                                        entry_price=entry_price, mark=mark, unrealized_pnl=unrealized))
    return LiveHistory(version=next_version(), matches=tuple(matches), open_lots=tuple(open_lots),
                       computed_at=computed_at)


def _order(row: Mapping[str, Any]) -> OrderRow:
    return msgspec.convert({**row, "exit_fills": exit_fills_from_json(row["exit_fills"])}, OrderRow)


def _as_stored_value(value: Any) -> Any:
    """A column value as the database returns it: money rounded to its 4 places, a time in UTC."""
    if isinstance(value, Decimal):
        return money(value)
    return utc(value) if isinstance(value, datetime) else value


def _mark_values(changes: Mapping[str, Any]) -> tuple[Any, ...]:
    """An `orders/update_marks` row's flags and values: (set ltp?, ltp, set unrealized_pnl?, unrealized_pnl)."""
    return ("ltp" in changes, changes.get("ltp"), "unrealized_pnl" in changes, changes.get("unrealized_pnl"))


def _order_param(column: str, value: Any) -> Any:
    """The value of an `orders` column as a statement parameter: the exit fills as their JSON text."""
    return exit_fills_json(value) if column == "exit_fills" else value


def _archived(row: OrderRow) -> dict[str, str | int | None]:
    """An archived order as its event carries it: every column a string, an integer or None."""
    return {**msgspec.to_builtins(row), "exit_fills": exit_fills_json(row.exit_fills)}


def _order_id(row: OrderRow) -> int:
    return row.id


def _regeneration(row: Mapping[str, Any]) -> RegenerationRow:
    return msgspec.convert(row, RegenerationRow)


RELEASED = datetime(1970, 1, 1, tzinfo=UTC)
"""The expiry a released lease is given: past on every clock."""

KEPT_ROWS = 500_000
"""Rows kept in memory per kind (broker snapshot rows, FIFO rows, orders), least recently used dropped first."""


class _KeptSnapshot(NamedTuple):
    fetched_orders: tuple[BrokerOrder, ...]
    fetched_positions: tuple[BrokerPosition, ...]
    snapshot: BrokerSnapshot
    """As the database returns it (money at 4 places, times in UTC)."""
    fetched_at: datetime


class _KeptHistory(NamedTuple):
    source: tuple[tuple[Match, ...], tuple[OpenLot, ...]]
    """The matches and open lots last written."""
    computed: tuple[tuple[Any, ...], ...]
    """Each row's columns after (user_id, account_id, ordinal, computed_at), as computed."""
    stored: tuple[tuple[Any, ...], ...]
    history: LiveHistory
    """As the database returns it."""


class SqlStore(FairPriceRows, AdminTokenRows):
    """The system of record over one database; `now` is the clock for bookkeeping timestamps.

    Keeps what it last wrote of each account's snapshot and FIFO rows and last read of its orders (by
    `orders_revision`), so a cycle in which nothing changed reads and writes almost nothing; a user's kept rows
    are dropped when its lease moves or a write fails. Hot reads are batched (`ReadBatcher`) and autocommitted;
    every write is `@rerun_when_aborted` and locks in one order (README.md, Storage). One I/O loop only.
    """

    def __init__(self, database: Database, now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 owner: str | None = None, kept_rows: int = KEPT_ROWS,
                 rerun_policy: RerunPolicy = RERUN_POLICY, keyring: Keyring | None = None) -> None:
        self.database = database
        self.keyring = keyring
        """Seals the broker secrets this store writes and opens those it reads; None: it can do neither."""
        self.rerun_policy = rerun_policy
        self.dialect = database.dialect
        self._now = now
        self.owner = owner or process_owner()
        self._held: dict[int, int] = {}
        self._snapshots: KeptRows[_KeptSnapshot] = KeptRows(kept_rows)
        self._histories: KeptRows[_KeptHistory] = KeptRows(kept_rows)
        self._orders: KeptRows[tuple[int, tuple[OrderRow, ...]]] = KeptRows(kept_rows)
        self._contexts = ReadBatcher(self._read_cycle_contexts)
        self._credentials = ReadBatcher(self._read_credentials)
        self._revisions = ReadBatcher(self._read_orders_revisions)
        self._fair_prices = ReadBatcher(self._read_fair_prices)
        self._lease_listeners: list[Callable[[int], None]] = []
        self._fetch_errors: dict[int, dict[int, tuple[str, ErrorKind | None] | None]] = {}
        """User -> account -> the fetch error last written (None: no failing streak), to skip unchanged writes."""

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        return self.database.transaction()

    def _keyring(self) -> Keyring:
        if self.keyring is None:
            raise SecretKeyError(NO_KEY)
        return self.keyring

    def _seal(self, value: str, account_id: int, column: str) -> str:
        return self._keyring().seal(value, account_id, column) if value else ""

    def _open(self, row: dict[str, Any], column: str) -> str:
        return self._keyring().open(row[column], row["account_id"], column) if row[column] else ""

    def shared_reads(self) -> dict[str, tuple[int, int]]:
        """For each kind of shared read: (reads asked for, statements they took) so far."""
        return {name: (batcher.requests, batcher.statements) for name, batcher in (
            ("cycle context", self._contexts), ("credentials", self._credentials),
            ("orders revisions", self._revisions), ("fair prices", self._fair_prices))}

    async def close(self) -> None:
        await self.database.close()

    @asynccontextmanager
    async def _owned_account(self, user_id: int, account_id: int) -> AsyncIterator[Transaction]:
        """A fenced transaction in which the account is checked to be the user's and locked."""
        async with self.transaction() as tx:
            await self._fence(tx, user_id)
            if not await tx.fetch_all("accounts/lock_owned", (account_id, user_id)):
                raise DatabaseError(f"account {account_id} is not an account of user {user_id}")
            yield tx

    # --- replica leases and fencing ---------------------------------------------------------------

    async def _fence(self, tx: Transaction, user_id: int) -> None:
        """Refuse a write about `user_id` that this process may not make: it holds the user's lease with an
        older fencing token (someone took over), or another live replica holds it. No lease: allowed."""
        rows = await tx.fetch_all("leases/check", (user_id,))
        if not rows:
            return
        lease = rows[0]
        held = self._held.get(user_id)
        if held is not None:
            if lease["owner"] == self.owner and lease["fencing_token"] == held:
                return
            self._lease_changed(user_id)
            if lease["owner"] == self.owner:
                raise LeaseLost(f"this replica's lease of user {user_id} moved to fencing token "
                                f"{lease['fencing_token']} during the write; write refused")
            raise LeaseLost(f"this replica lost the lease of user {user_id} to {lease['owner']}; write refused")
        if self._held_elsewhere(lease):
            self._lease_changed(user_id)
            raise LeaseLost(f"user {user_id} is monitored by replica {lease['owner']}; write refused")

    def _held_elsewhere(self, lease: Mapping[str, Any]) -> bool:
        """Another live process holds the lease: not this one, not expired, not a dead process of this host."""
        return (lease["owner"] != self.owner and lease["expires_at"] > self._now()
                and not is_dead_here(lease["owner"]))

    async def lease_elsewhere(self, user_id: int) -> Lease | None:
        async with self.database.autocommit() as tx:
            rows = await tx.fetch_all("leases/read", (user_id,))
        if not rows or not self._held_elsewhere(rows[0]):
            return None
        lease = rows[0]
        return Lease(user_id=user_id, held=False, owner=lease["owner"], fencing_token=lease["fencing_token"],
                     expires_at=lease["expires_at"])

    def on_lease_changed(self, listener: Callable[[int], None]) -> None:
        """Call `listener(user_id)` whenever this process stops being surely the user's only writer (its
        lease was taken, lost or released): for what is kept outside the store, such as the event log's
        sequence numbers."""
        self._lease_listeners.append(listener)

    def _lease_changed(self, user_id: int) -> None:
        """This process is not (or no longer surely) the only writer of the user: forget what is kept."""
        self._held.pop(user_id, None)
        self._snapshots.forget_user(user_id)
        self._histories.forget_user(user_id)
        self._fetch_errors.pop(user_id, None)
        for listener in self._lease_listeners:
            listener(user_id)

    @rerun_when_aborted
    async def acquire_lease(self, user_id: int, ttl_s: float) -> Lease:
        """Take or renew the user's lease for `ttl_s`. Held: this process may run the user's cycles. Anything
        but a renewal drops what is kept of the user: another process may have written in between.

        The row is made first if missing (free, token 0), then locked, so concurrent calls, here or on other
        replicas, queue on it and each sees the one before: never a duplicate key. A lease whose owner is this
        process is renewed (also when this process lost track of its token); a free one (expired, released,
        or held by a dead process of this host) is taken over with the next fencing token. Two replicas racing
        through different nodes of a Galera cluster both write the row: one commit fails certification (1213)
        and is run again, whole, and then sees the winner."""
        now = self._now()
        expires = now + timedelta(seconds=ttl_s)
        try:
            async with self.transaction() as tx:
                await tx.execute("leases/ensure", (user_id, RELEASED))
                lease = (await tx.fetch_all("leases/check", (user_id,)))[0]
                token = lease["fencing_token"]
                if lease["owner"] == self.owner and (token == self._held.get(user_id) or lease["expires_at"] > now):
                    await tx.execute("leases/renew", (expires, user_id, self.owner, token))
                elif lease["expires_at"] <= now or is_dead_here(lease["owner"]):
                    await tx.execute("leases/take_over", (self.owner, expires, user_id, token))
                    token += 1
                else:
                    self._lease_changed(user_id)
                    return Lease(user_id=user_id, held=False, owner=lease["owner"], fencing_token=token,
                                 expires_at=lease["expires_at"])
        except DatabaseError:
            self._lease_changed(user_id)
            raise
        if self._held.get(user_id) != token:
            self._lease_changed(user_id)
        self._held[user_id] = token
        return Lease(user_id=user_id, held=True, owner=self.owner, fencing_token=token, expires_at=expires)

    @rerun_when_aborted
    async def release_lease(self, user_id: int) -> None:
        token = self._held.get(user_id)
        self._lease_changed(user_id)
        if token is not None:
            async with self.transaction() as tx:
                await tx.execute("leases/release", (RELEASED, user_id, self.owner, token))

    # --- cycle context and accounts ---------------------------------------------------------------

    async def load_cycle_context(self, user_id: int) -> CycleContext:
        context = (await self._contexts.read((user_id,))).get(user_id)
        if context is None:
            raise DatabaseError(f"user {user_id} does not exist")
        return context

    async def _read_cycle_contexts(self, user_ids: Sequence[int]) -> dict[int, CycleContext]:
        async with self.database.autocommit() as tx:
            rows = await tx.fetch_all("users/cycle_contexts", (*user_ids, *user_ids),
                                      counts=(len(user_ids), len(user_ids)))
        loaded_at = self._now()
        users: dict[int, dict[str, Any]] = {}
        accounts_of: dict[int, list[dict[str, Any]]] = {}
        strategies_of: dict[int, list[str]] = {}
        for row in rows:
            if row["kind"] == "strategy":
                strategies_of.setdefault(row["user_id"], []).append(row["strategy"])
                continue
            users.setdefault(row["user_id"], row)
            if row["account_id"] is not None:
                accounts_of.setdefault(row["user_id"], []).append(row)
        contexts = {}
        for user_id, user in users.items():
            mine = accounts_of.get(user_id, [])
            contexts[user_id] = CycleContext(
                account_ids=tuple(a["account_id"] for a in mine if not a["session_needed"]),
                awaiting_session=tuple(a["account_id"] for a in mine if a["session_needed"]),
                regeneration_strategies=tuple(strategies_of.get(user_id, ())),
                paused=bool(user["paused"]),
                pause_reason=user["pause_reason"] or "",
                daily_loss_limit=user["daily_loss_limit"],
                loaded_at=loaded_at,
            )
        return contexts

    async def day_pnl(self, user_id: int) -> Decimal:
        async with self.database.autocommit() as tx:
            rows = await tx.fetch_all("live_history/pnl_of_user", (user_id,))
        return total_day_pnl((row["realized_pnl"], row["unrealized_pnl"]) for row in rows)

    @rerun_when_aborted
    async def set_daily_loss_limit(self, user_id: int, limit: Decimal | None) -> None:
        if limit is not None and limit <= 0:
            raise ValueError("a daily loss limit is a positive amount")
        async with self.transaction() as tx:
            if await tx.execute("users/set_daily_loss_limit", (limit, user_id)) != 1:
                raise DatabaseError(f"user {user_id} does not exist")

    async def broker_accounts(self, user_id: int, account_ids: Sequence[int]) -> list[BrokerAccount]:
        wanted = sorted(set(account_ids))
        found = await self._credentials.read(wanted)
        return [found[a][1] for a in wanted if a in found and found[a][0] == user_id]

    async def _read_credentials(self, account_ids: Sequence[int]) -> dict[int, tuple[int, BrokerAccount]]:
        async with self.database.autocommit() as tx:
            rows = await tx.fetch_all("accounts/broker_accounts", account_ids, counts=(len(account_ids),))
        return {row["account_id"]: (row["user_id"], msgspec.convert(
            {**row, **{column: self._open(row, column) for column in ("token", "app_key", "secret_key")}},
            BrokerAccount)) for row in rows}

    @rerun_when_aborted
    @rerun_when_aborted
    async def set_session_needed(self, user_id: int, account_id: int) -> None:
        async with self.transaction() as tx:
            await self._fence(tx, user_id)
            if not await tx.execute("accounts/set_session_needed", (self._now(), account_id, user_id)):
                raise DatabaseError(f"account {account_id} is not an account of user {user_id}")

    @rerun_when_aborted
    async def record_fetch_outcome(self, user_id: int, account_id: int, at: datetime, error: str | None,
                                   kind: ErrorKind | None = None) -> None:
        outcome = None if error is None else (error[:FETCH_ERROR_CHARS], kind)
        written = self._fetch_errors.get(user_id, {})
        if account_id in written and written[account_id] == outcome:
            return
        written.pop(account_id, None)
        async with self.transaction() as tx:
            await self._fence(tx, user_id)
            if outcome is None:
                await tx.execute("accounts/clear_fetch_failing", (account_id, user_id))
            else:
                await tx.execute("accounts/set_fetch_failing", (at, *outcome, account_id, user_id))
        self._fetch_errors.setdefault(user_id, {})[account_id] = outcome

    async def account_statuses(self, user_id: int) -> list[AccountStatus]:
        async with self.database.autocommit() as tx:
            rows = await tx.fetch_all("accounts/states", (user_id,))
        return [msgspec.convert({**row, "session_needed": bool(row["session_needed"])}, AccountStatus)
                for row in rows]

    @rerun_when_aborted
    async def set_account_token(self, user_id: int, account_id: int, token: str, *, fenced: bool = True) -> None:
        async with self.transaction() as tx:
            if fenced:
                await self._fence(tx, user_id)
            sealed = self._seal(token, account_id, "token")
            if not await tx.execute("accounts/set_token", (sealed, self._now(), account_id, user_id)):
                raise DatabaseError(f"account {account_id} is not an account of user {user_id}")

    # --- broker snapshot and FIFO history -----------------------------------------------------------

    @rerun_when_aborted
    async def replace_broker_snapshot(
        self,
        user_id: int,
        account_id: int,
        orders: Sequence[BrokerOrder],
        positions: Sequence[BrokerPosition],
        fetched_at: datetime,
    ) -> None:
        """Make the stored snapshot the fetched one, writing only the rows that differ from the kept one."""
        key = (user_id, account_id)
        orders, positions = tuple(orders), tuple(positions)
        kept = self._snapshots.get(key)
        order_diff = diff_rows(kept.fetched_orders if kept else None, orders)
        position_diff = diff_rows(kept.fetched_positions if kept else None, positions)
        self._snapshots.forget(key)
        if not (order_diff.empty and position_diff.empty):
            async with self._owned_account(user_id, account_id) as tx:
                await _write_diff(tx, "snapshot/delete_orders", "snapshot/delete_order_ordinals",
                                  "snapshot/insert_orders", (account_id, user_id), order_diff,
                                  lambda i: (user_id, account_id, i, fetched_at,
                                             *(getattr(orders[i], f) for f in _BROKER_ORDER_FIELDS)))
                await _write_diff(tx, "snapshot/delete_positions", "snapshot/delete_position_ordinals",
                                  "snapshot/insert_positions", (account_id, user_id), position_diff,
                                  lambda i: (user_id, account_id, i, fetched_at,
                                             *(getattr(positions[i], f) for f in _BROKER_POSITION_FIELDS)))
                await tx.execute("accounts/set_snapshot_time", (fetched_at, account_id, user_id))
        if kept is not None and order_diff.empty and position_diff.empty:
            snapshot = kept.snapshot
        else:
            snapshot = BrokerSnapshot(
                version=next_version(),
                orders=apply_diff(kept.snapshot.orders if kept else (), orders, order_diff, _as_stored),
                positions=apply_diff(kept.snapshot.positions if kept else (), positions, position_diff, _as_stored))
        self._snapshots.put(key, _KeptSnapshot(orders, positions, snapshot, fetched_at), len(orders) + len(positions))

    async def snapshot_time(self, user_id: int, account_id: int) -> datetime | None:
        """When the account's broker snapshot was last fetched; None before the first. Stored only with changed
        rows, so after a take-over it may be older than the last fetch: the protect step then waits one more book
        before judging a leg missing, never less."""
        kept = self._snapshots.get((user_id, account_id))
        if kept is not None:
            return kept.fetched_at
        async with self.database.autocommit() as tx:
            rows = await tx.fetch_all("accounts/snapshot_time", (account_id, user_id))
        return rows[0]["snapshot_fetched_at"] if rows else None

    async def broker_snapshot(self, user_id: int, account_id: int) -> BrokerSnapshot:
        """The stored snapshot: the kept one with its version, or one read from the database with a new one."""
        kept = self._snapshots.get((user_id, account_id))
        if kept is not None:
            return kept.snapshot
        async with self.database.autocommit() as tx:
            orders = await tx.fetch_all("snapshot/orders", (account_id, user_id))
            positions = await tx.fetch_all("snapshot/positions", (account_id, user_id))
        return BrokerSnapshot(version=next_version(),
                              orders=tuple(msgspec.convert(row, BrokerOrder) for row in orders),
                              positions=tuple(msgspec.convert(row, BrokerPosition) for row in positions))

    @rerun_when_aborted
    async def replace_live_history(
        self,
        user_id: int,
        account_id: int,
        matches: Sequence[Match],
        open_lots: Sequence[OpenLot],
        computed_at: datetime,
    ) -> None:
        """Make the stored FIFO rows the computed ones, writing only the rows that differ from the kept ones.
        Matches and lots equal to those written last time are not turned into rows again; the latest equal
        ones are kept, so passing them again compares them at once (a tuple equals itself)."""
        key = (user_id, account_id)
        kept = self._histories.get(key)
        source = (tuple(matches), tuple(open_lots))
        if kept is not None and kept.source == source:
            if kept.source[0] is not source[0] or kept.source[1] is not source[1]:
                self._histories.put(key, kept._replace(source=source), len(kept.computed))
            return
        rows = tuple(
            [("MATCH", m.symbol, m.direction, m.qty, m.entry_order_id, m.exit_order_id, m.entry_price,
              m.exit_price, m.realized_pnl, None, None) for m in matches]
            + [("OPEN", lot.symbol, lot.direction, lot.qty, lot.order_id, None, lot.entry_price, None, None,
                lot.mark, lot.unrealized_pnl) for lot in open_lots])
        diff = diff_rows(kept.computed if kept else None, rows)
        if diff.empty:
            self._histories.put(key, kept._replace(source=source), len(rows))
            return
        self._histories.forget(key)
        async with self._owned_account(user_id, account_id) as tx:
            await _write_diff(tx, "live_history/delete", "live_history/delete_ordinals", "live_history/insert",
                              (user_id, account_id), diff, lambda i: (user_id, account_id, i, computed_at, *rows[i]))
        stored = apply_diff(kept.stored if kept else (), rows, diff, _stored_values)
        self._histories.put(key, _KeptHistory(source, rows, stored, _history(stored, utc(computed_at))), len(rows))

    async def live_history(self, user_id: int, account_id: int) -> LiveHistory:
        kept = self._histories.get((user_id, account_id))
        if kept is not None:
            return kept.history
        async with self.database.autocommit() as tx:
            rows = await tx.fetch_all("live_history/read", (user_id, account_id))
        return _history([tuple(r[c] for c in _HISTORY_COLUMNS) for r in rows],
                        max((r["computed_at"] for r in rows), default=None))

    # --- orders -----------------------------------------------------------------------------------

    @rerun_when_aborted
    async def insert_order(self, row: OrderRow, entry_tag: Callable[[int], str] | None = None) -> int:
        now = self._now()
        row = msgspec.structs.replace(row, created_at=row.created_at or now, updated_at=row.updated_at or now)
        async with self._owned_account(row.user_id, row.account_id) as tx:
            await tx.execute("accounts/bump_orders_revision", (row.account_id, row.user_id))
            order_id = await tx.insert("orders/insert",
                                       [_order_param(f, getattr(row, f)) for f in _ORDER_INSERT_FIELDS])
            if row.regenerated_from is not None:
                claimed = await tx.execute("regenerations/claim", (order_id, now, row.user_id, row.regenerated_from))
                if claimed != 1:
                    raise StaleVersion(f"archived order {row.regenerated_from} of user {row.user_id} has no pending "
                                       "regeneration: it is placed, failed or claimed by another order")
            if entry_tag is not None:
                await tx.execute("orders/set_entry_tag", (entry_tag(order_id), order_id, row.user_id))
            return order_id

    async def order(self, user_id: int, order_id: int) -> OrderRow | None:
        async with self.database.autocommit() as tx:
            rows = await tx.fetch_all("orders/by_id", (order_id, user_id))
        return _order(rows[0]) if rows else None

    async def orders_for_accounts(self, user_id: int, account_ids: Sequence[int]) -> list[OrderRow]:
        """The user's orders on these accounts by id: the kept ones of accounts whose orders revision has not
        moved since they were read, the others read again (a revision read before the rows can only be
        older than them, so a write in between makes the next call read again, never keep stale rows)."""
        if not account_ids:
            return []
        revisions = {account_id: revision for account_id, (owner, revision)
                     in (await self._revisions.read(sorted(set(account_ids)))).items() if owner == user_id}
        current: list[OrderRow] = []
        stale = []
        for account_id, revision in revisions.items():
            kept = self._orders.get((user_id, account_id))
            if kept is not None and kept[0] == revision:
                current.extend(kept[1])
            else:
                stale.append(account_id)
        if stale:
            async with self.database.autocommit() as tx:
                rows = [_order(r) for r in await tx.fetch_all(
                    "orders/for_accounts", (user_id, *stale), counts=(len(stale),))]
            for account_id in stale:
                mine = tuple(row for row in rows if row.account_id == account_id)
                self._orders.put((user_id, account_id), (revisions[account_id], mine), len(mine))
            current.extend(rows)
        if len(revisions) > 1:
            current.sort(key=_order_id)
        return current

    async def _read_orders_revisions(self, account_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        async with self.database.autocommit() as tx:
            rows = await tx.fetch_all("accounts/orders_revisions", account_ids, counts=(len(account_ids),))
        return {row["id"]: (row["user_id"], row["orders_revision"]) for row in rows}

    @rerun_when_aborted
    async def apply_order_updates(
        self,
        user_id: int,
        account_id: int,
        updates: Sequence[OrderUpdate | tuple[int, int, Mapping[str, Any]]],
    ) -> dict[int, int]:
        now = self._now()
        marks: list[tuple[Any, ...]] = []
        prepared = []
        for order_id, expected_version, changes in updates:
            unknown = set(changes) - _UPDATABLE
            if unknown:
                raise ValueError(f"not an updatable orders column: {', '.join(sorted(unknown))}")
            if changes.keys() <= _MARK_COLUMNS:
                marks.append((order_id, expected_version, *_mark_values(changes), now))
                continue
            assignments = [
                value
                for column in UPDATABLE_ORDER_COLUMNS
                for value in ((1, _order_param(column, changes[column])) if column in changes else (0, None))
            ]
            prepared.append((order_id, expected_version, assignments))
        async with self.transaction() as tx:
            await self._fence(tx, user_id)
            await tx.execute("accounts/bump_orders_revision", (account_id, user_id))
            for order_id, expected_version, assignments in prepared:
                params = (*assignments, now, order_id, user_id, account_id, expected_version)
                if await tx.execute("orders/update", params) != 1:
                    raise StaleVersion(
                        f"order {order_id} changed since version {expected_version} was read "
                        f"(or is not an order of account {account_id}); nothing was written"
                    )
            for chunk in chunks(marks):
                updated = await tx.execute("orders/update_marks",
                                           [*(value for row in chunk for value in row), user_id, account_id],
                                           counts=(len(chunk),))
                if updated != len(chunk):
                    raise StaleVersion(
                        f"{len(chunk) - updated} of the {len(chunk)} orders whose marks moved changed since their "
                        f"versions were read (or are not orders of account {account_id}); nothing was written"
                    )
            kept = self._orders.get((user_id, account_id))
            revision = None
            if kept is not None:
                rows = await tx.fetch_all("accounts/orders_revision", (account_id, user_id))
                revision = rows[0]["orders_revision"]
        self._orders.forget((user_id, account_id))
        if kept is not None and revision == kept[0] + 1:
            self._keep_updated_orders(user_id, account_id, revision, kept[1], updates, now)
        return {order_id: expected_version + 1 for order_id, expected_version, *_ in updates}

    def _keep_updated_orders(self, user_id: int, account_id: int, revision: int, kept: tuple[OrderRow, ...],
                             updates: Sequence[OrderUpdate | tuple[int, int, Mapping[str, Any]]],
                             now: datetime) -> None:
        """Keep the account's orders as this write left them, when the kept ones were current right before it
        (nobody else wrote them in between): the next read then needs no database. Each updated row goes through
        the conversion of a read, its values as the database stores them."""
        changed = {order_id: (expected_version, changes) for order_id, expected_version, changes in updates}
        rows = []
        for row in kept:
            if row.id not in changed:
                rows.append(row)
                continue
            expected_version, changes = changed.pop(row.id)
            if row.version != expected_version:
                return
            stored = {column: _order_param(column, _as_stored_value(value)) for column, value in changes.items()}
            rows.append(_order({**msgspec.structs.asdict(row), "exit_fills": exit_fills_json(row.exit_fills),
                                **stored, "version": row.version + 1, "updated_at": now}))
        if not changed:
            self._orders.put((user_id, account_id), (revision, tuple(rows)), len(rows))

    @rerun_when_aborted
    async def record_leg_intent(
        self, user_id: int, order_id: int, leg: Leg, tag: str, expected_version: int
    ) -> int:
        if leg not in _LEGS:
            raise ValueError(f"unknown leg {leg!r}")
        params = (leg, tag, leg, tag, leg, tag, self._now(), order_id, user_id, expected_version)
        async with self.transaction() as tx:
            await self._fence(tx, user_id)
            await tx.execute("accounts/bump_orders_revision_of_order", (order_id, user_id, user_id))
            if await tx.execute("orders/record_leg_intent", params) != 1:
                raise StaleVersion(f"order {order_id} changed since version {expected_version} was read")
        return expected_version + 1

    @rerun_when_aborted
    async def archive_rejected(
        self, user_id: int, account_id: int, order_ids_with_reasons: Sequence[tuple[int, str]]
    ) -> list[dict[str, str | int | None]]:
        reasons = dict(order_ids_with_reasons)
        if not reasons:
            return []
        ids = sorted(reasons)
        archived_at = self._now()
        async with self.transaction() as tx:
            await self._fence(tx, user_id)
            await tx.execute("accounts/bump_orders_revision", (account_id, user_id))
            rows = [
                _order(r)
                for r in await tx.fetch_all(
                    "orders/for_archive", (user_id, account_id, *ids), counts=(len(ids),)
                )
            ]
            for row in rows:
                params = (reasons[row.id], archived_at, row.id, user_id, account_id)
                if await tx.execute("orders/archive_copy", params) != 1:
                    raise DatabaseError(f"order {row.id} could not be copied to orders_archive")
            found = [row.id for row in rows]
            if found and await tx.execute(
                "orders/delete_archived", (user_id, account_id, *found), counts=(len(found),)
            ) != len(found):
                raise DatabaseError("orders changed while being archived; nothing was archived")
        return [_archived(row) for row in rows]

    async def archived_orders(self, user_id: int, account_id: int) -> list[ArchivedOrderRow]:
        async with self.database.autocommit() as tx:
            rows = await tx.fetch_all("archive/for_account", (user_id, account_id))
        return [
            ArchivedOrderRow(
                order=_order(r), archive_reason=r["archive_reason"], archived_at=r["archived_at"]
            )
            for r in rows
        ]

    # --- entry regeneration -----------------------------------------------------------------------

    @rerun_when_aborted
    async def create_regenerations(
        self,
        user_id: int,
        account_ids: Sequence[int],
        strategies: Sequence[str],
        max_regenerations: int,
        backoff_s: float = 0.0,
    ) -> list[RegenerationRow]:
        if not account_ids or not strategies:
            return []
        now = self._now()
        async with self.transaction() as tx:
            await self._fence(tx, user_id)
            candidates = [
                c
                for c in await tx.fetch_all(
                    "archive/for_regeneration",
                    (user_id, *account_ids, *strategies, max_regenerations),
                    counts=(len(account_ids), len(strategies)),
                )
                if regeneration_allowed(c["attempt"], max_regenerations)
                and regeneration_due(c["archived_at"], c["attempt"], backoff_s, now)
            ]
            if not candidates:
                return []
            columns = (
                "user_id",
                "account_id",
                "archived_order_id",
                "strategy",
                "symbol",
                "exchange_segment",
                "instrument_id",
                "side",
                "quantity",
                "entry_type",
                "entry_stop_price",
                "entry_limit_price",
                "sl_stop_price",
                "tp_price",
                "attempt",
                "entry_orderstatus",
            )
            await insert_rows(
                tx, "regenerations/insert", [(*(c[k] for k in columns), now, now) for c in candidates]
            )
            archived_ids = [c["archived_order_id"] for c in candidates]
            rows = await tx.fetch_all(
                "regenerations/by_archived_ids", (user_id, *archived_ids), counts=(len(archived_ids),)
            )
        return [_regeneration(r) for r in rows]

    async def pending_regenerations(self, user_id: int, account_id: int) -> list[RegenerationRow]:
        async with self.database.autocommit() as tx:
            rows = await tx.fetch_all("regenerations/pending", (user_id, account_id))
        return [_regeneration(r) for r in rows]

    @rerun_when_aborted
    async def mark_regeneration(
        self, user_id: int, regeneration_id: int, status: RegenerationStatus, detail: int | str
    ) -> None:
        if status == "PLACED" and isinstance(detail, int) and not isinstance(detail, bool):
            outcome: tuple[int | None, str | None] = (detail, None)
        elif status == "FAILED" and isinstance(detail, str):
            outcome = (None, detail)
        else:
            raise ValueError("mark_regeneration takes ('PLACED', new order id) or ('FAILED', reason)")
        async with self.transaction() as tx:
            await self._fence(tx, user_id)
            params = (status, *outcome, self._now(), regeneration_id, user_id)
            if await tx.execute("regenerations/mark", params) != 1:
                raise StaleVersion(f"regeneration {regeneration_id} is not a pending row of user {user_id}")

    # --- users, accounts, permissions (admin) ----------------------------------------------------

    @rerun_when_aborted
    async def add_user(self, name: str) -> tuple[int, str]:
        token = new_token()
        async with self.transaction() as tx:
            if await tx.fetch_all("users/by_name", (name,)):
                raise DatabaseError(f"a user named {name!r} already exists")
            user_id = await tx.insert("users/insert", (name, hash_token(token), self._now()))
        return user_id, token

    async def ping(self) -> None:
        async with self.database.autocommit() as tx:
            await tx.fetch_all("health/ping")

    async def broker_base_urls(self) -> list[str]:
        async with self.database.autocommit() as tx:
            return [row["base_url"] for row in await tx.fetch_all("accounts/base_urls")]

    async def user_for_token(self, token: str) -> int | None:
        digest = hash_token(token)
        async with self.database.autocommit() as tx:
            row = row_of_token(await tx.fetch_all("users/by_token_hash", (digest,)), digest)
        return None if row is None else row["id"]

    async def user_id(self, name: str) -> int | None:
        async with self.database.autocommit() as tx:
            rows = await tx.fetch_all("users/by_name", (name,))
        return rows[0]["id"] if rows else None

    @rerun_when_aborted
    async def add_account(
        self,
        user_id: int,
        broker: str,
        base_url: str,
        client_id: str,
        app_key: str = "",
        secret_key: str = "",
    ) -> int:
        """The new account's id; its keys are written sealed (SecretKeyError without a keyring)."""
        now = self._now()
        if (app_key or secret_key) and self.keyring is None:
            raise SecretKeyError(NO_KEY)
        async with self.transaction() as tx:
            account_id = await tx.insert("accounts/insert", (user_id, broker, base_url, client_id, now, now))
            if app_key or secret_key:
                await tx.execute("accounts/set_secrets", (self._seal(app_key, account_id, "app_key"),
                                                          self._seal(secret_key, account_id, "secret_key"),
                                                          "", now, account_id))
            return account_id

    @rerun_when_aborted
    async def set_permissions(self, user_id: int, strategies: Sequence[str]) -> None:
        unique = sorted(set(strategies))
        async with self.transaction() as tx:
            if not await tx.fetch_all("users/cycle_flags", (user_id,)):
                raise DatabaseError(f"user {user_id} does not exist")
            await tx.execute("permissions/delete_for_user", (user_id,))
            await insert_rows(tx, "permissions/insert", [(user_id, s) for s in unique])

    @rerun_when_aborted
    async def set_paused(self, user_id: int, paused: bool, reason: str = "") -> str:
        stored = reason[:PAUSE_REASON_MAX_CHARS]
        async with self.transaction() as tx:
            if not await tx.execute("users/set_paused", (paused, stored or None, user_id)):
                raise DatabaseError(f"user {user_id} does not exist")
        return stored

    # --- user and account access (admin, and who may stay connected) ------------------------------

    async def list_users(self) -> list[UserListing]:
        async with self.database.autocommit() as tx:
            rows = await tx.fetch_all("users/list")
        return [msgspec.convert({**row, "active_accounts": int(row["active_accounts"])}, UserListing, strict=False)
                for row in rows]  # MySQL's SUM is a DECIMAL

    @rerun_when_aborted
    async def set_user_active(self, user_id: int, active: bool) -> None:
        async with self.database.autocommit() as tx:  # one idempotent UPDATE
            if not await tx.execute("users/set_active", (active, user_id)):
                raise DatabaseError(f"user {user_id} does not exist")

    @rerun_when_aborted
    async def rotate_token(self, user_id: int) -> str:
        """A new API token for the user, returned once (only its SHA-256 is stored); the old one stops working."""
        token = new_token()
        async with self.database.autocommit() as tx:
            if not await tx.execute("users/set_token_hash", (hash_token(token), user_id)):
                raise DatabaseError(f"user {user_id} does not exist")
        return token

    async def active_token_hashes(self, user_ids: Sequence[int]) -> dict[int, str]:
        wanted = sorted(set(user_ids))
        if not wanted:
            return {}
        async with self.database.autocommit() as tx:
            rows = await tx.fetch_all("users/active_token_hashes", wanted, counts=(len(wanted),))
        return {row["id"]: row["token_hash"] for row in rows}

    async def list_accounts(self, user_id: int | None = None) -> list[AccountListing]:
        async with self.database.autocommit() as tx:
            rows = await tx.fetch_all("accounts/list", (user_id, user_id))
        return [msgspec.convert(row, AccountListing, strict=False) for row in rows]

    @rerun_when_aborted
    async def set_account_active(self, account_id: int, active: bool) -> None:
        async with self.database.autocommit() as tx:  # one idempotent UPDATE
            if not await tx.execute("accounts/set_active", (active, self._now(), account_id)):
                raise DatabaseError(f"account {account_id} does not exist")

    # --- the batch API's idempotency keys ----------------------------------------------------------
    # One statement each, autocommitted: no transaction holds a lock while it waits for another, so two
    # requests with one key cannot deadlock; the random claim token tells a claim resent after a lost
    # connection (it finds its own row) from another request's. On a Galera cluster two nodes' writes of one
    # key conflict at certification (1213, when the node's own retry of the statement failed too): each of
    # these is run again, whole.

    async def claim_idempotency_key(self, user_id: int, key: str, request_sha256: str,
                                    expired_before: datetime) -> IdempotencyKey:
        return await self._claim_idempotency_key(user_id, key, request_sha256, expired_before, secrets.token_hex(16))

    @rerun_when_aborted
    async def _claim_idempotency_key(self, user_id: int, key: str, request_sha256: str, expired_before: datetime,
                                     token: str) -> IdempotencyKey:
        """The claim under `token`, drawn once for all attempts: a rerun after a statement that did commit
        finds its own row, as a claim resent after a lost connection does."""
        now = self._now()
        async with self.database.autocommit() as tx:
            await tx.execute("idempotency/purge", (user_id, expired_before))
            if not await tx.execute("idempotency/claim", (user_id, key, token, request_sha256, now)):
                await tx.execute("idempotency/take_expired", (token, request_sha256, now, user_id, key, expired_before))
            rows = await tx.fetch_all("idempotency/by_key", (user_id, key))
        if not rows:
            raise DatabaseError(f"idempotency key {key!r} of user {user_id} vanished while it was claimed")
        record = _idempotency_key(key, rows[0])
        return msgspec.structs.replace(record, claimed=record.claim_token == token)

    async def idempotency_key(self, user_id: int, key: str) -> IdempotencyKey | None:
        async with self.database.autocommit() as tx:
            rows = await tx.fetch_all("idempotency/by_key", (user_id, key))
        return _idempotency_key(key, rows[0]) if rows else None

    @rerun_when_aborted
    async def answer_idempotency_key(self, user_id: int, claim: IdempotencyKey, status: int, answer: bytes) -> None:
        async with self.database.autocommit() as tx:
            if await tx.execute("idempotency/answer",
                                (status, answer.decode("utf-8"), user_id, claim.key, claim.claim_token)) != 1:
                raise DatabaseError(f"idempotency key {claim.key!r} of user {user_id} is no longer held by this "
                                    "request; its answer was not kept")

    @rerun_when_aborted
    async def release_idempotency_key(self, user_id: int, claim: IdempotencyKey) -> None:
        async with self.database.autocommit() as tx:
            await tx.execute("idempotency/release", (user_id, claim.key, claim.claim_token))


def _idempotency_key(key: str, row: Mapping[str, Any]) -> IdempotencyKey:
    answer = row["answer"]
    return IdempotencyKey(key=key, claim_token=row["claim_token"], request_sha256=row["request_sha256"],
                          claimed_at=row["claimed_at"], answer_status=row["answer_status"],
                          answer=answer.encode("utf-8") if answer is not None else None)
