"""What a client is shown of a user's state: the orders and the PnL per account and symbol, as frames.

Read from the store after a cycle's sync (with its summary), on `subscribe` and when a client connects.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from adapters.store.port import Store
from messages.frames import OrdersFrame, PnlFrame, SymbolPnl


async def orders_frame(store: Store, user_id: int, account_ids: Sequence[int]) -> OrdersFrame:
    return OrdersFrame(orders=tuple(await store.orders_for_accounts(user_id, account_ids)) if account_ids else ())


async def pnl_frame(store: Store, user_id: int, account_ids: Sequence[int]) -> PnlFrame:
    rows: list[SymbolPnl] = []
    for account_id in account_ids:
        history = await store.live_history(user_id, account_id)
        symbols = sorted({m.symbol for m in history.matches} | {lot.symbol for lot in history.open_lots})
        for symbol in symbols:
            lots = [lot for lot in history.open_lots if lot.symbol == symbol]
            marked = [lot.unrealized_pnl for lot in lots if lot.unrealized_pnl is not None]
            rows.append(SymbolPnl(
                account_id=account_id, symbol=symbol,
                realized_pnl=sum((m.realized_pnl for m in history.matches if m.symbol == symbol), Decimal(0)),
                unrealized_pnl=sum(marked, Decimal(0)) if len(marked) == len(lots) else None,
                open_qty=sum(lot.qty if lot.direction == "LONG" else -lot.qty for lot in lots),
            ))
    return PnlFrame(rows=tuple(rows))
