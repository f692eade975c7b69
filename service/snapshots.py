"""What a client is shown of a user's state: the accounts, the orders and the PnL per account and symbol, as
frames.

Read from the store after a cycle's sync (with its summary), on `subscribe` and when a client connects,
always for every active account of the user (one the cycle could not fetch shows its last known rows). An
account's PnL rows are summed again only when its FIFO history has another version; the fair prices of its
open positions, and whether they are stale, are read for every frame (in one store call), as of its time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

import msgspec

from actors.account_memo import AccountMemo
from adapters.store.port import EventLog, Store
from domain.broker_errors import BrokerError
from domain.pnl import OpenLot
from domain.ports.broker import Broker
from domain.records import FairPrice, LiveHistory
from domain.trade import exit_fair_price, fresh_fair_price
from messages.frames import AccountsFrame, OrdersFrame, PnlFrame, ServerFrame, SymbolPnl
from service.account_view import accounts_frame
from service.recent import recent_frame


async def state_frames(store: Store, event_log: EventLog, user_id: int, now: datetime, *,
                       fair_price_max_age: timedelta) -> tuple[ServerFrame, ...]:
    """Everything the page shows, as it is now: every account's state, orders and PnL, the recent cycles."""
    return (*await account_frames(store, user_id, now, fair_price_max_age=fair_price_max_age),
            await recent_frame(event_log, user_id, now))


async def account_frames(store: Store, user_id: int, now: datetime, *, fair_price_max_age: timedelta
                         ) -> tuple[AccountsFrame, OrdersFrame, PnlFrame]:
    """The `accounts`, `orders` and `pnl` frames over every active account of the user; a fair price older than
    `fair_price_max_age` at `now` is marked stale."""
    accounts = await accounts_frame(store, user_id, now)
    account_ids = [view.account_id for view in accounts.accounts]
    return (accounts, await orders_frame(store, user_id, account_ids),
            await pnl_frame(store, user_id, account_ids, now, fair_price_max_age))


async def login_urls(store: Store, broker: Broker, user_id: int, account_ids: Sequence[int]) -> dict[int, str]:
    """The login page of each of the user's `account_ids` whose broker starts a session only with a login by hand
    (Kite: it holds the account's api key, which Kite's own login page shows in the owner's browser); an
    account whose broker has none, or cannot name it, is absent."""
    urls: dict[int, str] = {}
    for account in await store.broker_accounts(user_id, account_ids):
        try:
            url = broker.login_url(account)
        except BrokerError:
            continue
        if url:
            urls[account.account_id] = url
    return urls


async def orders_frame(store: Store, user_id: int, account_ids: Sequence[int]) -> OrdersFrame:
    return OrdersFrame(orders=tuple(await store.orders_for_accounts(user_id, account_ids)) if account_ids else ())


_SYMBOL_ROWS: AccountMemo[list[SymbolPnl]] = AccountMemo()
"""Each account's PnL rows, kept while its FIFO history keeps its version."""


async def pnl_frame(store: Store, user_id: int, account_ids: Sequence[int], now: datetime,
                    fair_price_max_age: timedelta) -> PnlFrame:
    rows: list[SymbolPnl] = []
    for account_id in account_ids:
        history = await store.live_history(user_id, account_id)
        rows.extend(_SYMBOL_ROWS.get(user_id, account_id, history.version, None,
                                     lambda h=history, a=account_id: _symbol_rows(a, h)))
    open_symbols = [row.symbol for row in rows if row.open_qty]
    fair = await store.fair_prices(open_symbols) if open_symbols else {}
    return PnlFrame(
        rows=tuple(_priced(row, fair.get(row.symbol), now, fair_price_max_age) if row.open_qty else row
                   for row in rows),
        fair_price_max_age_s=fair_price_max_age.total_seconds())


def _priced(row: SymbolPnl, fair: FairPrice | None, now: datetime, max_age: timedelta) -> SymbolPnl:
    """An open position's row with the fair price that marks it, stale when older than `max_age` at `now` (the
    rule the order steps use) or missing."""
    if fair is None:
        return msgspec.structs.replace(row, fair_price_stale=True)
    return msgspec.structs.replace(
        row, fair_price=exit_fair_price(fair, long=row.open_qty > 0), fair_price_updated_at=fair.updated_at,
        fair_price_source=fair.source, fair_price_stale=fresh_fair_price(fair, now, max_age) is None)


def _symbol_rows(account_id: int, history: LiveHistory) -> list[SymbolPnl]:
    rows: list[SymbolPnl] = []
    realized: dict[str, Decimal] = {}
    for match in history.matches:
        realized[match.symbol] = realized.get(match.symbol, Decimal(0)) + match.realized_pnl
    lots: dict[str, list[OpenLot]] = {}
    for lot in history.open_lots:
        lots.setdefault(lot.symbol, []).append(lot)
    for symbol in sorted(realized.keys() | lots.keys()):
        open_lots = lots.get(symbol, [])
        marked = [lot.unrealized_pnl for lot in open_lots if lot.unrealized_pnl is not None]
        rows.append(SymbolPnl(
            account_id=account_id, symbol=symbol, realized_pnl=realized.get(symbol, Decimal(0)),
            unrealized_pnl=sum(marked, Decimal(0)) if len(marked) == len(open_lots) else None,
            open_qty=sum(lot.qty if lot.direction == "LONG" else -lot.qty for lot in open_lots),
        ))
    return rows
